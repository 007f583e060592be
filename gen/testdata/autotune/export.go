//go:build !flujogen

package autotune

import "github.com/flujo/flujo/runtime"

// RunTuner runs one analysis of e's auto-tuner now, so tests drive it
// without waiting for its interval.
func RunTuner(e *TunedExecutor) ([]runtime.TuningChange, error) { return e.svc.RunTunerOnce() }

// ApplyTuning makes one change as e's auto-tuner makes it.
func ApplyTuning(e *TunedExecutor, field string, value any) error {
	return e.svc.ApplyTuning(field, value)
}
