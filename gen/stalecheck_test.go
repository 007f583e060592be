package gen

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/gen/testdata/stalecheck"
	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/runtime"
)

const staleDir = "github.com/flujo/flujo/gen/testdata/stalecheck"

// stalecheckModel models gen/testdata/stalecheck.
func stalecheckModel() (*analysis.Model, *analysis.Package) {
	b := newMB()
	double := b.leaf(analysis.KindStep, "double", "Double", "int", "int", retries(2))
	double.Step.Func.PkgPath = staleDir
	inc := b.leaf(analysis.KindFunc, "inc", "Inc", "int", "int", nil)
	inc.Step.Func.PkgPath = staleDir
	p := b.pipe("Doubler", b.pipeline("doubler", double, inc))
	return b.model(staleDir, "stalecheck", p)
}

func TestGoldenStalecheck(t *testing.T) {
	m, pkg := stalecheckModel()
	out, err := Generate(m, pkg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte(Header+"\n"+BuildConstraint+"\n\n")) {
		t.Errorf("output does not start with the header and the build constraint:\n%s", out[:120])
	}
	if regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`).FindIndex(bytes.SplitN(out, []byte("\n"), 2)[0]) == nil {
		t.Error("first line does not match the generated-code convention")
	}
	golden(t, filepath.Join("testdata", "stalecheck", "flujo_gen.go"), out)
}

// TestCompileAndRun runs the committed executor and the ExecutorCore on the
// same declaration and compares their results.
func TestCompileAndRun(t *testing.T) {
	ctx := context.Background()
	clock := runtime.NewFakeClock(0)
	e, err := stalecheck.NewDoublerExecutor(flujo.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	out, err := e.Execute(ctx, 3)
	if err != nil || out != 7 {
		t.Fatalf("Execute(3) = %d, %v; want 7", out, err)
	}
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig(), flujo.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(ctx)
	want, werr := core.Execute(ctx, stalecheck.Doubler, 3)
	got, gerr := e.ExecuteResult(ctx, 3)
	if (werr == nil) != (gerr == nil) || !sameResult(want, got) {
		t.Errorf("generated result %+v differs from the ExecutorCore's %+v", got, want)
	}
	if allocs := testing.AllocsPerRun(100, func() { e.Execute(ctx, 3) }); allocs != 0 {
		t.Errorf("Execute allocates %v times per run, want 0", allocs)
	}
}

// sameResult compares two results, latencies aside.
func sameResult(a, b *flujo.PipelineResult) bool {
	if a.Success != b.Success || a.Output != b.Output || a.TotalCost != b.TotalCost || a.TotalTokens != b.TotalTokens || len(a.Steps) != len(b.Steps) {
		return false
	}
	return sameSteps(a.Steps, b.Steps)
}

func sameSteps(a, b []flujo.StepResult) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Success != y.Success || x.Attempts != y.Attempts || x.Feedback != y.Feedback ||
			x.CacheHit != y.CacheHit || x.FallbackTriggered != y.FallbackTriggered || x.BranchKey != y.BranchKey ||
			x.Cost != y.Cost || x.Tokens != y.Tokens || (x.Err == nil) != (y.Err == nil) || !sameSteps(x.Steps, y.Steps) {
			return false
		}
	}
	return true
}

// TestStaleSignature changes a step's signature in a copy of the package,
// keeps the generated file, and checks that go build fails at a guard
// under the comment that says to run flujogen.
func TestStaleSignature(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	dir, err := os.MkdirTemp("testdata", "stalecopy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	src, err := os.ReadFile(filepath.Join("testdata", "stalecheck", "steps.go"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "func Double(_ context.Context, n int) (int, error)", "func Double(_ context.Context, n int) (int64, error)", 1)
	edited = strings.Replace(edited, "return 2 * n, nil", "return int64(2 * n), nil", 1)
	edited = strings.Replace(edited, `flujo.Step("double", Double, flujo.Retries(2)), flujo.Func("inc", Inc)`, `flujo.Step("double", Double, flujo.Retries(2))`, 1)
	if edited == string(src) {
		t.Fatal("the edit did not apply")
	}
	genSrc, err := os.ReadFile(filepath.Join("testdata", "stalecheck", "flujo_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "steps.go"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "flujo_gen.go"), genSrc, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "./"+filepath.ToSlash(dir))
	msg, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("go build succeeded with a stale generated file")
	}
	m := regexp.MustCompile(`flujo_gen\.go:(\d+):\d+: `).FindSubmatch(msg)
	if m == nil {
		t.Fatalf("go build failed elsewhere than in the generated file:\n%s", msg)
	}
	line, _ := strconv.Atoi(string(m[1]))
	lines := strings.Split(string(genSrc), "\n")
	found := false
	for i := line - 1; i >= 0 && i >= line-20; i-- {
		if strings.Contains(lines[i], StaleMessage) {
			found = true
			break
		}
	}
	if !found {
		t.Errorf("the failing line %d of flujo_gen.go is not under the comment %q:\n%s", line, StaleMessage, msg)
	}
}
