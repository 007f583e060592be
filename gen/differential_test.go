package gen

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/flujotest"
	"github.com/flujo/flujo/runtime"
)

// scenario runs one declaration several times on fresh inputs.
type scenario struct {
	node   flujo.Node
	inputs func() []any // fresh inputs per engine: they carry call counters
	state  bool         // run with a fresh *flujotest.State
}

func jobs(specs ...flujotest.Job) func() []any {
	return func() []any {
		calls := flujotest.NewCalls()
		out := make([]any, len(specs))
		for i, j := range specs {
			j.Calls = calls
			out[i] = j
		}
		return out
	}
}

// differentialScenarios are deterministic runs: ParallelPropagate is left
// out because whether its sibling branch finishes before the failure
// cancels it is a race in both engines.
func differentialScenarios() []scenario {
	j := func(name string, failFirst int) flujotest.Job {
		return flujotest.Job{Name: name, FailFirst: failFirst, Cost: 0.5, Tokens: 3}
	}
	flaky := jobs(j("a", 1), j("b", 0), j("c", 2), j("d", 5))
	return []scenario{
		{node: flujotest.FlakyDefault, inputs: flaky},
		{node: flujotest.FlakyRetries3, inputs: flaky},
		{node: flujotest.FailOnce, inputs: jobs(j("a", 0), j("b", 0))},
		{node: flujotest.Validated, inputs: jobs(j("a", 1), j("b", 5))},
		{node: flujotest.Panics, inputs: jobs(j("a", 0))},
		{node: flujotest.WithFallback, inputs: jobs(j("a", 0), j("b", 0))},
		{node: flujotest.WithFailedFallback, inputs: jobs(j("a", 0))},
		{node: flujotest.CachedTags, inputs: jobs(j("x", 1), j("x", 1), j("x", 1), j("y", 0), j("x", 0))},
		{node: flujotest.CachedTagsTTL, inputs: jobs(j("x", 0), j("x", 0))},
		{node: flujotest.CachedTagsShared, inputs: jobs(j("x", 0), j("x", 0))},
		{node: flujotest.BreakerFail, inputs: jobs(j("a", 0), j("b", 0), j("c", 0), j("d", 0), j("e", 0), j("f", 0), j("g", 0), j("h", 0), j("i", 0), j("j", 0), j("k", 0), j("l", 0))},
		{node: flujotest.BreakerFlaky, inputs: jobs(j("a", 3), j("b", 3), j("c", 3), j("d", 3), j("e", 3))},
		{node: flujotest.CountTo3, inputs: func() []any { return []any{0, 2, 7} }},
		{node: flujotest.CountForever, inputs: func() []any { return []any{0} }},
		{node: flujotest.RouteWithDefault, inputs: jobs(j("lower", 0), j("upper", 0), j("sideways", 0))},
		{node: flujotest.RouteNoDefault, inputs: jobs(j("lower", 0), j("sideways", 0))},
		{node: flujotest.MapEcho, inputs: func() []any {
			calls := flujotest.NewCalls()
			var in []flujotest.Job
			for i := range 7 {
				in = append(in, flujotest.Job{Name: fmt.Sprint(i), Calls: calls, Cost: 1})
			}
			return []any{in, []flujotest.Job{}}
		}},
		{node: flujotest.MapFlakyInOrder, inputs: func() []any {
			calls := flujotest.NewCalls()
			return []any{[]flujotest.Job{{Name: "a", Calls: calls}, {Name: "b", FailFirst: 9, Calls: calls}, {Name: "c", Calls: calls}}}
		}},
		{node: flujotest.Spend3, inputs: jobs(j("a", 0))},
		{node: flujotest.ParallelSpend, inputs: jobs(j("a", 0))},
		{node: flujotest.StateRetry, inputs: jobs(j("a", 2), j("b", 9)), state: true},
		{node: flujotest.History, inputs: jobs(j("a", 0))},
		{node: flujotest.ParallelIgnore, inputs: jobs(j("a", 0))},
		{node: flujotest.FanMergeUpdate, inputs: jobs(j("a", 0), j("b", 0)), state: true},
		{node: flujotest.FanKeepFirst, inputs: jobs(j("a", 0)), state: true},
		{node: flujotest.FanNoMerge, inputs: jobs(j("a", 0)), state: true},
		{node: flujotest.TwoFans, inputs: jobs(j("a", 0), j("b", 0))},
		{node: flujotest.FailBeforeCached, inputs: jobs(j("a", 0), j("b", 0))},
		{node: flujotest.FanErrorOnConflict, inputs: jobs(j("a", 0)), state: true},
		{node: flujotest.MaybeConflict, inputs: jobs(j("x", 0), j("y", 0), j("none", 0), j("xy", 0)), state: true},
	}
}

// TestDifferential runs the suite's declarations on the ExecutorCore and on
// their generated executors, with equal inputs and fake clocks, under every
// generated configuration, and compares every result (latencies aside) and
// the stats counters.
func TestDifferential(t *testing.T) {
	ctx := context.Background()
	for _, v := range variants() {
		for name, cfg := range equivVariants() {
			// Each variant against the configuration it was generated from:
			// run-time fields (a fixed cap) are compiled in at construction.
			if !reflect.DeepEqual(cfg, v.cfg) {
				continue
			}
			t.Run(name, func(t *testing.T) {
				for _, sc := range differentialScenarios() {
					varName := suiteVars[sc.node]
					t.Run(varName, func(t *testing.T) {
						coreClock, genClock := runtime.NewFakeClock(time.Hour), runtime.NewFakeClock(time.Hour)
						core, err := flujo.NewExecutorCore(cfg, flujo.WithClock(coreClock))
						if err != nil {
							t.Fatal(err)
						}
						defer core.Close(ctx)
						gen, ok, err := v.build(varName, genClock)
						if err != nil || !ok {
							t.Fatalf("no generated executor of %s (%v)", varName, err)
						}
						defer gen.close(ctx)
						coreIn, genIn := sc.inputs(), sc.inputs()
						for i := range coreIn {
							var copts, gopts []flujo.ExecOption
							if sc.state {
								copts = append(copts, flujo.WithState(&flujotest.State{A: "orig", Log: []string{"kept"}}))
								gopts = append(gopts, flujo.WithState(&flujotest.State{A: "orig", Log: []string{"kept"}}))
							}
							want, werr := core.Execute(ctx, sc.node, coreIn[i], copts...)
							got, gerr := gen.run(ctx, genIn[i], gopts...)
							if d := diffResults(want, got); d != "" || (werr == nil) != (gerr == nil) {
								t.Errorf("run %d: errors %v / %v; results differ: %s", i, werr, gerr, d)
							}
							coreClock.Advance(time.Second)
							genClock.Advance(time.Second)
						}
						cs := core.OptimizationStats()
						if cs.Errors.Executions == 0 || (cfg.EnableOptimizedTelemetry && cs.Telemetry.Recorded == 0) {
							t.Errorf("the ExecutorCore counted nothing: %+v", cs.Errors)
						}
						if d := diffStats(cs, gen.stats()); d != "" {
							t.Errorf("stats differ:\n%s", d)
						}
					})
				}
			})
		}
	}
}

// diffResults describes how two pipeline results differ, latencies and the
// jobs' call counters aside.
func diffResults(a, b *flujo.PipelineResult) string {
	if a == nil || b == nil {
		if a != b {
			return fmt.Sprintf("result %v vs %v", a, b)
		}
		return ""
	}
	var d []string
	if a.Success != b.Success || a.TotalCost != b.TotalCost || a.TotalTokens != b.TotalTokens {
		d = append(d, fmt.Sprintf("success/cost/tokens %v %v %v vs %v %v %v", a.Success, a.TotalCost, a.TotalTokens, b.Success, b.TotalCost, b.TotalTokens))
	}
	if !reflect.DeepEqual(comparable(a.Output), comparable(b.Output)) {
		d = append(d, fmt.Sprintf("output %v vs %v", a.Output, b.Output))
	}
	if !reflect.DeepEqual(a.FinalState, b.FinalState) {
		d = append(d, fmt.Sprintf("final state %v vs %v", a.FinalState, b.FinalState))
	}
	if ta, tb := reflect.TypeOf(a.Err), reflect.TypeOf(b.Err); ta != tb {
		d = append(d, fmt.Sprintf("error type %v vs %v", ta, tb))
	}
	d = append(d, diffSteps("", a.Steps, b.Steps)...)
	return strings.Join(d, "; ")
}

func diffSteps(path string, a, b []flujo.StepResult) []string {
	if len(a) != len(b) {
		return []string{fmt.Sprintf("%s: %d vs %d step results", path, len(a), len(b))}
	}
	var d []string
	for i := range a {
		x, y := a[i], b[i]
		p := path + "/" + x.Name
		if x.Name != y.Name || x.Success != y.Success || x.Attempts != y.Attempts || x.Feedback != y.Feedback ||
			x.Cost != y.Cost || x.Tokens != y.Tokens || x.CacheHit != y.CacheHit || x.FallbackTriggered != y.FallbackTriggered ||
			x.BranchKey != y.BranchKey || reflect.TypeOf(x.Err) != reflect.TypeOf(y.Err) || reflect.TypeOf(x.OriginalError) != reflect.TypeOf(y.OriginalError) ||
			!reflect.DeepEqual(comparable(x.Output), comparable(y.Output)) {
			d = append(d, fmt.Sprintf("%s: %+v vs %+v", p, x, y))
		}
		d = append(d, diffSteps(p, x.Steps, y.Steps)...)
	}
	return d
}

// comparable drops the call counters of jobs, which differ between engines.
func comparable(v any) any {
	switch v := v.(type) {
	case flujotest.Job:
		v.Calls = nil
		return v
	case []flujotest.Job:
		out := make([]flujotest.Job, len(v))
		for i, j := range v {
			j.Calls = nil
			out[i] = j
		}
		return out
	}
	return v
}

// diffStats compares the counters of two stats snapshots; timings, memory
// and the cache's size bookkeeping (its eviction policy differs) aside.
func diffStats(a, b runtime.Stats) string {
	var d []string
	cmp := func(what string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			d = append(d, fmt.Sprintf("%s: %v vs %v", what, x, y))
		}
	}
	cmp("runs", a.Execution.Count, b.Execution.Count)
	cmp("slow runs", a.Execution.Slow, b.Execution.Slow)
	cmp("errors", a.Errors, b.Errors)
	cmp("cache", a.Cache, b.Cache)
	cmp("object pool", a.Memory.ObjectPool, b.Memory.ObjectPool)
	cmp("concurrency limit", a.Concurrency.Limit, b.Concurrency.Limit)
	cmp("concurrency max", a.Concurrency.Max, b.Concurrency.Max)
	cmp("telemetry recorded", a.Telemetry.Recorded, b.Telemetry.Recorded)
	cmp("config", a.Config, b.Config)
	var names []string
	for n := range a.Steps {
		names = append(names, n)
	}
	for n := range b.Steps {
		if _, ok := a.Steps[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		x, y := a.Steps[n], b.Steps[n]
		cmp(n+" executions", x.Execution.Count, y.Execution.Count)
		cmp(n+" slow", x.Execution.Slow, y.Execution.Slow)
		cmp(n+" errors", x.Errors, y.Errors)
		cmp(n+" cache", x.Cache, y.Cache)
		cmp(n+" breaker", x.CircuitBreaker, y.CircuitBreaker)
	}
	return strings.Join(d, "\n")
}
