package flujo

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flujo/flujo/runtime"
)

// tickingClock advances one millisecond on every read, so a run, which
// reads the clock around its steps, takes longer than any of them.
type tickingClock struct{ ns atomic.Int64 }

func (c *tickingClock) Nanotime() int64 { return c.ns.Add(int64(time.Millisecond)) }

func runStatsDouble(_ context.Context, n int) (int, error) { return 2 * n, nil }
func runStatsInc(n int) int                                { return n + 1 }

// TestRunPercentilesAreRunLatencies: the total's percentiles describe runs,
// like its count, average and maximum, not the step executions the monitor
// merges (which made p50 fall below every run's latency).
func TestRunPercentilesAreRunLatencies(t *testing.T) {
	cfg := runtime.DefaultOptimizationConfig()
	c, err := NewExecutorCore(cfg, WithClock(&tickingClock{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	p := Pipeline("runstats", Step("double", runStatsDouble), Func("inc", runStatsInc))
	for i := range 20 {
		if _, _, err := Run[int](context.Background(), c, p, i); err != nil {
			t.Fatal(err)
		}
	}
	checkRunPercentiles(t, c.OptimizationStats())
}

func checkRunPercentiles(t *testing.T, s runtime.Stats) {
	t.Helper()
	e := s.Execution
	if e.Count != 20 || e.MaxMs == 0 {
		t.Fatalf("execution stats %+v, want 20 measured runs", e)
	}
	// A run spans its steps and reads the clock around them, so it takes
	// longer than any step execution: merging step executions into the
	// total put its percentiles below every run.
	var stepMax float64
	for _, st := range s.Steps {
		stepMax = max(stepMax, st.Execution.P50Ms)
	}
	for name, q := range map[string]float64{"p50": e.P50Ms, "p95": e.P95Ms, "p99": e.P99Ms} {
		if q <= stepMax || q > e.MaxMs*(1+runtime.HistogramRelativeError) {
			t.Errorf("%s = %v ms, want above every step's p50 (%v ms) and at most the slowest run (%v ms)", name, q, stepMax, e.MaxMs)
		}
	}
}
