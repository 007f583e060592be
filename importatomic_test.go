package flujo

import (
	"errors"
	"testing"
	"time"

	"github.com/flujo/flujo/runtime"
)

// TestImportConfigFailingLateChangesNothing: a document whose first fields
// would apply to running components (the telemetry's batch size and flush
// interval, a lower fixed concurrency cap) and whose last field is refused
// changes nothing: neither the configuration in force nor the live
// components.
func TestImportConfigFailingLateChangesNothing(t *testing.T) {
	c, _ := newTestCore(t, func(cfg *runtime.OptimizationConfig) {
		cfg.EnableConcurrencyOptimization = false
		n := 8
		cfg.MaxConcurrentExecutions = &n
	})
	before := c.OptimizationConfig()
	live := func() (int, time.Duration, int) {
		e := c.eng.Load()
		return e.telemetry.BatchSize(), e.telemetry.FlushInterval(), e.limiter.Limit()
	}
	b0, f0, l0 := live()
	for _, doc := range []string{
		`{"telemetry_batch_size": 20, "telemetry_flush_interval_seconds": 5, "max_concurrent_executions": 4, "telemetry_flush_interval_seconds": 1e-10}`,
		`{"telemetry_batch_size": 20, "max_concurrent_executions": 4, "optimization_analysis_interval_seconds": 1e-10}`,
		`{"telemetry_batch_size": 20, "max_concurrent_executions": 4, "cache_max_size": 0}`,
	} {
		if err := c.ImportConfig([]byte(doc), "json"); err == nil {
			t.Errorf("%s accepted", doc)
		}
		if got := c.OptimizationConfig(); !got.Equal(before) {
			t.Errorf("%s: OptimizationConfig changed to %+v", doc, got)
		}
		if b, f, l := live(); b != b0 || f != f0 || l != l0 {
			t.Errorf("%s: live telemetry batch %d flush %v limit %d, want %d %v %d", doc, b, f, l, b0, f0, l0)
		}
	}
}

// TestNewEngineIsAtomic: when a component of a new configuration cannot be
// built, the components the old engine shares keep their settings. The
// configuration here skips Validate, so the monitor refuses it after the
// telemetry and the limiter would have been changed in place.
func TestNewEngineIsAtomic(t *testing.T) {
	c, _ := newTestCore(t, func(cfg *runtime.OptimizationConfig) {
		cfg.EnableConcurrencyOptimization = false
		n := 8
		cfg.MaxConcurrentExecutions = &n
	})
	old := c.eng.Load()
	cfg := old.cfg.Clone()
	cfg.TelemetryBatchSize = 20
	n := 4
	cfg.MaxConcurrentExecutions = &n
	cfg.OptimizationAnalysisIntervalSeconds = -1 // the monitor refuses a negative window
	if _, _, err := c.newEngine(cfg, old); err == nil {
		t.Fatal("newEngine accepted a negative analysis interval")
	}
	if b, l := old.telemetry.BatchSize(), old.limiter.Limit(); b != old.cfg.TelemetryBatchSize || l != 8 {
		t.Errorf("after a failed newEngine: telemetry batch %d, limit %d; want %d, 8", b, l, old.cfg.TelemetryBatchSize)
	}
	if c.eng.Load() != old {
		t.Error("the engine in force changed")
	}
	var ve *runtime.ValidationError
	if err := c.ImportConfig([]byte(`{"optimization_analysis_interval_seconds": 0}`), "json"); !errors.As(err, &ve) {
		t.Errorf("ImportConfig of a zero interval: %v, want a *runtime.ValidationError", err)
	}
}
