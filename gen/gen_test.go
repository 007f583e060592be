package gen

import (
	"errors"
	"strings"
	"testing"

	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/schema"
)

func generateOne(t *testing.T, root *analysis.Node, mutate func(*schema.Config)) (string, error) {
	t.Helper()
	return generateMB(t, newMB(), root, mutate)
}

// generateMB generates root as pipeline P with the types of b.
func generateMB(t *testing.T, b *mb, root *analysis.Node, mutate func(*schema.Config)) (string, error) {
	t.Helper()
	p := b.pipe("P", root)
	m, pkg := b.model(ftPath, "flujotest", p)
	cfg := schema.Default()
	if mutate != nil {
		mutate(cfg)
	}
	out, err := Generate(m, pkg, cfg)
	return string(out), err
}

func TestUncacheableIsAnError(t *testing.T) {
	cacheOn := func(c *schema.Config) { c.Optimization.EnableCacheOptimization = true }
	b := newMB()
	b.types["func()"] = &analysis.Type{Key: "func()", Kind: analysis.TypeFunc}
	b.types[ftPath+".Handler"] = &analysis.Type{Key: ftPath + ".Handler", Kind: analysis.TypeStruct, PkgPath: ftPath, Name: "Handler",
		Fields: []analysis.Field{{Name: "Name", Type: "string", Exported: true}, {Name: "Do", Type: "func()", Exported: true}, {Name: "hidden", Type: "func()"}}}
	cached := func(o *analysis.Options) { o.Cache = true }
	for _, tc := range []struct {
		node *analysis.Node
		want string
	}{
		{b.leaf(analysis.KindStep, "h", "Handle", ftPath+".Handler", "int", cached), "steps.go:1:1: cannot cache this step: its input's part in.Do (func()) is a func"},
		{b.leaf(analysis.KindStepS, "s", "LogThenFlake", job, job, cached), `steps.go:1:1: step "s": a StepS cannot be cached`},
	} {
		_, err := generateMB(t, b, tc.node, cacheOn)
		var errs Errors
		if !errors.As(err, &errs) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err %v, want %q", err, tc.want)
		}
	}
	// Unexported fields count as exported ones do.
	b.types[ftPath+".Handler"].Fields = b.types[ftPath+".Handler"].Fields[:1:1]
	b.types[ftPath+".Handler"].Fields = append(b.types[ftPath+".Handler"].Fields, analysis.Field{Name: "hidden", Type: "func()"})
	if _, err := generateMB(t, b, b.leaf(analysis.KindStep, "h", "Handle", ftPath+".Handler", "int", cached), cacheOn); err == nil ||
		!strings.Contains(err.Error(), "in.hidden (func()) is a func") {
		t.Errorf("unexported func field: %v", err)
	}
	// With caching off in the config, Cache() leaves no code and is fine.
	tags := b.leaf(analysis.KindStep, "tags", "Tags", job, "[]string", cached)
	if out, err := generateMB(t, b, tags, nil); err != nil || strings.Contains(out, "ResultCache") || strings.Contains(out, "flujogenHash") {
		t.Errorf("cache off: err %v, cache code present", err)
	}
	if out, err := generateMB(t, b, tags, cacheOn); err != nil || !strings.Contains(out, "*runtime.ResultCache[[]string]") {
		t.Errorf("cache on: err %v, no cache", err)
	}
}

// TestUncopyableCachedOutputSuggestsImmutable: a cached step whose output
// generated code cannot deep-copy (a recursive type here) is an error
// that names the way out besides the ExecutorCore, ImmutableOutput, which
// then generates.
func TestUncopyableCachedOutputSuggestsImmutable(t *testing.T) {
	b := newMB()
	ring := ftPath + ".Ring"
	b.types["*"+ring] = &analysis.Type{Key: "*" + ring, Kind: analysis.TypePointer, Elem: ring}
	b.types[ring] = &analysis.Type{Key: ring, Kind: analysis.TypeStruct, PkgPath: ftPath, Name: "Ring",
		Fields: []analysis.Field{{Name: "V", Type: "int", Exported: true}, {Name: "Next", Type: "*" + ring, Exported: true}}}
	cacheOn := func(c *schema.Config) { c.Optimization.EnableCacheOptimization = true }
	step := b.leaf(analysis.KindStep, "ring", "MkRing", "int", "*"+ring, func(o *analysis.Options) { o.Cache = true })
	_, err := generateMB(t, b, step, cacheOn)
	want := `steps.go:1:1: flujogen does not yet support deep copies of the recursive type *` + ring + `; use the ExecutorCore for this pipeline, or declare step "ring" flujo.ImmutableOutput() when no caller changes its outputs, so that cache hits are not copied`
	if err == nil || err.Error() != want {
		t.Errorf("err %v\nwant %s", err, want)
	}
	step.Options.ImmutableOutput = true
	if _, err := generateMB(t, b, step, cacheOn); err != nil {
		t.Errorf("with ImmutableOutput: %v", err)
	}
}

func TestDisabledOptimizationsLeaveNoCode(t *testing.T) {
	b := newMB()
	step := b.step("flaky", "Flaky", retries(2))
	on, err := generateOne(t, step, nil)
	if err != nil {
		t.Fatal(err)
	}
	off, err := generateOne(t, step, func(c *schema.Config) {
		o := &c.Optimization
		o.EnableCircuitBreaker, o.EnableOptimizedErrorHandling = false, false
		o.EnablePerformanceMonitoring, o.EnableOptimizedTelemetry = false, false
		o.EnableMemoryOptimization, o.EnableConcurrencyOptimization = false, false
	})
	if err != nil {
		t.Fatal(err)
	}
	// The executor-wide components and the steps' breakers are the
	// kernel's, built from the configuration at run time: the configuration
	// compiled in says which are off.
	for _, tc := range []struct {
		marker      string
		inOn, inOff bool
	}{
		{"EnableCircuitBreaker = false", false, true},
		{"EnablePerformanceMonitoring = false", false, true},
		{"EnableOptimizedTelemetry = false", false, true},
	} {
		if got := strings.Contains(on, tc.marker); got != tc.inOn {
			t.Errorf("defaults: %q present %v, want %v", tc.marker, got, tc.inOn)
		}
		if got := strings.Contains(off, tc.marker); got != tc.inOff {
			t.Errorf("disabled: %q present %v, want %v", tc.marker, got, tc.inOff)
		}
	}
}

func TestOverridesCompileIn(t *testing.T) {
	b := newMB()
	step := b.step("flaky", "Flaky", retries(2))
	three, seven := 3, 7
	out, err := generateOne(t, step, func(c *schema.Config) {
		c.Steps = map[string]schema.StepOverride{"flaky.flaky": {Retries: &three, CircuitBreakerFailureThreshold: &seven}}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Attempts = 4") || !strings.Contains(out, `p.Breaker("flaky", 7, `) {
		t.Errorf("the step override did not reach the generated constants")
	}
}

// TestMergeConflictIsCheckedAtRunTime: branches that may both write a field
// under ErrorOnConflict are no generation error; the executor compares their
// copies when they ran, as the ExecutorCore does.
func TestMergeConflictIsCheckedAtRunTime(t *testing.T) {
	b := newMB()
	a1 := b.leaf(analysis.KindStepS, "a1", "WriteA", job, job, nil)
	a2 := b.leaf(analysis.KindStepS, "a2", "WriteA2", job, job, nil)
	fan := &analysis.Node{Kind: analysis.KindParallel, Name: "fan", Pos: "pipelines.go:1:1", In: tref(job), Out: tref(job), Options: defaults(),
		Children: []*analysis.Node{a1, a2}, WritesState: true, ReadsState: true,
		Parallel: &analysis.ParallelInfo{Join: fref("JoinTwo"), JoinParams: []analysis.TypeRef{tref(job), tref(job)},
			Branches:  []analysis.BranchWrites{{Branch: "a1", ReadsState: true, Fields: []string{"A"}}, {Branch: "a2", ReadsState: true, Fields: []string{"A"}}},
			Conflicts: []analysis.Conflict{{Field: "A", Branches: []int{0, 1}, Positions: []string{"steps.go:3:2", "steps.go:9:2"}}}}}
	fan.Options.Merge = analysis.ErrorOnConflict
	out, err := generateMB(t, b, fan, nil)
	if err != nil || !strings.Contains(out, "if err := e.conflictsFan(r.State, sc); err != nil") ||
		!strings.Contains(out, `Branches: [2]string{[2]string{"a1", "a2"}[first[0]-1], "a2"}`) {
		t.Errorf("ErrorOnConflict: err %v; run-time conflict check missing", err)
	}
	fan.Options.Merge = analysis.MergeUpdate
	out, err = generateMB(t, b, fan, nil)
	if err != nil || !strings.Contains(out, "r.State.A = sc.w1.A") || strings.Contains(out, "conflictsFan") {
		t.Errorf("MergeUpdate: err %v; merge code missing", err)
	}
}

// TestScopeReuseNeedsBlindSteps checks that a Parallel draws its
// cancellable context from the scope pool only when no step below it can
// see that context; otherwise every run gets its own context.WithCancel.
func TestScopeReuseNeedsBlindSteps(t *testing.T) {
	for _, tc := range []struct {
		name   string
		unused [2]bool
		pooled bool
	}{
		{"both blind", [2]bool{true, true}, true},
		{"one looks", [2]bool{true, false}, false},
		{"both look", [2]bool{false, false}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newMB()
			a1 := b.leaf(analysis.KindStep, "a1", "WriteA", job, job, nil)
			a2 := b.leaf(analysis.KindStep, "a2", "WriteA2", job, job, nil)
			a1.Step.ContextUnused, a2.Step.ContextUnused = tc.unused[0], tc.unused[1]
			fan := &analysis.Node{Kind: analysis.KindParallel, Name: "fan", Pos: "pipelines.go:1:1", In: tref(job), Out: tref(job), Options: defaults(),
				Children: []*analysis.Node{a1, a2},
				Parallel: &analysis.ParallelInfo{Join: fref("JoinTwo"), JoinParams: []analysis.TypeRef{tref(job), tref(job)},
					Branches: []analysis.BranchWrites{{Branch: "a1"}, {Branch: "a2"}}}}
			fan.Options.Merge = analysis.NoMerge
			out, err := generateMB(t, b, fan, nil)
			if err != nil {
				t.Fatal(err)
			}
			pooled := strings.Contains(out, "e.scopes.Get(ctx)")
			fresh := strings.Contains(out, "context.WithCancel(ctx)")
			if pooled != tc.pooled || fresh == tc.pooled {
				t.Errorf("scope pool used %v, context.WithCancel used %v; want pool %v", pooled, fresh, tc.pooled)
			}
		})
	}
}
