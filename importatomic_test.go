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
		e := c.svc.Engine()
		return e.Telemetry.BatchSize(), e.Telemetry.FlushInterval(), e.Limiter.Limit()
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

// TestImportOfAZeroIntervalIsRefused: a field the monitor would refuse is
// refused by validation, before any component is touched.
func TestImportOfAZeroIntervalIsRefused(t *testing.T) {
	c, _ := newTestCore(t, nil)
	old := c.svc.Engine()
	var ve *runtime.ValidationError
	if err := c.ImportConfig([]byte(`{"optimization_analysis_interval_seconds": 0}`), "json"); !errors.As(err, &ve) {
		t.Errorf("ImportConfig of a zero interval: %v, want a *runtime.ValidationError", err)
	}
	if c.svc.Engine() != old {
		t.Error("a refused import replaced the engine")
	}
}
