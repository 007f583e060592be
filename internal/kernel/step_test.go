package kernel

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flujo/flujo/runtime"
)

// testStep returns a step of two attempts calling call, with a limiter of
// one permit, and the environment to run it in.
func testStep(t *testing.T, call func(context.Context, int, any) (int, error)) (*Step[int, int], *Env) {
	t.Helper()
	lim, err := runtime.NewLimiter(runtime.LimiterOptions{Max: 1, Min: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := &Step[int, int]{
		Leaf: &Leaf[int, int]{Name: "s", Call: call, BreakerCounts: func(error) bool { return true }},
		Core: Core{Attempts: 2, Counters: &StepCounters{}},
	}
	return s, &Env{Clock: runtime.SystemClock{}, Limiter: lim, SlowNs: new(atomic.Int64), Untimed: true}
}

// TestStepRunLeavesPooledScopeReusable: the executor's own cancellation
// checks do not mark a pooled CancelScope observed, so a run whose step never
// looks at its context gives the scope back for reuse.
func TestStepRunLeavesPooledScopeReusable(t *testing.T) {
	s, env := testStep(t, func(_ context.Context, in int, _ any) (int, error) { return in + 1, nil })
	pool, err := runtime.NewScopePool(4, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	sc := pool.Get(context.Background())
	var res runtime.StepResult
	if out, err := s.Run(sc, env, 1, Frame{}, &res); err != nil || out != 2 || !res.Success {
		t.Fatalf("Run = %d, %v, success %v", out, err, res.Success)
	}
	pool.Put(sc)
	if again := pool.Get(context.Background()); again != sc {
		t.Error("the scope was not reused: Run marked it observed")
	}
}

// TestStepRunPanicAndPermit: a panicking step function fails its attempts
// with a *runtime.PanicError and gives its permit back each time.
func TestStepRunPanicAndPermit(t *testing.T) {
	calls := 0
	s, env := testStep(t, func(context.Context, int, any) (int, error) {
		calls++
		panic("boom")
	})
	var res runtime.StepResult
	if _, err := s.Run(context.Background(), env, 1, Frame{}, &res); err != nil {
		t.Fatalf("Run aborted: %v", err)
	}
	var pe *runtime.PanicError
	if res.Success || !errors.As(res.Err, &pe) || pe.Step != "s" {
		t.Errorf("result %+v, want a *runtime.PanicError of step s", res)
	}
	if calls != 2 || res.Attempts != 2 {
		t.Errorf("%d calls, %d attempts, want 2", calls, res.Attempts)
	}
	if n := env.Limiter.InFlight(); n != 0 {
		t.Errorf("%d permits still held", n)
	}
}

// TestStepRunAllocatesNothing: a successful execution allocates nothing,
// and the result the caller passes stays where the caller keeps it (on its
// stack here): Run lets no pointer to it reach the heap.
func TestStepRunAllocatesNothing(t *testing.T) {
	s, env := testStep(t, func(_ context.Context, in int, _ any) (int, error) { return in + 1, nil })
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		var res runtime.StepResult
		if out, err := s.Run(ctx, env, 1, Frame{}, &res); err != nil || out != 2 {
			t.Fatalf("Run = %d, %v", out, err)
		}
	}); n != 0 {
		t.Errorf("%v allocations a run, want 0", n)
	}
}

// TestStepRunTimeout: an attempt that overruns the step's Timeout fails
// with a *runtime.StepTimeoutError; one within it returns its output, and
// a panic under a Timeout is a *runtime.PanicError.
func TestStepRunTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	for _, tc := range []struct {
		name string
		call func(context.Context, int, any) (int, error)
		want func(runtime.StepResult, int) bool
	}{
		{"within", func(_ context.Context, in int, _ any) (int, error) { return in + 1, nil },
			func(r runtime.StepResult, out int) bool { return r.Success && out == 2 }},
		{"overrun", func(context.Context, int, any) (int, error) { <-release; return 0, nil },
			func(r runtime.StepResult, _ int) bool {
				var te *runtime.StepTimeoutError
				return !r.Success && errors.As(r.Err, &te) && te.Step == "s"
			}},
		{"panic", func(context.Context, int, any) (int, error) { panic("boom") },
			func(r runtime.StepResult, _ int) bool {
				var pe *runtime.PanicError
				return !r.Success && errors.As(r.Err, &pe) && pe.Step == "s"
			}},
	} {
		s, env := testStep(t, tc.call)
		s.Timeout = 20 * time.Millisecond
		var res runtime.StepResult
		out, err := s.Run(context.Background(), env, 1, Frame{}, &res)
		if err != nil || !tc.want(res, out) {
			t.Errorf("%s: Run = %d, %v, result %+v", tc.name, out, err, res)
		}
		if n := env.Limiter.InFlight(); n != 0 {
			t.Errorf("%s: %d permits still held", tc.name, n)
		}
	}
}
