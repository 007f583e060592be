package flujotest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/runtime"
)

// limiterPatience bounds the waits of the limiter rules; reaching it is the
// failure (a throttled burst, a caller left waiting), never a measurement.
const limiterPatience = 10 * time.Second

// TestIOBoundBurstRunsConcurrently: with the default configuration, 64
// concurrent runs of a step that waits on its upstream are all inside the
// step at once: the adaptive limiter does not throttle I/O-bound steps.
func TestIOBoundBurstRunsConcurrently(t *testing.T, f EngineFactory) {
	const callers = 64
	e := f(t, runtime.DefaultOptimizationConfig(), runtime.SystemClock{})
	g := NewGathering(callers, limiterPatience)
	errs := make(chan error, callers)
	for range callers {
		go func() {
			_, err := e.Execute(context.Background(), IOBurst, Arrival{G: g})
			errs <- err
		}()
	}
	for range callers {
		if err := <-errs; err != nil {
			t.Fatalf("a run of the burst: %v", err)
		}
	}
}

// limitedConfig is a fixed limit of one permit.
func limitedConfig() runtime.OptimizationConfig {
	c := runtime.DefaultOptimizationConfig()
	c.EnableConcurrencyOptimization = false
	one := 1
	c.MaxConcurrentExecutions = &one
	return c
}

// TestLimiterRejectsPastFullQueue: with max_concurrent_executions 1 and the
// permit held, runtime.FixedLimiterMinQueue callers wait and every caller
// past them is rejected at once: a failed step whose error is a
// *flujo.ConcurrencyLimitError (errors.Is runtime.ErrLimiterRejected), no
// attempt made. Once the permit frees, the waiting callers all run.
func TestLimiterRejectsPastFullQueue(t *testing.T, f EngineFactory) {
	const extra = 8
	callers := 1 + runtime.FixedLimiterMinQueue + extra
	e := f(t, limitedConfig(), runtime.SystemClock{})
	g := NewGathering(callers, limiterPatience)
	type outcome struct {
		res *flujo.PipelineResult
		err error
	}
	done := make(chan outcome, callers)
	exec := func() {
		res, err := e.Execute(context.Background(), Held, Arrival{G: g})
		done <- outcome{res, err}
	}
	go exec()
	<-g.Entered() // the one permit is held
	for range callers - 1 {
		go exec()
	}
	// Only rejections can finish while the permit is held.
	timeout := time.NewTimer(limiterPatience)
	defer timeout.Stop()
	for i := range extra {
		select {
		case o := <-done:
			var ce *flujo.ConcurrencyLimitError
			if !errors.As(o.err, &ce) || !errors.Is(o.err, runtime.ErrLimiterRejected) {
				t.Fatalf("caller %d past the full queue: %v; want a *flujo.ConcurrencyLimitError", i+1, o.err)
			}
			if o.res == nil || len(o.res.Steps) != 1 || o.res.Steps[0].Success || o.res.Steps[0].Attempts != 0 {
				t.Fatalf("rejected caller's result %+v; want one failed step with no attempt", o.res)
			}
		case <-timeout.C:
			t.Fatalf("after %v only %d of %d callers past the full queue were rejected; the rest wait", limiterPatience, i, extra)
		}
	}
	g.Open()
	for range callers - extra {
		if o := <-done; o.err != nil {
			t.Fatalf("a caller within the queue bound: %v", o.err)
		}
	}
	if g.Inside() != callers-extra {
		t.Fatalf("%d callers ran the step; want %d", g.Inside(), callers-extra)
	}
}
