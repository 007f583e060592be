package gen

import (
	"context"
	"fmt"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/flujotest"
	"github.com/flujo/flujo/gen/testdata/equiv/breaker"
	"github.com/flujo/flujo/gen/testdata/equiv/cached"
	gendefaults "github.com/flujo/flujo/gen/testdata/equiv/defaults"
	"github.com/flujo/flujo/gen/testdata/equiv/packed"
	"github.com/flujo/flujo/runtime"
)

// suiteVars names the suite's package-level declarations, which the
// generated test executors are keyed by.
var suiteVars = map[flujo.Node]string{
	flujotest.FlakyDefault: "FlakyDefault", flujotest.FlakyRetries3: "FlakyRetries3", flujotest.FailOnce: "FailOnce",
	flujotest.Validated: "Validated", flujotest.Panics: "Panics", flujotest.BackoffLong: "BackoffLong",
	flujotest.TimesOut: "TimesOut", flujotest.WithFallback: "WithFallback", flujotest.WithFailedFallback: "WithFailedFallback",
	flujotest.CachedTags: "CachedTags", flujotest.BreakerFail: "BreakerFail", flujotest.BreakerFlaky: "BreakerFlaky",
	flujotest.CountTo3: "CountTo3", flujotest.CountForever: "CountForever", flujotest.CountForever2: "CountForever2",
	flujotest.RouteWithDefault: "RouteWithDefault", flujotest.RouteNoDefault: "RouteNoDefault",
	flujotest.MapEcho: "MapEcho", flujotest.MapFlakyInOrder: "MapFlakyInOrder", flujotest.Spend3: "Spend3",
	flujotest.ParallelSpend: "ParallelSpend", flujotest.StateRetry: "StateRetry", flujotest.ParallelBlocks: "ParallelBlocks",
	flujotest.History: "History", flujotest.ParallelPropagate: "ParallelPropagate", flujotest.ParallelIgnore: "ParallelIgnore",
	flujotest.CachedTagsTTL: "CachedTagsTTL", flujotest.CachedTagsShared: "CachedTagsShared",
	flujotest.FanMergeUpdate: "FanMergeUpdate", flujotest.FanKeepFirst: "FanKeepFirst", flujotest.FanNoMerge: "FanNoMerge",
}

type runnerSet struct {
	cfg     runtime.OptimizationConfig
	runners func(runtime.Clock) (map[string]runner, error)
}

type runner struct {
	run   func(context.Context, any, ...flujo.ExecOption) (*flujo.PipelineResult, error)
	stats func() runtime.Stats
	close func(context.Context) error
}

func variants() []runnerSet {
	wrap := func(cfg string, build func(runtime.Clock) (map[string]runner, error)) runnerSet {
		return runnerSet{equivVariants()[cfg], build}
	}
	return []runnerSet{
		wrap("defaults", func(c runtime.Clock) (map[string]runner, error) {
			m, err := gendefaults.FlujogenRunners(flujo.WithClock(c))
			return runnersOf(m, func(r gendefaults.FlujogenRunner) runner { return runner{r.Run, r.Stats, r.Close} }), err
		}),
		wrap("breaker", func(c runtime.Clock) (map[string]runner, error) {
			m, err := breaker.FlujogenRunners(flujo.WithClock(c))
			return runnersOf(m, func(r breaker.FlujogenRunner) runner { return runner{r.Run, r.Stats, r.Close} }), err
		}),
		wrap("cached", func(c runtime.Clock) (map[string]runner, error) {
			m, err := cached.FlujogenRunners(flujo.WithClock(c))
			return runnersOf(m, func(r cached.FlujogenRunner) runner { return runner{r.Run, r.Stats, r.Close} }), err
		}),
		wrap("packed", func(c runtime.Clock) (map[string]runner, error) {
			m, err := packed.FlujogenRunners(flujo.WithClock(c))
			return runnersOf(m, func(r packed.FlujogenRunner) runner { return runner{r.Run, r.Stats, r.Close} }), err
		}),
	}
}

func runnersOf[R any](m map[string]R, conv func(R) runner) map[string]runner {
	out := make(map[string]runner, len(m))
	for k, v := range m {
		out[k] = conv(v)
	}
	return out
}

// sameCompiled reports whether a and b agree on every field that
// generation compiles in.
func sameCompiled(a, b runtime.OptimizationConfig) bool {
	am, bm := a.ToMap(), b.ToMap()
	for _, f := range runtime.ConfigFields() {
		if !f.Runtime && fmt.Sprint(am[f.Name]) != fmt.Sprint(bm[f.Name]) {
			return false
		}
	}
	return true
}

// genEngine runs the suite's declarations on generated executors.
type genEngine struct {
	t       testing.TB
	runners map[string]runner
}

func (e *genEngine) Execute(ctx context.Context, node flujo.Node, input any, opts ...flujo.ExecOption) (*flujo.PipelineResult, error) {
	name, ok := suiteVars[node]
	if !ok {
		e.t.Skipf("%q is not a package-level declaration: no generated executor", node.Name())
	}
	r, ok := e.runners[name]
	if !ok {
		e.t.Skipf("%s was not generated", name)
	}
	return r.run(ctx, input, opts...)
}

func newGenEngine(t testing.TB, cfg runtime.OptimizationConfig, clock runtime.Clock) flujotest.Engine {
	for _, v := range variants() {
		if !sameCompiled(v.cfg, cfg) {
			continue
		}
		rs, err := v.runners(clock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			for _, r := range rs {
				if err := r.close(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
		return &genEngine{t: t, runners: rs}
	}
	t.Skip("no generated variant for this configuration")
	return nil
}

// TestGeneratedSemantics runs the semantics suite on generated executors.
func TestGeneratedSemantics(t *testing.T) { flujotest.RunSemantics(t, newGenEngine) }
