package flujo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flujo/flujo/runtime"
)

// Each test runs the same declaration with a flag on and off and shows the
// behaviour differs.

func TestFlagStepOptimization(t *testing.T) {
	p := Pipeline("p", Func("a", func(n int) int { return n }), Func("b", func(n int) int { return n }))
	for _, on := range []bool{true, false} {
		c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnableStepOptimization = on })
		for i := range 5 {
			if _, err := c.Execute(context.Background(), p, i); err != nil {
				t.Fatal(err)
			}
		}
		want := int64(5)
		if on {
			want = 1
		}
		if got := c.analyses.Load(); got != want {
			t.Errorf("enable_step_optimization=%v: %d analyses for 5 runs, want %d", on, got, want)
		}
	}
}

type flagState struct {
	Notes []string
	Count int
}

func TestFlagContextOptimization(t *testing.T) {
	p := Parallel("fan", func(a, b, c int) int { return a + b + c },
		Func("pure", func(n int) int { return n }),
		StepS("count", func(_ context.Context, n int, s *flagState) (int, error) { s.Count++; return n, nil }),
		StepS("look", func(_ context.Context, n int, s *flagState) (int, error) { return n + len(s.Notes), nil }),
	)
	for _, on := range []bool{true, false} {
		c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnableContextOptimization = on })
		st := &flagState{Notes: []string{"x"}}
		out, _, err := Run[int](context.Background(), c, p, 1, WithState(st))
		if err != nil || out != 4 || st.Count != 1 {
			t.Fatalf("on=%v: out %d err %v state %+v", on, out, err, st)
		}
		want := int64(3) // every branch gets a copy
		if on {
			want = 2 // the branch without a StepS shares the original
		}
		if got := c.stateCopies.Load(); got != want {
			t.Errorf("enable_context_optimization=%v: %d state copies, want %d", on, got, want)
		}
	}
}

func TestFlagCacheOptimization(t *testing.T) {
	calls := 0
	n := Step("s", func(_ context.Context, s string) (string, error) { calls++; return s, nil }, Cache())
	for _, on := range []bool{true, false} {
		c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnableCacheOptimization = on })
		calls = 0
		for range 3 {
			c.Execute(context.Background(), n, "x")
		}
		want := 3
		if on {
			want = 1
		}
		if calls != want {
			t.Errorf("enable_cache_optimization=%v: %d calls, want %d", on, calls, want)
		}
	}
}

func TestFlagCacheMaxSizeAndTTL(t *testing.T) {
	calls := 0
	n := Step("s", func(_ context.Context, s string) (string, error) { calls++; return s, nil }, Cache())
	keys := []string{"a", "b", "c", "d", "e", "f"}
	for _, size := range []int{2, 100} {
		c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnableCacheOptimization, c.CacheMaxSize = true, size })
		calls = 0
		for range 2 {
			for _, k := range keys {
				c.Execute(context.Background(), n, k)
			}
		}
		if size == 2 {
			// The cache evicts in its maintenance, which runs concurrently.
			st := c.OptimizationStats().Cache
			for deadline := time.Now().Add(5 * time.Second); (st.Size > 2 || st.Evictions < 4) && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
				st = c.OptimizationStats().Cache
			}
			if st.Size > 2 || st.Evictions < 4 || st.Capacity != 2 {
				t.Errorf("cache_max_size=2: %d entries, %d evictions, capacity %d", st.Size, st.Evictions, st.Capacity)
			}
		}
		if size == 100 && calls != 6 {
			t.Errorf("cache_max_size=100: %d calls for two passes over 6 keys, want 6", calls)
		}
	}
	c, clock := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnableCacheOptimization, c.CacheTTLSeconds = true, 10 })
	calls = 0
	c.Execute(context.Background(), n, "a")
	clock.Advance(10*time.Second - 1)
	c.Execute(context.Background(), n, "a")
	clock.Advance(1)
	c.Execute(context.Background(), n, "a")
	if calls != 2 {
		t.Errorf("cache_ttl_seconds=10: %d calls, want a hit before 10s and a miss at 10s", calls)
	}
}

func TestFlagCircuitBreaker(t *testing.T) {
	calls := 0
	n := Step("s", func(_ context.Context, s string) (string, error) { calls++; return "", errors.New("down") }, Retries(0))
	for _, on := range []bool{true, false} {
		c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) {
			c.EnableCircuitBreaker, c.CircuitBreakerFailureThreshold = on, 3
		})
		calls = 0
		for range 6 {
			c.Execute(context.Background(), n, "x")
		}
		want := 6
		if on {
			want = 3
		}
		if calls != want {
			t.Errorf("enable_circuit_breaker=%v: %d calls, want %d", on, calls, want)
		}
	}
}

type permanentErr struct{}

func (permanentErr) Error() string   { return "account closed" }
func (permanentErr) Permanent() bool { return true }

func TestFlagOptimizedErrorHandling(t *testing.T) {
	declared := Step("declared", func(_ context.Context, s string) (string, error) { return "", permanentErr{} }, Retries(3))
	learned := Step("learned", func(_ context.Context, s string) (string, error) { return "", errors.New("db gone") }, Retries(1))
	for _, on := range []bool{true, false} {
		c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) {
			c.EnableOptimizedErrorHandling, c.EnableCircuitBreaker = on, false
		})
		res, _ := c.Execute(context.Background(), declared, "x")
		want := 4
		if on {
			want = 1 // declared permanent: not retried
		}
		if got := res.Steps[0].Attempts; got != want {
			t.Errorf("enable_optimized_error_handling=%v: %d attempts of a permanent error, want %d", on, got, want)
		}
		var attempts []int
		for range 5 {
			res, _ := c.Execute(context.Background(), learned, "x")
			attempts = append(attempts, res.Steps[0].Attempts)
		}
		wantSeq := []int{2, 2, 2, 2, 2}
		if on {
			wantSeq = []int{2, 2, 2, 1, 1} // three failed retries class the pattern permanent
		}
		for i := range wantSeq {
			if attempts[i] != wantSeq[i] {
				t.Errorf("enable_optimized_error_handling=%v: attempts %v, want %v", on, attempts, wantSeq)
				break
			}
		}
	}
}
