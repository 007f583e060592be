package flujo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/flujo/flujo/runtime"
)

// startTunerLocked starts the auto-tuner when the configuration asks for it
// and none runs yet. Called with c.mu held.
func (c *ExecutorCore) startTunerLocked(cfg runtime.OptimizationConfig) error {
	t, err := c.newTunerLocked(cfg)
	if err != nil || t == nil {
		return err
	}
	return c.runTunerLocked(t)
}

// newTunerLocked builds, without starting it, the auto-tuner cfg asks for;
// nil when it asks for none or one runs already. Called with c.mu held.
func (c *ExecutorCore) newTunerLocked(cfg runtime.OptimizationConfig) (*runtime.AutoTuner, error) {
	if !cfg.EnableAutomaticOptimization || c.tuner != nil {
		return nil, nil
	}
	return runtime.NewAutoTuner(runtime.AutoTunerOptions{
		Interval: cfg.AnalysisInterval(),
		Snapshot: c.OptimizationStats,
		Config:   c.OptimizationConfig,
		Apply:    c.applyTuning,
		Logger:   c.logger,
		Tick:     c.tunerTick,
	})
}

// runTunerLocked starts t as the executor's auto-tuner. Called with c.mu
// held.
func (c *ExecutorCore) runTunerLocked(t *runtime.AutoTuner) error {
	if err := t.Start(); err != nil {
		return err
	}
	c.tuner = t
	return nil
}

// applyTuning makes one run-time change for the auto-tuner: a run-time
// configuration field, or the cache admission action.
func (c *ExecutorCore) applyTuning(field string, value any) error {
	if field == runtime.CacheAdmissionAction {
		admit, ok := value.(bool)
		if !ok {
			return fmt.Errorf("flujo: %s wants a bool, got %T", field, value)
		}
		if cache := c.eng.Load().cache; cache != nil {
			cache.paused.Store(!admit)
		}
		return nil
	}
	data, err := json.Marshal(map[string]any{field: value})
	if err != nil {
		return err
	}
	return c.ImportConfig(data, "json")
}

// TuningHistory returns the changes the auto-tuner applied, oldest first;
// nil when enable_automatic_optimization was never on.
func (c *ExecutorCore) TuningHistory() []runtime.TuningChange {
	c.mu.Lock()
	t := c.tuner
	c.mu.Unlock()
	if t == nil {
		return nil
	}
	return t.History()
}

func (c *ExecutorCore) stopTuner(ctx context.Context) error {
	c.mu.Lock()
	t := c.tuner
	c.mu.Unlock()
	if t == nil {
		return nil
	}
	return t.Close(ctx)
}
