// Package options holds the settings that the root package's CoreOption
// and ExecOption values make, with their defaults, so that the
// ExecutorCore and generated executors (through flujoimpl) read them by the
// same rules.
package options

import (
	"log/slog"
	"time"

	"github.com/flujo/flujo/runtime"
)

// Core are the settings CoreOptions make.
type Core struct {
	// Clock is WithClock's clock, runtime.SystemClock{} by default; nil
	// when WithClock(nil) was given, which is an error.
	Clock runtime.Clock
	// Logger is WithLogger's logger; by default one that discards.
	Logger *slog.Logger
	// Sink is WithSink's telemetry sink; nil means the Logger at debug
	// level (TelemetrySink).
	Sink runtime.Sink
	// Sampler is WithResourceSampler's sampler; nil means the process's own
	// readings.
	Sampler runtime.ResourceSampler
	// Overrides are the step overrides (WithConfigFile, WithStepOverrides),
	// keyed "<pipeline>.<step>"; a later option's override replaces an
	// earlier one's of the same key.
	Overrides map[string]runtime.StepOverride
	// OverrideSources maps each key of Overrides to the file it came from,
	// "" for WithStepOverrides.
	OverrideSources map[string]string
	// FileConfig is the optimization configuration of WithConfigFile's
	// file; nil without one.
	FileConfig *runtime.OptimizationConfig
	// Distributed is the "distributed" section of WithConfigFile's file,
	// validated; nil without a file or a section. The package that builds
	// the shared services reads it; the executors only warn when it shares
	// a part and they were given no shared services (Shared).
	Distributed *runtime.DistributedConfig
	// Shared is WithShared's services shared with other replicas; nil
	// without them.
	Shared *runtime.Shared
	// Errs are the errors of options, which NewExecutorCore returns.
	Errs []error
	// TunerTick drives the auto-tuner in tests; nil means its own ticker.
	TunerTick <-chan time.Time
}

// ApplyCore applies opts over the defaults and returns the settings they
// make; nil options are skipped, so callers may build option lists
// conditionally.
func ApplyCore[O ~func(*Core)](opts []O) Core {
	c := Core{Clock: runtime.SystemClock{}, Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// TelemetrySink returns the sink telemetry events go to: Sink, or without
// one the Logger at debug level.
func (c *Core) TelemetrySink() runtime.Sink {
	if c.Sink != nil {
		return c.Sink
	}
	return runtime.NewSlogSink(c.Logger, slog.LevelDebug)
}

// AddOverrides adds steps to the step overrides, recording source as the
// file they came from ("" for none); an override replaces an earlier one
// of the same key.
func (c *Core) AddOverrides(steps map[string]runtime.StepOverride, source string) {
	if len(steps) == 0 {
		return
	}
	if c.Overrides == nil {
		c.Overrides, c.OverrideSources = map[string]runtime.StepOverride{}, map[string]string{}
	}
	for k, o := range steps {
		c.Overrides[k] = o
		c.OverrideSources[k] = source
	}
}

// Exec are the settings ExecOptions make for one run.
type Exec struct {
	// State is WithState's pointer; nil without it.
	State any
	// Limits are WithUsageLimits' limits; nil without them.
	Limits *runtime.UsageLimits
	// Budget is WithSharedBudget's budget; nil without one.
	Budget *runtime.SharedBudget
	// Errs are the errors of options, which the run returns before any
	// step runs.
	Errs []error
}

// ApplyExec applies opts and returns the settings they make; nil options
// are skipped.
func ApplyExec[O ~func(*Exec)](opts []O) Exec {
	if len(opts) == 0 {
		return Exec{} // the common run: no settings to hand to the options, nothing on the heap
	}
	e := new(Exec) // the options are unknown functions: what they are given escapes
	for _, o := range opts {
		if o != nil {
			o(e)
		}
	}
	return *e
}
