package analysis

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/flujo/flujo/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// testModule copies the testdata module, once per test binary, to a fixed
// directory under the system's temporary directory, pointing its flujo
// requirement at this checkout: loads neither write to the source tree nor
// need the network, and files are rewritten only when they change, so the
// go command's build cache keeps their export data between runs.
var testModule = sync.OnceValues(func() (string, error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return "", err
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("flujo-analysis-testdata-%x", sha256.Sum256([]byte(root))))
	return dir, syncTree("testdata", dir, func(rel string, data []byte) []byte {
		if rel == "go.mod" {
			return bytes.ReplaceAll(data, []byte("=> ../../.."), []byte("=> "+root))
		}
		return data
	})
})

// syncTree makes dst a copy of src without its golden directory, passing
// each file through edit, writing only files whose contents differ and
// removing files src does not have.
func syncTree(src, dst string, edit func(rel string, data []byte) []byte) error {
	want := map[string]bool{}
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if rel == "golden" {
				return filepath.SkipDir
			}
			return nil
		}
		want[rel] = true
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		data = edit(filepath.ToSlash(rel), data)
		out := filepath.Join(dst, rel)
		if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, data) {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		tmp := out + ".tmp" + strconv.Itoa(os.Getpid())
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, out)
	})
	if err != nil {
		return err
	}
	return filepath.WalkDir(dst, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dst, path)
		if !want[rel] {
			return os.Remove(path)
		}
		return nil
	})
}

// testEnv lets the go command complete go.mod and go.sum from the module
// cache, offline.
func testEnv() []string {
	return append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off")
}

func moduleDir(t testing.TB) string {
	t.Helper()
	dir, err := testModule()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func load(t testing.TB, opts LoadOptions) (*Model, error) {
	t.Helper()
	opts.Dir = moduleDir(t)
	opts.Env = testEnv()
	return Load(context.Background(), opts)
}

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the analysis output (go test -update rewrites it):\n%s", path, diffLines(string(want), string(got)))
	}
}

// diffLines shows the first lines where want and got differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			shown++
		}
	}
	return b.String()
}

// scrub replaces the temporary module directory with a fixed name.
func scrub(t testing.TB, data []byte) []byte {
	dir := moduleDir(t)
	return bytes.ReplaceAll(data, []byte(dir), []byte("$MODULE"))
}

// packageJSON renders one package of the model with the types it refers
// to, for a readable golden file per package.
func packageJSON(t *testing.T, m *Model, p *Package) []byte {
	t.Helper()
	pkgData, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]*Type{}
	var visit func(k string)
	visit = func(k string) {
		tp, ok := m.Types[k]
		if !ok || used[k] != nil {
			return
		}
		used[k] = tp
		for _, f := range tp.Fields {
			visit(f.Type)
		}
		visit(tp.Elem)
		visit(tp.MapKey)
		for _, a := range tp.TypeArgs {
			visit(a)
		}
	}
	// Every key the package mentions appears as a JSON string.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(v[k])
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case string:
			visit(v)
		}
	}
	var generic any
	if err := json.Unmarshal(pkgData, &generic); err != nil {
		t.Fatal(err)
	}
	walk(generic)
	out, err := json.MarshalIndent(struct {
		Package *Package         `json:"package"`
		Types   map[string]*Type `json:"types"`
	}{p, used}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(scrub(t, out), '\n')
}

// TestGoldenModels analyses every package under testdata/ok in one load
// and compares each package's model with its golden file.
func TestGoldenModels(t *testing.T) {
	m, err := load(t, LoadOptions{Patterns: []string{"./ok/..."}, Config: okConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Packages) == 0 {
		t.Fatal("no packages")
	}
	for _, p := range m.Packages {
		name := strings.TrimPrefix(p.Path, "example.com/flujotest/ok/")
		t.Run(name, func(t *testing.T) {
			golden(t, "ok_"+strings.ReplaceAll(name, "/", "_")+".json", packageJSON(t, m, p))
		})
	}
}

// TestModelDoesNotDependOnPatterns: a package analysed alone, as
// //go:generate runs flujogen in its folder, has the model it has when
// analysed with every package of its module, as flujogen check ./... does.
// crosspkg/app uses a node variable of crosspkg/lib and a StepS whose
// writes only lib's source tells: the analysis loads that source.
func TestModelDoesNotDependOnPatterns(t *testing.T) {
	m, err := load(t, LoadOptions{Patterns: []string{"./ok/crosspkg/app"}, Config: okConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Packages) != 1 {
		t.Fatalf("%d packages, want app alone", len(m.Packages))
	}
	want, err := os.ReadFile(filepath.Join("testdata", "golden", "ok_crosspkg_app.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := packageJSON(t, m, m.Packages[0]); !bytes.Equal(got, want) {
		t.Errorf("app alone differs from app among ./ok/...:\n%s", got)
	}
}

// okConfig has step overrides that are valid for the ok packages.
func okConfig() *schema.Config {
	c := schema.Default()
	retries, cache := 4, true
	c.Steps["triage.classify"] = schema.StepOverride{Retries: &retries, Cache: &cache}
	return c
}

// TestGoldenErrors analyses every package under testdata/errors in one
// load and compares the errors of each package with its golden file.
func TestGoldenErrors(t *testing.T) {
	_, err := load(t, LoadOptions{Patterns: []string{"./errors/..."}, Config: errorsConfig()})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want an ErrorList, got %v", err)
	}
	byCase := map[string][]string{}
	for _, e := range list {
		parts := strings.SplitN(e.File, "/", 3)
		if len(parts) < 3 || parts[0] != "errors" {
			t.Errorf("error outside the errors packages: %v", e)
			continue
		}
		byCase[parts[1]] = append(byCase[parts[1]], e.Error())
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "errors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range entries {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		t.Run(name, func(t *testing.T) {
			lines := byCase[name]
			if len(lines) == 0 {
				t.Fatalf("no errors reported for testdata/errors/%s", name)
			}
			golden(t, "errors_"+name+".txt", []byte(strings.Join(lines, "\n")+"\n"))
		})
	}
}

// errorsConfig has step overrides that the errors packages violate.
func errorsConfig() *schema.Config {
	c := schema.Default()
	cache := true
	c.Steps["cfgstate.count"] = schema.StepOverride{Cache: &cache}
	c.Steps["cfghash.call"] = schema.StepOverride{Cache: &cache}
	retries := 2
	c.Steps["misspelt.fetch"] = schema.StepOverride{Retries: &retries}   // the step is "fetcher"
	c.Steps["misspelt.twice"] = schema.StepOverride{Retries: &retries}   // a Loop
	c.Steps["misspelt.fetcher"] = schema.StepOverride{Retries: &retries} // fine
	c.Steps["elsewhere.fetch"] = schema.StepOverride{Retries: &retries}  // no such pipeline here
	return c
}

// TestLoadErrors checks that the packages' own errors are reported with
// their positions, without repeats, and that errors without a position
// carry no "-:" prefix.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
	}{
		{"typeerr", []string{"./loaderr/typeerr"}},
		{"nosuchdir", []string{"./loaderr/nosuchdir"}},
		{"notloaded", []string{"./loaderr/notloaded"}},
		{"depbroken", []string{"./loaderr/depbroken/direct"}},
		{"depbrokenmid", []string{"./loaderr/depbroken/viamid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, LoadOptions{Patterns: tt.patterns})
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("want an ErrorList, got %v", err)
			}
			for _, e := range list {
				if strings.HasPrefix(e.Error(), "-") {
					t.Errorf("error with a \"-\" position: %q", e.Error())
				}
			}
			golden(t, "load_"+tt.name+".txt", append(scrub(t, []byte(list.Error())), '\n'))
		})
	}
}

// tempModule writes a module that requires this checkout of flujo, with
// the files, and returns its directory.
func tempModule(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join("testdata", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join("testdata", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files["go.mod"] = bytes.ReplaceAll(mod, []byte("=> ../../.."), []byte("=> "+root))
	files["go.sum"] = sum
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
