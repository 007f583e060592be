package gen

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
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
	flujotest.CachedTagsTTL: "CachedTagsTTL", flujotest.CachedTagsShared: "CachedTagsShared", flujotest.CachedQuote: "CachedQuote", flujotest.CachedBox: "CachedBox",
	flujotest.FanMergeUpdate: "FanMergeUpdate", flujotest.FanKeepFirst: "FanKeepFirst", flujotest.FanNoMerge: "FanNoMerge",
	flujotest.FanErrorOnConflict: "FanErrorOnConflict", flujotest.MaybeConflict: "MaybeConflict",
	flujotest.TwoFans: "TwoFans", flujotest.FailBeforeCached: "FailBeforeCached",
	flujotest.BudgetFan: "BudgetFan", flujotest.BudgetFan4: "BudgetFan4", flujotest.BudgetMap: "BudgetMap", flujotest.BudgetHoldFan: "BudgetHoldFan", flujotest.BudgetRejected: "BudgetRejected", flujotest.BudgetRejectedRetries: "BudgetRejectedRetries", flujotest.BudgetFallback: "BudgetFallback",
	flujotest.JoinFailsAfterIgnored: "JoinFailsAfterIgnored", flujotest.FanJoinFails: "FanJoinFails", flujotest.FanBranchFails: "FanBranchFails",
	flujotest.CachedTagsWithFallback: "CachedTagsWithFallback", flujotest.PanicAtTwoDepths: "PanicAtTwoDepths",
	flujotest.GoexitStep: "GoexitStep", flujotest.GoexitTimed: "GoexitTimed", flujotest.GoexitParallel: "GoexitParallel", flujotest.GoexitMap: "GoexitMap",
	flujotest.BreakerValidated: "BreakerValidated", flujotest.BreakerUpstream: "BreakerUpstream", flujotest.BadInputRetried: "BadInputRetried", flujotest.BreakerTimesOut: "BreakerTimesOut", flujotest.BreakerPanics: "BreakerPanics", flujotest.BreakerCancels: "BreakerCancels", flujotest.BreakerCustom: "BreakerCustom", flujotest.BreakerRulePanics: "BreakerRulePanics", flujotest.BreakerRulePanicsFan: "BreakerRulePanicsFan", flujotest.CachedKeyPanics: "CachedKeyPanics", flujotest.CachedKeyPanicsNested: "CachedKeyPanicsNested", flujotest.CachedKeyPanicsFan: "CachedKeyPanicsFan",
	flujotest.IOBurst: "IOBurst", flujotest.Held: "Held",
}

type runnerSet struct {
	cfg runtime.OptimizationConfig
	// build builds the executor of the pipeline variable name, with opts
	// besides the clock; false when the file has none.
	build func(name string, clock runtime.Clock, opts ...flujo.CoreOption) (runner, bool, error)
}

type runner struct {
	run   func(context.Context, any, ...flujo.ExecOption) (*flujo.PipelineResult, error)
	stats func() runtime.Stats
	close func(context.Context) error
	// imp is the executor's ImportConfig.
	imp func([]byte, string) error
}

func variants() []runnerSet {
	return []runnerSet{
		{equivVariants()["defaults"], builder(gendefaults.FlujogenRunners(), func(r gendefaults.FlujogenRunner) runner { return runner{r.Run, r.Stats, r.Close, r.Import} })},
		{equivVariants()["breaker"], builder(breaker.FlujogenRunners(), func(r breaker.FlujogenRunner) runner { return runner{r.Run, r.Stats, r.Close, r.Import} })},
		{equivVariants()["cached"], builder(cached.FlujogenRunners(), func(r cached.FlujogenRunner) runner { return runner{r.Run, r.Stats, r.Close, r.Import} })},
		{equivVariants()["packed"], builder(packed.FlujogenRunners(), func(r packed.FlujogenRunner) runner { return runner{r.Run, r.Stats, r.Close, r.Import} })},
		// limited differs from defaults only in run-time fields: the
		// defaults file, given them by ImportConfig at construction.
		{equivVariants()["limited"], imported(builder(gendefaults.FlujogenRunners(), func(r gendefaults.FlujogenRunner) runner { return runner{r.Run, r.Stats, r.Close, r.Import} }), equivVariants()["limited"])},
	}
}

// builder adapts the constructors of one generated file.
func builder[R any](ctors map[string]func(...flujo.CoreOption) (R, error), conv func(R) runner) func(string, runtime.Clock, ...flujo.CoreOption) (runner, bool, error) {
	return func(name string, clock runtime.Clock, opts ...flujo.CoreOption) (runner, bool, error) {
		ctor, ok := ctors[name]
		if !ok {
			return runner{}, false, nil
		}
		r, err := ctor(append([]flujo.CoreOption{flujo.WithClock(clock)}, opts...)...)
		return conv(r), true, err
	}
}

// imported builds with build and then imports cfg into the executor: the
// variant of a generated file that differs from it in run-time fields only.
func imported(build func(string, runtime.Clock, ...flujo.CoreOption) (runner, bool, error), cfg runtime.OptimizationConfig) func(string, runtime.Clock, ...flujo.CoreOption) (runner, bool, error) {
	return func(name string, clock runtime.Clock, opts ...flujo.CoreOption) (runner, bool, error) {
		r, ok, err := build(name, clock, opts...)
		if err != nil || !ok {
			return r, ok, err
		}
		doc, err := cfg.Export("json")
		if err == nil {
			err = r.imp(doc, "json")
		}
		if err != nil {
			_ = r.close(context.Background())
			return runner{}, false, fmt.Errorf("importing the run-time fields of its variant into %s: %w", name, err)
		}
		return r, true, nil
	}
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

// genEngine runs the suite's declarations on generated executors, built on
// first use.
type genEngine struct {
	t       testing.TB
	set     runnerSet
	clock   runtime.Clock
	opts    []flujo.CoreOption // besides the clock
	mu      sync.Mutex
	runners map[string]runner
}

func (e *genEngine) Execute(ctx context.Context, node flujo.Node, input any, opts ...flujo.ExecOption) (*flujo.PipelineResult, error) {
	name, ok := suiteVars[node]
	if !ok {
		e.t.Skipf("%q is not a package-level declaration: no generated executor", node.Name())
	}
	// Rules may run one engine from many goroutines.
	e.mu.Lock()
	r, ok := e.runners[name]
	if !ok {
		var err error
		if r, ok, err = e.set.build(name, e.clock, e.opts...); err != nil {
			e.mu.Unlock()
			e.t.Fatal(err)
		} else if !ok {
			e.mu.Unlock()
			e.t.Skipf("%s was not generated", name)
		}
		e.runners[name] = r
	}
	e.mu.Unlock()
	return r.run(ctx, input, opts...)
}

// OptimizationStats returns the counters of the one executor the test ran;
// a test that ran several has no single set of counters.
func (e *genEngine) OptimizationStats() runtime.Stats {
	if len(e.runners) != 1 {
		e.t.Fatalf("OptimizationStats: %d generated executors ran, want 1", len(e.runners))
	}
	for _, r := range e.runners {
		return r.stats()
	}
	return runtime.Stats{}
}

func newGenEngine(t testing.TB, cfg runtime.OptimizationConfig, clock runtime.Clock) flujotest.Engine {
	return newSharedGenEngine(t, cfg, clock)
}

// newSharedGenEngine is newGenEngine whose executors take opts besides the
// clock.
func newSharedGenEngine(t testing.TB, cfg runtime.OptimizationConfig, clock runtime.Clock, opts ...flujo.CoreOption) flujotest.Engine {
	// A variant generated from cfg itself first: one whose run-time fields
	// (a fixed concurrency cap) also match.
	vs := variants()
	slices.SortStableFunc(vs, func(a, b runnerSet) int {
		return cmp.Compare(boolRank(!reflect.DeepEqual(a.cfg, cfg)), boolRank(!reflect.DeepEqual(b.cfg, cfg)))
	})
	for _, v := range vs {
		if !sameCompiled(v.cfg, cfg) {
			continue
		}
		e := &genEngine{t: t, set: v, clock: clock, opts: opts, runners: map[string]runner{}}
		t.Cleanup(func() {
			for _, r := range e.runners {
				if err := r.close(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
		return e
	}
	t.Skip("no generated variant for this configuration")
	return nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestGeneratedSemantics runs the semantics suite on generated executors.
func TestGeneratedSemantics(t *testing.T) { flujotest.RunSemantics(t, newGenEngine) }

// TestGeneratedSharedSemantics runs the rules of sharing across replicas on
// generated executors.
func TestGeneratedSharedSemantics(t *testing.T) {
	flujotest.RunSharedSemantics(t, newSharedGenEngine)
}
