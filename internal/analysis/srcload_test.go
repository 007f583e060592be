package analysis

import (
	"context"
	"fmt"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/go/packages"
)

// TestLoadBetweenRoots loads two packages of which one reaches the other
// through a package that is not named: a step of the unnamed package
// returns a type of the named one, and it must be the very type the named
// package declares for the pipeline to check.
func TestLoadBetweenRoots(t *testing.T) {
	m, err := load(t, LoadOptions{Patterns: []string{"./between/app", "./between/lib"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Packages {
		for _, pl := range p.Pipelines {
			names = append(names, fmt.Sprintf("%s.%s:%d", p.Name, pl.Name, pl.Steps))
		}
	}
	if got, want := strings.Join(names, " "), "app.orders:2"; got != want {
		t.Errorf("pipelines %q, want %q", got, want)
	}
}

// TestLoadSharesTypes checks that named packages importing one another
// share one types.Package, and that their syntax and type information are
// filled in as go/packages fills them.
func TestLoadSharesTypes(t *testing.T) {
	l, err := LoadPackages(context.Background(), LoadOptions{
		Dir:      moduleDir(t),
		Env:      testEnv(),
		Patterns: []string{"./ok/crosspkg/..."},
	})
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]*packages.Package{}
	for _, p := range l.Packages {
		byPath[p.PkgPath] = p
		if len(p.Errors) > 0 {
			t.Errorf("%s: errors %v", p.PkgPath, p.Errors)
		}
		if len(p.Syntax) != len(p.CompiledGoFiles) || p.TypesInfo == nil || p.Types == nil || !p.Types.Complete() || p.Fset != l.Fset || p.TypesSizes == nil {
			t.Errorf("%s: incomplete: %d files of %d, info %v, types %v", p.PkgPath, len(p.Syntax), len(p.CompiledGoFiles), p.TypesInfo != nil, p.Types)
		}
	}
	app, lib := byPath["example.com/flujotest/ok/crosspkg/app"], byPath["example.com/flujotest/ok/crosspkg/lib"]
	if app == nil || lib == nil {
		t.Fatalf("loaded %v", byPath)
	}
	if got := app.Imports[lib.PkgPath]; got != lib {
		t.Errorf("app imports %p for lib, want the loaded lib %p", got, lib)
	}
	if got := app.Types.Imports(); !containsPkg(got, lib.Types) {
		t.Errorf("app's types import %v, not lib's %v", got, lib.Types)
	}
	flujo := app.Imports[FlujoPath]
	if flujo == nil || flujo.Types == nil || !flujo.Types.Complete() || flujo.Types.Scope().Lookup("Pipeline") == nil {
		t.Fatalf("app's import of %s has no complete types: %+v", FlujoPath, flujo)
	}
	if lib.Imports[FlujoPath].Types != flujo.Types {
		t.Error("app and lib see different flujo packages")
	}
}

func containsPkg(list []*types.Package, p *types.Package) bool {
	for _, q := range list {
		if q == p {
			return true
		}
	}
	return false
}

// TestLoadLeavesRootsUncompiled checks that loading a package does not
// make the go command compile it: after an edit, that compile would cost
// more than the rest of the run. The go command reports a package it has
// not built since its last change as stale; its dependencies, loaded from
// export data, are built and so not stale.
func TestLoadLeavesRootsUncompiled(t *testing.T) {
	// A source never seen before, so no earlier build can be cached.
	src := fmt.Sprintf(`package fresh

// Written at %d.

import "github.com/flujo/flujo"

func Inc(n int) int { return n + 1 }

var Incr = flujo.Func("inc", Inc)
`, time.Now().UnixNano())
	dir := tempModule(t, map[string][]byte{"fresh/fresh.go": []byte(src)})
	m, err := Load(context.Background(), LoadOptions{Dir: dir, Env: testEnv(), Patterns: []string{"./fresh"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Packages) != 1 || len(m.Packages[0].Pipelines) != 1 {
		t.Fatalf("model %+v, want one package with one pipeline", m.Packages)
	}
	stale := func(pkg string) string {
		cmd := exec.Command("go", "list", "-tags="+BuildTag, "-f", "{{.Stale}}", pkg)
		cmd.Dir, cmd.Env = dir, testEnv()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := stale("./fresh"); got != "true" {
		t.Errorf("the loaded package is stale=%s: the go command compiled it", got)
	}
	if got := stale(FlujoPath); got != "false" {
		t.Errorf("the dependency %s is stale=%s: it was not built for its export data", FlujoPath, got)
	}
}

// BenchmarkLoad500Edited measures Load on the package of 500 steps right
// after an edit: each iteration appends a comment to its source first,
// as a user saving the file before running flujogen.
func BenchmarkLoad500Edited(b *testing.B) {
	src, pattern := bigModule(b)
	dir := b.TempDir()
	for _, name := range []string{"go.mod", "go.sum", "big/big.go"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	opts := LoadOptions{Dir: dir, Env: testEnv(), Patterns: []string{pattern}}
	if _, err := Load(context.Background(), opts); err != nil { // fills the dependencies' cache
		b.Fatal(err)
	}
	big := filepath.Join(dir, "big", "big.go")
	edits := 0
	for b.Loop() {
		b.StopTimer()
		f, err := os.OpenFile(big, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		edits++
		_, err = fmt.Fprintf(f, "// edit %d at %d\n", edits, time.Now().UnixNano())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := Load(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
	}
}
