package gen

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/gen/testdata/autotune"
	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/schema"
)

// TestGoldenAutoTune generates testdata/autotune under its flujo.json, which
// turns enable_automatic_optimization on. The tuner is the kernel's: the
// generated file holds no tuner code either way, only the field's value.
func TestGoldenAutoTune(t *testing.T) {
	m, err := analysis.Load(context.Background(), analysis.LoadOptions{Dir: "..", Patterns: []string{"./gen/testdata/autotune"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Load(filepath.Join("testdata", "autotune", "flujo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Optimization.EnableAutomaticOptimization {
		t.Fatal("testdata/autotune/flujo.json does not enable automatic optimization")
	}
	on, err := Generate(m, m.Packages[0], cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"c.EnableAutomaticOptimization = true", "flujogenMethods"} {
		if !strings.Contains(string(on), want) {
			t.Errorf("with automatic optimization on, the generated file lacks %s", want)
		}
	}
	golden(t, filepath.Join("testdata", "autotune", "flujo_gen.go"), on)

	cfg.Optimization.EnableAutomaticOptimization = false
	off, err := Generate(m, m.Packages[0], cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"AutoTuner", "EnableAutomaticOptimization"} {
		if strings.Contains(string(off), absent) {
			t.Errorf("with automatic optimization off, the generated file mentions %s", absent)
		}
	}
}

// lowSampler reports a small, steady memory use: no pressure.
type lowSampler struct{}

func (lowSampler) SampleResources(s *runtime.ResourceSample) error {
	s.HeapBytes, s.TotalBytes = 1<<20, 1<<20
	return nil
}

// blockingSink holds every export until released, so the telemetry
// buffer overflows and drops events.
type blockingSink struct {
	release chan struct{}
}

func (s *blockingSink) Export(ctx context.Context, _ []runtime.Event) error {
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return nil
}

// TestAutoTuneApplies: the generated executor's tuner sees the telemetry
// drops in OptimizationStats and applies the recommended run-time changes
// through the executor, as the ExecutorCore's does; TuningHistory reports
// them and Close stops every goroutine.
func TestAutoTuneApplies(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	sink := &blockingSink{release: make(chan struct{})}
	var once sync.Once
	release := func() { once.Do(func() { close(sink.release) }) }
	defer release()
	e, err := autotune.NewTunedExecutor(flujo.WithClock(runtime.NewFakeClock(0)), flujo.WithSink(sink), flujo.WithResourceSampler(lowSampler{}))
	if err != nil {
		t.Fatal(err)
	}
	before := e.OptimizationConfig()
	if h := e.TuningHistory(); len(h) != 0 {
		t.Fatalf("history before any analysis: %+v", h)
	}
	// Twice the telemetry buffer: at least half the events are dropped.
	for i := range 2 * runtime.DefaultTelemetryBufferSize {
		if got, err := e.Execute(ctx, i%7); err != nil || got != (i%7)*(i%7)+1 {
			t.Fatalf("Execute(%d) = %d, %v", i%7, got, err)
		}
	}
	if s := e.OptimizationStats(); s.Telemetry.Dropped == 0 {
		t.Fatalf("telemetry dropped nothing: %+v", s.Telemetry)
	}
	applied, err := autotune.RunTuner(e)
	if err != nil {
		t.Fatal(err)
	}
	after := e.OptimizationConfig()
	var batch bool
	for _, ch := range applied {
		if ch.Field == "telemetry_batch_size" {
			batch = true
			if ch.From != before.TelemetryBatchSize || ch.To != after.TelemetryBatchSize {
				t.Errorf("change %+v, config batch size %d -> %d", ch, before.TelemetryBatchSize, after.TelemetryBatchSize)
			}
		}
	}
	if !batch || after.TelemetryBatchSize <= before.TelemetryBatchSize {
		t.Errorf("applied %+v; batch size %d -> %d, want it raised", applied, before.TelemetryBatchSize, after.TelemetryBatchSize)
	}
	if s := e.OptimizationStats(); s.Telemetry.BatchSize != after.TelemetryBatchSize {
		t.Errorf("telemetry runs with batch size %d, config says %d", s.Telemetry.BatchSize, after.TelemetryBatchSize)
	}
	if h := e.TuningHistory(); len(h) != len(applied) {
		t.Errorf("history %+v, applied %+v", h, applied)
	}

	// The cache admission action pauses and resumes the caches.
	if err := autotune.ApplyTuning(e, runtime.CacheAdmissionAction, false); err != nil || !e.OptimizationStats().Cache.AdmissionPaused {
		t.Errorf("pausing admission: %v, paused %v", err, e.OptimizationStats().Cache.AdmissionPaused)
	}
	if err := autotune.ApplyTuning(e, runtime.CacheAdmissionAction, true); err != nil || e.OptimizationStats().Cache.AdmissionPaused {
		t.Errorf("resuming admission: %v, paused %v", err, e.OptimizationStats().Cache.AdmissionPaused)
	}
	if err := autotune.ApplyTuning(e, runtime.CacheAdmissionAction, "no"); err == nil {
		t.Error("a non-bool admission value was accepted")
	}

	release()
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := autotune.RunTuner(e); err == nil {
		t.Error("the tuner ran an analysis after Close")
	}
}

// TestAutoTuneFixedCap: a fixed max_concurrent_executions is a run-time
// field on the generated executor as on the ExecutorCore. The tuner's
// concurrency-saturation change raises it, a later change lowers it, and
// both engines report the same limit and cap after each, including after
// an import of another field.
func TestAutoTuneFixedCap(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	opts := []flujo.CoreOption{flujo.WithClock(runtime.NewFakeClock(0)), flujo.WithResourceSampler(lowSampler{})}
	e, err := autotune.NewTunedExecutor(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	core, err := flujo.NewExecutorCore(e.OptimizationConfig(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(ctx)
	steps := []struct {
		name  string
		field string
		value any
	}{
		{"raise", "max_concurrent_executions", 3},
		{"raise further", "max_concurrent_executions", 5},
		{"lower", "max_concurrent_executions", 1},
		{"other field", "telemetry_batch_size", 20},
		{"raise within the largest cap", "max_concurrent_executions", 4},
	}
	coreApply := func(field string, value any) error {
		data, err := json.Marshal(map[string]any{field: value})
		if err != nil {
			return err
		}
		return core.ImportConfig(data, "json")
	}
	for _, st := range steps {
		if err := autotune.ApplyTuning(e, st.field, st.value); err != nil {
			t.Fatalf("%s: generated executor: %v", st.name, err)
		}
		if err := coreApply(st.field, st.value); err != nil {
			t.Fatalf("%s: ExecutorCore: %v", st.name, err)
		}
		got, want := e.OptimizationStats(), core.OptimizationStats()
		if got.Concurrency != want.Concurrency {
			t.Errorf("%s: generated %+v, ExecutorCore %+v", st.name, got.Concurrency, want.Concurrency)
		}
		if m := got.Config.MaxConcurrentExecutions; m == nil || *m != got.Concurrency.Limit {
			t.Errorf("%s: config cap %v, limit %d", st.name, m, got.Concurrency.Limit)
		}
	}
	for i := range 10 {
		if out, err := e.Execute(ctx, i); err != nil || out != i*i+1 {
			t.Fatalf("Execute(%d) = %d, %v", i, out, err)
		}
	}
}
