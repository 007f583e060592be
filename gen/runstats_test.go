package gen

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/gen/testdata/autotune"
	"github.com/flujo/flujo/runtime"
)

// runStatsClock advances one millisecond on every read, so a run, which
// reads the clock around its steps, takes longer than any of them.
type runStatsClock struct{ ns atomic.Int64 }

func (c *runStatsClock) Nanotime() int64 { return c.ns.Add(int64(time.Millisecond)) }

// TestRunPercentilesAreRunLatencies: as in the ExecutorCore, a generated
// executor's total percentiles describe runs, not step executions.
func TestRunPercentilesAreRunLatencies(t *testing.T) {
	ctx := context.Background()
	e, err := autotune.NewTunedExecutor(flujo.WithClock(&runStatsClock{}), flujo.WithResourceSampler(lowSampler{}))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	for i := range 20 {
		if _, err := e.Execute(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	stats := e.OptimizationStats()
	s := stats.Execution
	if s.Count != 20 || s.MaxMs == 0 {
		t.Fatalf("execution stats %+v, want 20 measured runs", s)
	}
	// A run spans its steps and reads the clock around them, so it takes
	// longer than any step execution: merging step executions into the
	// total put its percentiles below every run.
	var stepMax float64
	for _, st := range stats.Steps {
		stepMax = max(stepMax, st.Execution.P50Ms)
	}
	for name, q := range map[string]float64{"p50": s.P50Ms, "p95": s.P95Ms, "p99": s.P99Ms} {
		if q <= stepMax || q > s.MaxMs*(1+runtime.HistogramRelativeError) {
			t.Errorf("%s = %v ms, want above every step's p50 (%v ms) and at most the slowest run (%v ms)", name, q, stepMax, s.MaxMs)
		}
	}
}
