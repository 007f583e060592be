package flujo

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/flujo/flujo/runtime"
)

func newTestCore(t testing.TB, mutate func(*runtime.OptimizationConfig)) (*ExecutorCore, *runtime.FakeClock) {
	cfg := runtime.DefaultOptimizationConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	clock := runtime.NewFakeClock(time.Hour)
	c, err := NewExecutorCore(cfg, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return c, clock
}

func TestNewExecutorCoreListsEveryProblem(t *testing.T) {
	cfg := runtime.DefaultOptimizationConfig()
	cfg.ObjectPoolMaxSize = 0
	cfg.CacheTTLSeconds = -1
	cfg.EnableOptimizedTelemetry = false
	_, err := NewExecutorCore(cfg)
	var ve *runtime.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("err %v, want 3 problems", err)
	}
	for _, name := range []string{"object_pool_max_size", "cache_ttl_seconds", "enable_performance_monitoring"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestImportConfigIsAtomic(t *testing.T) {
	c, _ := newTestCore(t, nil)
	before, _ := c.ExportConfig("json")
	for _, bad := range []string{
		`{"cache_max_size": 0, "object_pool_max_size": 5}`,
		`{"cache_max_sise": 10}`,
		`{"enable_optimized_telemetry": false}`,
		`not json`,
	} {
		if err := c.ImportConfig([]byte(bad), "json"); err == nil {
			t.Errorf("%s accepted", bad)
		}
		if after, _ := c.ExportConfig("json"); string(after) != string(before) {
			t.Fatalf("rejected %s changed the config", bad)
		}
	}
	if err := c.ImportConfig([]byte(`{}`), "yaml"); err == nil {
		t.Error("yaml accepted")
	}
	if err := c.ImportConfig([]byte(`{"cache_max_size": 7, "enable_cache_optimization": true}`), "json"); err != nil {
		t.Fatal(err)
	}
	got := c.OptimizationConfig()
	if got.CacheMaxSize != 7 || !got.EnableCacheOptimization || got.ObjectPoolMaxSize != 50 {
		t.Errorf("config after import: %+v", got)
	}
	var m map[string]any
	out, _ := c.ExportConfig("json")
	if err := json.Unmarshal(out, &m); err != nil || m["cache_max_size"] != 7.0 {
		t.Errorf("export %s", out)
	}
}

func TestImportConfigTakesEffect(t *testing.T) {
	c, _ := newTestCore(t, nil)
	calls := 0
	n := Step("count", func(_ context.Context, s string) (string, error) { calls++; return s, nil }, Cache())
	run := func() bool {
		res, err := c.Execute(context.Background(), n, "x")
		if err != nil {
			t.Fatal(err)
		}
		return res.Steps[0].CacheHit
	}
	run()
	if run() {
		t.Fatal("hit with caching off")
	}
	if err := c.ImportConfig([]byte(`{"enable_cache_optimization": true}`), "json"); err != nil {
		t.Fatal(err)
	}
	run()
	if !run() {
		t.Fatal("no hit after enabling the cache")
	}
}

func TestConcurrentExecute(t *testing.T) {
	c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnableCacheOptimization = true })
	type st struct{ Seen []int }
	q := Pipeline("q",
		Step("double", func(_ context.Context, n int) (int, error) { return 2 * n, nil }, Cache()),
		Parallel("fan", func(a, b int) int { return a + b },
			Func("same", func(n int) int { return n }),
			StepS("note", func(_ context.Context, n int, s *st) (int, error) { s.Seen = append(s.Seen, n); return n, nil }),
		),
	)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				s := &st{}
				out, res, err := Run[int](context.Background(), c, q, g*100+i, WithState(s))
				if err != nil || out != 4*(g*100+i) || len(s.Seen) != 1 || res.FinalState != any(s) {
					t.Errorf("out %d err %v seen %v", out, err, s.Seen)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestExecuteErrorsBeforeRunning(t *testing.T) {
	c, _ := newTestCore(t, nil)
	called := false
	type st struct{ N int }
	n := StepS("s", func(_ context.Context, n int, _ *st) (int, error) { called = true; return n, nil })
	if _, err := c.Execute(context.Background(), n, "not an int"); !errors.As(err, new(*InputTypeError)) {
		t.Errorf("input: %v", err)
	}
	if _, err := c.Execute(context.Background(), n, 1, WithState(&struct{}{})); !errors.As(err, new(*StateTypeError)) {
		t.Errorf("state: %v", err)
	}
	if called {
		t.Error("a step ran")
	}
	res, err := c.Execute(context.Background(), n, 1)
	if err != nil || res.FinalState.(*st) == nil {
		t.Errorf("a run without WithState gets a fresh state: %v %v", err, res.FinalState)
	}
	if _, _, err := Run[string](context.Background(), c, n, 1); err == nil {
		t.Error("Run[string] of an int output")
	}
}

func TestCloseWaitsAndRefuses(t *testing.T) {
	defer goleak.VerifyNone(t)
	c, err := NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	// The step ignores its context: after the timeout the attempt is
	// abandoned, and Close must wait for its goroutine.
	stubborn := Step("stubborn", func(_ context.Context, n int) (int, error) { <-release; return n, nil },
		Timeout(time.Millisecond), Retries(0))
	if _, err := c.Execute(context.Background(), stubborn, 1); !errors.As(err, new(*StepTimeoutError)) {
		t.Fatalf("err %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := c.Close(ctx); err == nil {
		t.Fatal("Close returned while a step goroutine runs")
	}
	if _, err := c.Execute(context.Background(), stubborn, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Execute after Close: %v", err)
	}
	close(release)
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCancellationLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	c, err := NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		t.Fatal(err)
	}
	block := func(ctx context.Context, n int) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
	fan := Pipeline("p",
		Parallel("fan", func(a, b int) int { return a + b }, Step("b1", block), Step("b2", block)),
		Func("list", func(n int) []int { return []int{n, n} }),
		Map[int, int]("m", Step("b3", block), Concurrency(4)),
	)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(5 * time.Millisecond); cancel() }()
	if _, err := c.Execute(ctx, fan, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(5 * time.Millisecond); cancel() }()
	if _, err := c.Execute(ctx, fan.(*pipelineNode).nodes[2], []int{1, 2, 3, 4, 5}); !errors.Is(err, context.Canceled) {
		t.Fatalf("map: err %v", err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestExecuteWithMonitoring(t *testing.T) {
	c, clock := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnableCacheOptimization = true })
	n := Pipeline("p",
		Step("slow", func(_ context.Context, n int) (int, error) { clock.Advance(3 * time.Millisecond); return n, nil }, Cache()),
		Step("flaky", func() func(context.Context, int) (int, error) {
			calls := 0
			return func(_ context.Context, n int) (int, error) {
				calls++
				if calls%2 == 1 {
					return 0, errors.New("odd")
				}
				return n, nil
			}
		}()),
	)
	_, m, err := c.ExecuteWithMonitoring(context.Background(), n, 1)
	if err != nil || m.ExecutionTimeMs != 3 || m.CacheHit || m.Attempts != 3 || m.MemoryUsageMb <= 0 {
		t.Fatalf("err %v metrics %+v", err, m)
	}
	_, m, _ = c.ExecuteWithMonitoring(context.Background(), n, 1)
	if !m.CacheHit || m.Attempts != 2 {
		t.Fatalf("metrics %+v, want a hit and 0+2 attempts", m)
	}
	b, _ := json.Marshal(m)
	for _, k := range []string{"execution_time_ms", "memory_usage_mb", "cache_hit", "attempts"} {
		if !strings.Contains(string(b), `"`+k+`"`) {
			t.Errorf("%s lacks %s", b, k)
		}
	}
}

func TestCompositeTimeoutAndValidation(t *testing.T) {
	c, _ := newTestCore(t, nil)
	block := Step("block", func(ctx context.Context, n int) (int, error) { <-ctx.Done(); return 0, ctx.Err() }, Retries(0))
	res, err := c.Execute(context.Background(), Pipeline("p", block).With(Timeout(time.Millisecond)), 1)
	if !errors.As(err, new(*StepTimeoutError)) || res.Success {
		t.Fatalf("err %v", err)
	}
	v := Pipeline("p", Func("id", func(n int) int { return n })).With(Validate(func(n int) error {
		if n > 1 {
			return errors.New("too big")
		}
		return nil
	}), Fallback(Pipeline("fb", Func("zero", func(int) int { return 0 }))))
	out, res, err := Run[int](context.Background(), c, v, 5)
	if _, ok := res.Step("fb"); err != nil || out != 0 || !ok {
		t.Fatalf("out %d err %v", out, err)
	}
}

func TestPanicsInUserCallbacks(t *testing.T) {
	c, _ := newTestCore(t, nil)
	n := Branch("b", func(int) string { panic("chooser") }, map[string]Node{"x": Func("x", func(n int) int { return n })})
	_, err := c.Execute(context.Background(), n, 1)
	var p *PanicError
	if !errors.As(err, &p) || p.Value != "chooser" || len(p.Stack) == 0 {
		t.Fatalf("err %v", err)
	}
}

// pricedReply reports usage with a value receiver: calling Usage on a nil
// *pricedReply panics.
type pricedReply struct{ cost float64 }

func (r pricedReply) Usage() Usage { return Usage{Cost: r.cost} }

func noReply(context.Context, int) (*pricedReply, error) { return nil, nil }

func mustBeCheap(r *pricedReply) error {
	if r.cost > 1 {
		return errors.New("too dear")
	}
	return nil
}

// TestPanicsInValidatorsAndUsage: a leaf's validators and its output's Usage
// method are user code the executor calls on every output. A panic there
// fails the attempt with a *PanicError, as one in the step function does,
// and a composite's validator fails the node; none escapes the run, also
// from a Parallel branch's goroutine, where it would end the process.
func TestPanicsInValidatorsAndUsage(t *testing.T) {
	c, _ := newTestCore(t, nil)
	ctx := context.Background()
	join := func(a, b int) int { return a + b }
	id := Func("id", func(n int) int { return n })
	cases := map[string]Node{
		"validator":          Step("reply", noReply, Retries(0), Validate(mustBeCheap)),
		"usage":              Step("reply", noReply, Retries(0)),
		"validator, branch":  Parallel("fan", func(a, b *pricedReply) int { return 0 }, Step("reply", noReply, Retries(0), Validate(mustBeCheap)), Step("other", noReply, Retries(0))),
		"composite":          Pipeline("p", id).With(Validate(func(int) error { panic("composite validator") })),
		"composite, branch":  Parallel("fan", join, Pipeline("p", id).With(Validate(func(int) error { panic("composite validator") })), Func("q", func(n int) int { return n })),
		"usage, with a cost": Pipeline("p", Step("reply", noReply, Retries(0))),
	}
	for name, n := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := c.Execute(ctx, n, 1, WithUsageLimits(UsageLimits{TotalCostLimit: 10}))
			var p *PanicError
			if !errors.As(err, &p) || len(p.Stack) == 0 || res == nil || res.Success {
				t.Fatalf("err %v; want the run failed by a *PanicError", err)
			}
		})
	}
}

func TestCloseWithEveryComponentLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableCacheOptimization, cfg.CacheCompression, cfg.EnableAutomaticOptimization = true, true, true
	c, err := NewExecutorCore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := Pipeline("p",
		Step("cached", func(_ context.Context, n int) (int, error) { return n, nil }, Cache()),
		Parallel("fan", func(a, b int) int { return a + b }, Func("l", func(n int) int { return n }), Func("r", func(n int) int { return n })),
	)
	for i := range 20 {
		if _, err := c.Execute(context.Background(), p, i%3); err != nil {
			t.Fatal(err)
		}
	}
	// Replacing components closes the old ones.
	if err := c.ImportConfig([]byte(`{"cache_max_size": 10, "slow_execution_threshold_ms": 5}`), "json"); err != nil {
		t.Fatal(err)
	}
	c.Execute(context.Background(), p, 1)
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
