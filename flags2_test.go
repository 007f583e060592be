package flujo

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flujo/flujo/runtime"
)

func TestFlagOptimizedTelemetry(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := runtime.DefaultOptimizationConfig()
		cfg.EnableOptimizedTelemetry, cfg.EnablePerformanceMonitoring = on, on
		cfg.TelemetryBatchSize = 2
		sink := runtime.NewMemorySink()
		c, err := NewExecutorCore(cfg, WithSink(sink))
		if err != nil {
			t.Fatal(err)
		}
		p := Pipeline("p", Func("a", func(n int) int { return n }), Func("b", func(n int) int { return n }))
		for i := range 3 {
			c.Execute(context.Background(), p, i)
		}
		if err := c.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := 0
		if on {
			want = 6
		}
		if sink.Len() != want {
			t.Errorf("enable_optimized_telemetry=%v: %d events, want %d", on, sink.Len(), want)
		}
		if on {
			if sink.Batches() < 3 {
				t.Errorf("telemetry_batch_size=2: 6 events in %d batches", sink.Batches())
			}
			if ev := sink.Events()[0]; ev.Step != "a" || ev.Attempts != 1 || ev.Outcome != runtime.OutcomeSuccess {
				t.Errorf("event %+v", ev)
			}
		}
	}
}

func TestFlagPerformanceMonitoring(t *testing.T) {
	for _, on := range []bool{true, false} {
		c, clock := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnablePerformanceMonitoring = on })
		n := Step("slowish", func(_ context.Context, n int) (int, error) { clock.Advance(4 * time.Millisecond); return n, nil })
		for i := range 10 {
			c.Execute(context.Background(), n, i)
		}
		p50 := c.OptimizationStats().Steps["slowish"].Execution.P50Ms
		if on && (p50 < 3.9 || p50 > 4.1) {
			t.Errorf("enable_performance_monitoring=true: p50 %v ms, want 4", p50)
		}
		if !on && p50 != 0 {
			t.Errorf("enable_performance_monitoring=false: p50 %v ms, want none", p50)
		}
	}
}

// fakeSampler reports a fixed memory use.
type fakeSampler struct{ bytes atomic.Uint64 }

func (f *fakeSampler) SampleResources(s *runtime.ResourceSample) error {
	*s = runtime.ResourceSample{HeapBytes: f.bytes.Load(), TotalBytes: f.bytes.Load()}
	return nil
}

func TestFlagMemoryOptimization(t *testing.T) {
	for _, on := range []bool{true, false} {
		sampler := &fakeSampler{}
		sampler.bytes.Store(600 << 20) // above memory_pressure_threshold_mb (500)
		cfg := runtime.DefaultOptimizationConfig()
		cfg.EnableMemoryOptimization, cfg.EnableCacheOptimization = on, true
		c, err := NewExecutorCore(cfg, WithResourceSampler(sampler), WithClock(runtime.NewFakeClock(0)))
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		n := Step("s", func(_ context.Context, s string) (string, error) { calls++; return s, nil }, Cache())
		if rm := c.svc.Engine().Resources; (rm != nil) != on {
			t.Fatalf("enable_memory_optimization=%v: resource manager %v", on, rm != nil)
		} else if rm != nil {
			rm.Sample()
		}
		for range 3 {
			c.Execute(context.Background(), n, "x")
		}
		s := c.OptimizationStats()
		if on && (s.Memory.PressureLevel != runtime.StatsPressureCritical || !s.Cache.AdmissionPaused || calls != 3 || s.Concurrency.Limit != runtime.DefaultInitialLimit/4) {
			t.Errorf("on: pressure %v paused %v calls %d limit %d; want critical pressure to pause the cache and lower the limit",
				s.Memory.PressureLevel, s.Cache.AdmissionPaused, calls, s.Concurrency.Limit)
		}
		if !on && (s.Memory.PressureLevel != runtime.StatsPressureNone || s.Cache.AdmissionPaused || calls != 1) {
			t.Errorf("off: pressure %v paused %v calls %d", s.Memory.PressureLevel, s.Cache.AdmissionPaused, calls)
		}
		if err := c.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFlagConcurrencyOptimization(t *testing.T) {
	for _, on := range []bool{true, false} {
		c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) {
			c.EnableConcurrencyOptimization, c.EnableMemoryOptimization = on, false
			m := 64
			c.MaxConcurrentExecutions = &m
		})
		l := c.svc.Engine().Limiter
		start := l.Limit()
		if on && start >= 64 || !on && start != 64 {
			t.Errorf("enable_concurrency_optimization=%v: initial limit %d (max 64)", on, start)
		}
		n := Func("f", func(n int) int { return n })
		for i := range 300 {
			c.Execute(context.Background(), n, i)
		}
		if !on && l.Limit() != 64 {
			t.Errorf("fixed limiter moved to %d", l.Limit())
		}
	}
}

func TestFlagMaxConcurrentExecutions(t *testing.T) {
	for _, max := range []int{2, 8} {
		c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) {
			c.EnableConcurrencyOptimization, c.EnableMemoryOptimization = false, false
			c.MaxConcurrentExecutions = &max
		})
		var inFlight, peak atomic.Int64
		var once sync.Once
		three := make(chan struct{})
		body := Step("w", func(ctx context.Context, n int) (int, error) {
			cur := inFlight.Add(1)
			defer inFlight.Add(-1)
			for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
			}
			if cur >= 3 {
				once.Do(func() { close(three) })
			}
			select { // hold the permit until three run at once, or briefly
			case <-three:
			case <-time.After(20 * time.Millisecond):
			}
			return n, nil
		}, Retries(0))
		in := make([]int, 12)
		if _, err := c.Execute(context.Background(), Map[int, int]("m", body, Concurrency(8)), in); err != nil {
			t.Fatal(err)
		}
		if max == 2 && peak.Load() > 2 {
			t.Errorf("max_concurrent_executions=2: %d attempts in flight", peak.Load())
		}
		if max == 8 && peak.Load() < 3 {
			t.Errorf("max_concurrent_executions=8: never more than %d in flight", peak.Load())
		}
	}
}

func TestImportLowersLimitInPlace(t *testing.T) {
	c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) {
		c.EnableConcurrencyOptimization, c.EnableMemoryOptimization = false, false
		m := 8
		c.MaxConcurrentExecutions = &m
	})
	l := c.svc.Engine().Limiter
	if err := c.ImportConfig([]byte(`{"max_concurrent_executions": 3}`), "json"); err != nil {
		t.Fatal(err)
	}
	if c.svc.Engine().Limiter != l || l.Limit() != 3 {
		t.Fatalf("limit %d, same limiter %v", l.Limit(), c.svc.Engine().Limiter == l)
	}
	if err := c.ImportConfig([]byte(`{"max_concurrent_executions": 16}`), "json"); err != nil {
		t.Fatal(err)
	}
	if got := c.svc.Engine().Limiter.Limit(); got != 16 {
		t.Fatalf("raised limit %d, want 16", got)
	}
}

type keyed struct {
	Name   string
	secret int
	Score  float64
}

func TestFlagAlgorithmOptimization(t *testing.T) {
	for _, on := range []bool{true, false} {
		c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) {
			c.EnableCacheOptimization, c.EnableAlgorithmOptimization = true, on
		})
		calls := 0
		n := Step("s", func(_ context.Context, k keyed) (int, error) { calls++; return k.secret, nil }, Cache())
		// Inputs that differ in an unexported field only: the reflective
		// hasher tells them apart, canonical JSON does not see the field.
		a, _, _ := Run[int](context.Background(), c, n, keyed{Name: "x", secret: 1})
		b, _, _ := Run[int](context.Background(), c, n, keyed{Name: "x", secret: 2})
		// NaN has no JSON encoding: without the hasher the step runs uncached.
		nan := keyed{Name: "nan", Score: math.NaN()}
		Run[int](context.Background(), c, n, nan)
		Run[int](context.Background(), c, n, nan)
		if on && (a != 1 || b != 2 || calls != 3) {
			t.Errorf("enable_algorithm_optimization=true: outputs %d,%d, %d calls; want 1,2 and NaN inputs cached", a, b, calls)
		}
		if !on && (a != 1 || b != 1 || calls != 3) {
			t.Errorf("enable_algorithm_optimization=false: outputs %d,%d, %d calls; want the JSON key to merge the inputs and NaN uncached", a, b, calls)
		}
	}
}

type withPrivate struct {
	Tags    []string
	private string
}

type withTags struct{ Tags []string }

func TestFlagCacheCompression(t *testing.T) {
	for _, on := range []bool{true, false} {
		c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnableCacheOptimization, c.CacheCompression = true, on })
		// An output JSON carries is stored encoded: every hit is a fresh
		// copy, even of an ImmutableOutput step, whose hits otherwise share
		// the stored value.
		n := Step("s", func(_ context.Context, s string) (withTags, error) {
			return withTags{Tags: []string{s}}, nil
		}, Cache(), ImmutableOutput())
		Run[withTags](context.Background(), c, n, "x")
		h1, res, _ := Run[withTags](context.Background(), c, n, "x")
		h2, _, _ := Run[withTags](context.Background(), c, n, "x")
		if !res.Steps[0].CacheHit || h1.Tags[0] != "x" {
			t.Fatalf("cache_compression=%v: no hit", on)
		}
		if fresh := &h1.Tags[0] != &h2.Tags[0]; fresh != on {
			t.Errorf("cache_compression=%v: hits are fresh copies: %v", on, fresh)
		}
		// An output JSON does not carry whole is stored as a value either
		// way: its unexported field survives.
		p := Step("p", func(_ context.Context, s string) (withPrivate, error) {
			return withPrivate{Tags: []string{s}, private: "p"}, nil
		}, Cache())
		Run[withPrivate](context.Background(), c, p, "x")
		hit, res, _ := Run[withPrivate](context.Background(), c, p, "x")
		if !res.Steps[0].CacheHit || hit.private != "p" {
			t.Errorf("cache_compression=%v: hit %v, private field %q; want a hit with \"p\"", on, res.Steps[0].CacheHit, hit.private)
		}
	}
}

func TestFlagObjectPool(t *testing.T) {
	p := Parallel("fan", func(a, b int) int { return a + b }, Func("l", func(n int) int { return n }), Func("r", func(n int) int { return n }))
	for _, on := range []bool{true, false} {
		c, _ := newTestCore(t, func(c *runtime.OptimizationConfig) { c.EnableObjectPool = on })
		for i := range 10 {
			if out, _, err := Run[int](context.Background(), c, p, i); err != nil || out != 2*i {
				t.Fatalf("out %d err %v", out, err)
			}
		}
		ps := c.OptimizationStats().Memory.ObjectPool
		if on && (ps.Gets != 10 || ps.Hits < 9 || ps.Capacity != 50) {
			t.Errorf("enable_object_pool=true: pool %+v, want 10 gets reusing one object", ps)
		}
		if !on && ps.Gets != 0 {
			t.Errorf("enable_object_pool=false: pool %+v", ps)
		}
	}
}
