package gen

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/flujotest"
	"github.com/flujo/flujo/gen/testdata/hashing"
	"github.com/flujo/flujo/gen/testdata/hashing/quiet"
	"github.com/flujo/flujo/runtime"
)

// countingClock counts its readings.
type countingClock struct {
	runtime.FakeClock
	reads atomic.Int64
}

func (c *countingClock) Nanotime() int64 {
	c.reads.Add(1)
	return c.FakeClock.Nanotime()
}

// collectSink keeps the events it is sent.
type collectSink struct {
	mu     sync.Mutex
	events []runtime.Event
}

func (s *collectSink) Export(_ context.Context, batch []runtime.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, batch...)
	return nil
}

// TestClockReads: step boundaries only with monitoring or telemetry on, and
// none at all outside recorded runs without them.
func TestClockReads(t *testing.T) {
	ctx := context.Background()
	k := hashing.Key{Name: "k"}
	monitored, quietClock := &countingClock{}, &countingClock{}
	m, err := hashing.NewPlainExecutor(flujo.WithClock(monitored))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	q, err := quiet.NewPlainExecutor(flujo.WithClock(quietClock))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close(ctx)
	m.Execute(ctx, k) // warm: the breaker's clock reads at its first call
	monitored.reads.Store(0)
	for range 10 {
		m.Execute(ctx, k)
		q.Execute(ctx, k)
	}
	if got := monitored.reads.Load(); got != 20 {
		t.Errorf("monitored: %d clock reads in 10 runs, want 20 (the step's boundaries; an uncontended permit is granted at the step's start)", got)
	}
	if got := quietClock.reads.Load(); got != 0 {
		t.Errorf("without monitoring and telemetry: %d clock reads in 10 runs, want 0", got)
	}
	if res, err := q.ExecuteResult(ctx, k); err != nil || quietClock.reads.Load() != 2 {
		t.Errorf("recorded run: %v, %d clock reads, want 2 (latency %v)", err, quietClock.reads.Load(), res.Latency)
	}
}

// TestTelemetryAndStats: events reach the sink given with WithSink, reusing
// the step-boundary readings, and OptimizationStats reports the services.
func TestTelemetryAndStats(t *testing.T) {
	ctx := context.Background()
	clock := runtime.NewFakeClock(0)
	sink := &collectSink{}
	e, err := hashing.NewLookerExecutor(flujo.WithClock(clock), flujo.WithSink(sink))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := e.Execute(ctx, hashing.Key{Name: "abc"}); err != nil {
			t.Fatal(err)
		}
	}
	s := e.OptimizationStats()
	if s.Telemetry.Recorded != 3 || s.Telemetry.BatchSize != 10 || s.Execution.Count != 3 || s.Steps["lookup"].Execution.Count != 3 ||
		s.Concurrency.Max == 0 || s.Cache.Hits != 2 || s.Cache.Misses != 1 {
		t.Errorf("stats: telemetry %+v execution %+v concurrency %+v cache %+v", s.Telemetry, s.Execution, s.Concurrency, s.Cache)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if len(sink.events) != 3 {
		t.Fatalf("sink got %d events, want 3", len(sink.events))
	}
	for i, ev := range sink.events {
		if ev.Step != "lookup" || ev.Outcome != runtime.OutcomeSuccess || ev.CacheHit != (i > 0) {
			t.Errorf("event %d: %+v", i, ev)
		}
	}
}

// TestImportConfig: run-time fields apply; fields fixed at generation or
// construction are named and keep their values.
func TestImportConfig(t *testing.T) {
	ctx := context.Background()
	e, err := hashing.NewLookerExecutor(flujo.WithClock(runtime.NewFakeClock(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if err := e.ImportConfig([]byte(`{"telemetry_batch_size": 20, "slow_execution_threshold_ms": 5}`), "json"); err != nil {
		t.Fatalf("run-time fields: %v", err)
	}
	if s := e.OptimizationStats(); s.Telemetry.BatchSize != 20 || s.Config.SlowExecutionThresholdMs != 5 {
		t.Errorf("batch size %d, slow threshold %v", s.Telemetry.BatchSize, s.Config.SlowExecutionThresholdMs)
	}
	err = e.ImportConfig([]byte(`{"enable_cache_optimization": false, "cache_max_size": 7, "memory_pressure_threshold_mb": 64, "telemetry_batch_size": 30}`), "json")
	if err == nil || !strings.Contains(err.Error(), "enable_cache_optimization") || strings.Contains(err.Error(), "memory_pressure_threshold_mb") ||
		strings.Contains(err.Error(), "telemetry_batch_size") || strings.Contains(err.Error(), "cache_max_size") {
		t.Fatalf("err %v, want enable_cache_optimization named, and only it", err)
	}
	cfg := e.OptimizationConfig()
	if cfg.CacheMaxSize != 7 || !cfg.EnableCacheOptimization || cfg.MemoryPressureThresholdMb != 64 || cfg.TelemetryBatchSize != 30 {
		t.Errorf("config after a partial import: %+v", cfg)
	}
	if err := e.ImportConfig([]byte(`{"telemetry_batch_size": 0}`), "json"); err == nil {
		t.Error("an invalid document was accepted")
	}
}

// TestGeneratedImportConfigFailingLateChangesNothing: a document whose
// first fields would apply to running components and whose last field is
// refused changes nothing, neither the configuration reported nor the live
// telemetry, as in the ExecutorCore's TestImportConfigFailingLateChangesNothing.
func TestGeneratedImportConfigFailingLateChangesNothing(t *testing.T) {
	ctx := context.Background()
	e, err := hashing.NewLookerExecutor(flujo.WithClock(runtime.NewFakeClock(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	before := e.OptimizationConfig()
	for _, doc := range []string{
		`{"telemetry_batch_size": 20, "slow_execution_threshold_ms": 5, "telemetry_flush_interval_seconds": 1e-10}`,
		`{"telemetry_batch_size": 20, "slow_execution_threshold_ms": 5, "optimization_analysis_interval_seconds": 1e-10}`,
		`{"telemetry_batch_size": 20, "cache_max_size": 7, "telemetry_batch_size": 5000}`,
	} {
		if err := e.ImportConfig([]byte(doc), "json"); err == nil {
			t.Errorf("%s accepted", doc)
		}
		s := e.OptimizationStats()
		if !e.OptimizationConfig().Equal(before) || !s.Config.Equal(before) {
			t.Errorf("%s: config changed to %+v", doc, e.OptimizationConfig())
		}
		if s.Telemetry.BatchSize != before.TelemetryBatchSize || s.Telemetry.FlushIntervalSeconds != before.TelemetryFlushIntervalSeconds {
			t.Errorf("%s: live telemetry batch %d flush %vs, want %d %vs", doc, s.Telemetry.BatchSize, s.Telemetry.FlushIntervalSeconds,
				before.TelemetryBatchSize, before.TelemetryFlushIntervalSeconds)
		}
	}
}

// TestGeneratedImportConfigRulesAgree: a generated executor's ImportConfig
// accepts a run-time field's value exactly when Validate does (a field it
// cannot apply live is named as fixed, never refused for its value), at
// the field's bounds, just past them, zero, tiny, negative, huge and
// fractional values.
func TestGeneratedImportConfigRulesAgree(t *testing.T) {
	ctx := context.Background()
	e, err := hashing.NewLookerExecutor(flujo.WithClock(runtime.NewFakeClock(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	for _, f := range runtime.ConfigFields() {
		if !f.Runtime || f.Kind == runtime.FieldBool {
			continue
		}
		for _, v := range []string{
			strconv.FormatFloat(f.Min, 'f', -1, 64), strconv.FormatFloat(f.Max, 'f', -1, 64),
			strconv.FormatFloat(math.Nextafter(f.Min, math.Inf(-1)), 'g', -1, 64),
			strconv.FormatFloat(math.Nextafter(f.Max, math.Inf(1)), 'g', -1, 64),
			"0", "-1", "0.5", "1.5", "1e-10", "1e-400", "0.001", "1e18",
		} {
			doc := []byte(`{"` + f.Name + `": ` + v + `}`)
			before := e.OptimizationConfig()
			_, verr := before.Import(doc, "json")
			ierr := e.ImportConfig(doc, "json")
			fixed := ierr != nil && strings.Contains(ierr.Error(), "fixed when the executor was generated")
			switch {
			case verr == nil && ierr != nil && !fixed:
				t.Errorf("%s: Validate accepts it, ImportConfig refuses: %v", doc, ierr)
			case verr != nil && (ierr == nil || fixed):
				t.Errorf("%s: Validate refuses it (%v), ImportConfig says %v", doc, verr, ierr)
			case verr != nil && !e.OptimizationConfig().Equal(before):
				t.Errorf("%s: a refused import changed the config", doc)
			}
		}
	}
}

// TestImportConfigSameInBothEngines imports each field a generated
// executor applies live into it and into the ExecutorCore: both accept it,
// report the same configuration, and then run alike (results and stats).
func TestImportConfigSameInBothEngines(t *testing.T) {
	ctx := context.Background()
	variant := func(name string) runnerSet {
		for _, x := range variants() {
			if x.cfg == equivVariants()[name] {
				return x
			}
		}
		t.Fatalf("no variant %s", name)
		return runnerSet{}
	}
	for _, tc := range []struct {
		doc string
		ins []flujotest.Job
		// variant and node, when set, replace "breaker" and BreakerFail.
		variant string
		node    flujo.Node
	}{
		{`{"circuit_breaker_failure_threshold": 1}`, []flujotest.Job{{Name: "a"}, {Name: "b"}, {Name: "c"}}, "", nil},
		{`{"circuit_breaker_failure_threshold": 5}`, []flujotest.Job{{Name: "a"}, {Name: "b"}, {Name: "c"}}, "", nil},
		{`{"circuit_breaker_recovery_timeout_seconds": 1}`, []flujotest.Job{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}}, "", nil},
		{`{"slow_execution_threshold_ms": 5}`, []flujotest.Job{{Name: "a"}}, "", nil},
		{`{"memory_pressure_threshold_mb": 64, "cpu_usage_threshold_percent": 50}`, []flujotest.Job{{Name: "a"}}, "", nil},
		// Fields of the kernel's components: every one applies live in
		// both engines, switching a component on or off included.
		{`{"error_cache_size": 10}`, []flujotest.Job{{Name: "a"}, {Name: "b"}}, "", nil},
		{`{"performance_degradation_threshold": 3}`, []flujotest.Job{{Name: "a"}}, "", nil},
		{`{"optimization_analysis_interval_seconds": 2}`, []flujotest.Job{{Name: "a"}}, "", nil},
		{`{"max_concurrent_executions": 900}`, []flujotest.Job{{Name: "a"}}, "", nil},
		{`{"max_concurrent_executions": 2, "enable_concurrency_optimization": false}`, []flujotest.Job{{Name: "a"}}, "", nil},
		{`{"object_pool_max_size": 8, "object_pool_cleanup_threshold": 0.5}`, []flujotest.Job{{Name: "a"}}, "", nil},
		{`{"enable_optimized_error_handling": false}`, []flujotest.Job{{Name: "a"}, {Name: "b"}}, "", nil},
		{`{"enable_performance_monitoring": false}`, []flujotest.Job{{Name: "a"}}, "", nil},
		{`{"enable_optimized_telemetry": false, "enable_performance_monitoring": false}`, []flujotest.Job{{Name: "a"}}, "", nil},
		{`{"enable_memory_optimization": false}`, []flujotest.Job{{Name: "a"}}, "", nil},
		// Fields of components the step does not use.
		{`{"cache_ttl_seconds": 60, "cache_max_size": 10}`, []flujotest.Job{{Name: "a"}}, "", nil},
		// A cached step: new cache settings start an empty cache (the
		// clocks advance 1s a run). A TTL short enough to expire entries
		// here is left out: when otter counts an expiry (on a read or in
		// its maintenance) differs from run to run in both engines alike.
		{`{"cache_ttl_seconds": 5}`, []flujotest.Job{{Name: "x"}, {Name: "x"}, {Name: "y"}}, "cached", flujotest.CachedTags},
		{`{"cache_max_size": 50}`, []flujotest.Job{{Name: "x"}, {Name: "y"}, {Name: "x"}, {Name: "y"}}, "cached", flujotest.CachedTags},
		{`{"cache_ttl_seconds": 7200}`, []flujotest.Job{{Name: "x"}, {Name: "x"}}, "cached", flujotest.CachedTags},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			vname, node := "breaker", flujo.Node(flujotest.BreakerFail)
			if tc.variant != "" {
				vname, node = tc.variant, tc.node
			}
			v := variant(vname)
			coreClock, genClock := runtime.NewFakeClock(time.Hour), runtime.NewFakeClock(time.Hour)
			core, err := flujo.NewExecutorCore(v.cfg, flujo.WithClock(coreClock))
			if err != nil {
				t.Fatal(err)
			}
			defer core.Close(ctx)
			gen, ok, err := v.build(suiteVars[node], genClock)
			if err != nil || !ok {
				t.Fatalf("no generated executor of %s (%v)", suiteVars[node], err)
			}
			defer gen.close(ctx)
			// One run before the import: renewed breakers forget its
			// failure, rebuilt caches its result.
			core.Execute(ctx, node, flujotest.Job{Name: "x", Calls: flujotest.NewCalls()})
			gen.run(ctx, flujotest.Job{Name: "x", Calls: flujotest.NewCalls()})
			cerr, gerr := core.ImportConfig([]byte(tc.doc), "json"), gen.imp([]byte(tc.doc), "json")
			if cerr != nil || gerr != nil {
				t.Fatalf("import: core %v, generated %v", cerr, gerr)
			}
			if d := diffStats(core.OptimizationStats(), gen.stats()); d != "" {
				t.Errorf("after the import, stats differ:\n%s", d)
			}
			for i, in := range tc.ins {
				cin, gin := in, in
				cin.Calls, gin.Calls = flujotest.NewCalls(), flujotest.NewCalls()
				want, werr := core.Execute(ctx, node, cin)
				got, gerr := gen.run(ctx, gin)
				if d := diffResults(want, got); d != "" || (werr == nil) != (gerr == nil) {
					t.Errorf("run %d: errors %v / %v; results differ: %s", i, werr, gerr, d)
				}
				coreClock.Advance(time.Second)
				genClock.Advance(time.Second)
			}
			if d := diffStats(core.OptimizationStats(), gen.stats()); d != "" {
				t.Errorf("stats differ:\n%s", d)
			}
		})
	}
}
