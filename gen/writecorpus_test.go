package gen

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/schema"
)

// TestWriteCorpusEngines is the write-set corpus's differential test:
// every case of gen/testdata/writecorpus runs alone in a Parallel under
// every merge strategy, on the ExecutorCore and on the generated executor,
// from equal fresh states, and the results and final states must be equal
// (go-cmp). A field missing from a case's static write set shows up here as
// a write the generated executor loses or leaks.
//
// The executors of ~160 cases x 4 strategies are ~130k generated lines, too
// many to commit, so the test copies the corpus into a temporary module
// that uses this checkout, generates its executors there, and runs the
// corpus's engines_test.go in a `go test` subprocess (not -race, with the
// corpus package compiled -N -l: it is the build that costs).
//
// To add a case, write a func(context.Context, In, *State) (In, error) in
// testdata/writecorpus/cases.go (a name starting with Read declares that it
// writes nothing), or a write or form in writecorpus_gen_test.go, then run
// go test ./gen -run TestWriteCorpusSources -update. Run the corpus alone
// with go test ./gen -run 'TestWriteCorpus' and ./internal/analysis -run
// TestWriteCorpusSound (the cheap soundness check of the analysis alone).
func TestWriteCorpusEngines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ~130k generated lines; make test runs it")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(root, "gen", writeCorpusDir)
	files, err := filepath.Glob(filepath.Join(src, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod := "module flujo.test/writecorpus\n\ngo 1.26.8\n\nrequire (\n\tgithub.com/flujo/flujo v0.0.0\n\tgithub.com/google/go-cmp v0.7.0\n)\n\nreplace github.com/flujo/flujo => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off", "GOTOOLCHAIN=local")

	m, err := analysis.Load(context.Background(), analysis.LoadOptions{Dir: dir, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	out, err := GenerateWith(m, m.Packages[0], writeCorpusConfig(), Options{Runners: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "flujo_gen.go"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "test", "-v", "-count=1", "-trimpath", "-tags", "writecorpus_engines",
		"-gcflags", "flujo.test/writecorpus=-N -l", "-run", "^TestEngines$", ".")
	cmd.Dir, cmd.Env = dir, env
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the engines differ on the write corpus (%v):\n%s", err, res)
	}
	for _, l := range strings.Split(string(res), "\n") {
		if strings.HasPrefix(l, "writecorpus:") {
			t.Log(l)
		}
	}
}

// writeCorpusConfig is the corpus's configuration: the defaults, with the
// components that add generated code but play no part in state merging
// off, so that the corpus builds faster.
func writeCorpusConfig() *schema.Config {
	cfg := schema.Default()
	o := &cfg.Optimization
	o.EnableObjectPool, o.EnableMemoryOptimization, o.EnableConcurrencyOptimization = false, false, false
	o.EnablePerformanceMonitoring, o.EnableOptimizedErrorHandling, o.EnableCircuitBreaker = false, false, false
	return cfg
}
