package analysis

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDeterministic loads and analyses the same packages twice, in two
// Load calls, and requires identical JSON.
func TestDeterministic(t *testing.T) {
	var runs [2][]byte
	for i := range runs {
		m, err := load(t, LoadOptions{Patterns: []string{"./ok/..."}, Config: okConfig()})
		if err != nil {
			t.Fatal(err)
		}
		runs[i], err = json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(runs[0], runs[1]) {
		t.Fatalf("two runs differ:\n%s", diffLines(string(runs[0]), string(runs[1])))
	}
}

// TestModelJSONRoundTrip checks that the model is plain data: decoding
// its JSON and encoding again gives the same bytes.
func TestModelJSONRoundTrip(t *testing.T) {
	m, err := load(t, LoadOptions{Patterns: []string{"./ok/..."}, Config: okConfig()})
	if err != nil {
		t.Fatal(err)
	}
	first, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := json.Unmarshal(first, &back); err != nil {
		t.Fatal(err)
	}
	second, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("round trip changed the model:\n%s", diffLines(string(first), string(second)))
	}
}

// TestTypesComplete checks that every type key the model mentions is
// described in Model.Types.
func TestTypesComplete(t *testing.T) {
	m, err := load(t, LoadOptions{Patterns: []string{"./ok/..."}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(m.Packages)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	keyFields := map[string]bool{"type": true, "recvType": true, "signature": true, "ref": true, "state": true}
	missing := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && keyFields[k] && s != "" {
					if _, ok := m.Types[s]; !ok {
						missing[s] = true
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	for k, tp := range m.Types {
		if tp.Key != k {
			t.Errorf("Types[%q].Key = %q", k, tp.Key)
		}
		for _, ref := range append([]string{tp.Elem, tp.MapKey}, tp.TypeArgs...) {
			if _, ok := m.Types[ref]; ref != "" && !ok {
				missing[ref] = true
			}
		}
		for _, f := range tp.Fields {
			if _, ok := m.Types[f.Type]; !ok {
				missing[f.Type] = true
			}
		}
	}
	for k := range missing {
		t.Errorf("type %q is referred to but not described", k)
	}
}

// bigTypes is the number of types the steps of the big package pass: real
// packages share their types between steps, a few dozen for 500 steps.
const bigTypes = 50

// writeBigPackage writes a package of n steps in dir/big: pipelines of 50
// steps mixing Step, StepS, Func and cached steps with options, each with
// its own function.
func writeBigPackage(t testing.TB, dir string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("package big\n\nimport (\n\t\"context\"\n\t\"time\"\n\n\t\"github.com/flujo/flujo\"\n)\n\n")
	b.WriteString("type State struct {\n\tCount int\n\tNames []string\n\tIndex map[string]int\n}\n\n")
	for i := range bigTypes {
		fmt.Fprintf(&b, "type T%d struct {\n\tID string\n\tN  int\n\tTags []string\n\tMeta map[string]float64\n\tNext *T%d\n}\n\n", i, i)
	}
	for i := range n {
		in, out := i%bigTypes, (i+1)%bigTypes
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "func F%d(ctx context.Context, in T%d, st *State) (T%d, error) {\n\tst.Count++\n\tst.Index[in.ID] = in.N\n\treturn T%d{ID: in.ID}, nil\n}\n\n", i, in, out, out)
		case 1:
			fmt.Fprintf(&b, "func F%d(in T%d) T%d { return T%d{ID: in.ID} }\n\n", i, in, out, out)
		default:
			fmt.Fprintf(&b, "func F%d(ctx context.Context, in T%d) (T%d, error) { return T%d{ID: in.ID, N: in.N + 1}, nil }\n\n", i, in, out, out)
		}
	}
	const per = 50
	for p := 0; p*per < n; p++ {
		fmt.Fprintf(&b, "var P%d = flujo.Pipeline(\"p%d\",\n", p, p)
		for i := p * per; i < min(n, (p+1)*per); i++ {
			switch i % 5 {
			case 0:
				fmt.Fprintf(&b, "\tflujo.StepS(\"s%d\", F%d),\n", i, i)
			case 1:
				fmt.Fprintf(&b, "\tflujo.Func(\"s%d\", F%d),\n", i, i)
			case 2:
				fmt.Fprintf(&b, "\tflujo.Step(\"s%d\", F%d, flujo.Retries(2), flujo.Cache(), flujo.Timeout(200*time.Millisecond)),\n", i, i)
			default:
				fmt.Fprintf(&b, "\tflujo.Step(\"s%d\", F%d),\n", i, i)
			}
		}
		b.WriteString(")\n\n")
	}
	if err := os.MkdirAll(filepath.Join(dir, "big"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big", "big.go"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bigModule returns a module holding a 500-step package. It lives in a
// fixed directory under the system's temporary directory, rewritten only
// when its contents change, so that the go command's build cache keeps the
// export data of its dependencies from one test run to the next.
func bigModule(t testing.TB) (dir, pattern string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(os.TempDir(), fmt.Sprintf("flujo-analysis-big-%x", sha256.Sum256([]byte(root))))
	src := t.TempDir()
	writeBigPackage(t, src, 500)
	files := map[string][]byte{}
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "go.mod" {
			data = bytes.ReplaceAll(data, []byte("=> ../../.."), []byte("=> "+root))
		}
		files[name] = data
	}
	if files["big/big.go"], err = os.ReadFile(filepath.Join(src, "big", "big.go")); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	return dir, "./big"
}

// TestBigPackage analyses a package of 500 steps, reporting the time of
// loading and of analysing.
func TestBigPackage(t *testing.T) {
	dir, pattern := bigModule(t)
	opts := LoadOptions{Dir: dir, Env: testEnv(), Patterns: []string{pattern}}
	// The first load may have the go command build the package's
	// dependencies for their export data (never the package itself); the
	// second finds them in its cache, as after an unchanged rebuild.
	start := time.Now()
	if _, err := LoadPackages(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	cold := time.Since(start)
	start = time.Now()
	l, err := LoadPackages(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	loaded := time.Now()
	m, err := Analyze(l, opts)
	if err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	steps := 0
	for _, p := range m.Packages {
		for _, pl := range p.Pipelines {
			steps += pl.Steps
		}
	}
	if steps != 500 {
		t.Fatalf("found %d steps, want 500", steps)
	}
	t.Logf("500 steps: first load %v; then load %v, analysis %v, total %v", cold.Round(time.Millisecond), loaded.Sub(start).Round(time.Millisecond),
		done.Sub(loaded).Round(time.Millisecond), done.Sub(start).Round(time.Millisecond))
}

// BenchmarkLoad500 measures Load (go/packages and analysis) on a package
// of 500 steps whose dependencies' export data the go command has cached.
func BenchmarkLoad500(b *testing.B) {
	dir, pattern := bigModule(b)
	opts := LoadOptions{Dir: dir, Env: testEnv(), Patterns: []string{pattern}}
	if _, err := Load(context.Background(), opts); err != nil { // fills the cache
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Load(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnalyze500 measures the analysis phase alone on a package of
// 500 steps.
func BenchmarkAnalyze500(b *testing.B) {
	dir, pattern := bigModule(b)
	opts := LoadOptions{Dir: dir, Env: testEnv(), Patterns: []string{pattern}}
	l, err := LoadPackages(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Analyze(l, opts); err != nil {
			b.Fatal(err)
		}
	}
}
