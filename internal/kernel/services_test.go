package kernel

import (
	"context"
	"testing"

	"github.com/flujo/flujo/runtime"
)

// TestNewEngineIsAtomic: when a component of a new configuration cannot be
// built, the components the old engine shares keep their settings. The
// configuration here skips Validate, so the monitor refuses it after the
// telemetry and the limiter would have been changed in place.
func TestNewEngineIsAtomic(t *testing.T) {
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableConcurrencyOptimization = false
	n := 8
	cfg.MaxConcurrentExecutions = &n
	s, err := NewServices(cfg, Deps{Clock: runtime.NewFakeClock(0), Sink: &runtime.MemorySink{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	old := s.Engine()
	next := old.Config.Clone()
	next.TelemetryBatchSize = 20
	four := 4
	next.MaxConcurrentExecutions = &four
	next.OptimizationAnalysisIntervalSeconds = -1 // the monitor refuses a negative window
	if _, _, _, err := s.newEngine(next, old); err == nil {
		t.Fatal("newEngine accepted a negative analysis interval")
	}
	if b, l := old.Telemetry.BatchSize(), old.Limiter.Limit(); b != old.Config.TelemetryBatchSize || l != 8 {
		t.Errorf("after a failed newEngine: telemetry batch %d, limit %d; want %d, 8", b, l, old.Config.TelemetryBatchSize)
	}
	if s.Engine() != old {
		t.Error("the engine in force changed")
	}
}
