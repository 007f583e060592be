package flujoimpl

import (
	"log/slog"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/internal/kernel"
	"github.com/flujo/flujo/internal/options"
	"github.com/flujo/flujo/runtime"
)

// FailedRunError returns the error of a run whose root result res failed: a
// *flujo.StepError naming the path to the innermost failed node, with that
// node's feedback and error, as the ExecutorCore's Execute returns it.
func FailedRunError(res flujo.StepResult) *flujo.StepError { return kernel.FailedRunError(res) }

// RunMetrics returns the Metrics of a finished run, as the ExecutorCore's
// ExecuteWithMonitoring reports them.
func RunMetrics(res *flujo.PipelineResult) flujo.Metrics { return kernel.RunMetrics(res) }

// HeapMB returns the live heap in MiB, the memory figure of Metrics and of
// the executors' statistics.
func HeapMB() float64 { return kernel.HeapMB() }

// GoexitResult marks res, the result of the node named node, failed with a
// *flujo.GoexitError: a step in it called runtime.Goexit on the goroutine
// that ran it. Generated executors call it, as the ExecutorCore does, from
// a deferred function of that goroutine, so that the node is reported
// instead of waited for.
func GoexitResult(res *flujo.StepResult, node string) { kernel.GoexitResult(res, node) }

// ExecOptionsOf applies opts and returns the run's state (flujo.WithState)
// and usage limits (flujo.WithUsageLimits); nil for those not given.
func ExecOptionsOf(opts []flujo.ExecOption) (state any, limits *flujo.UsageLimits) {
	o := options.ApplyExec(opts)
	return o.State, o.Limits
}

// CoreSettings are the settings of flujo.CoreOptions that generated
// executors use.
type CoreSettings struct {
	// Clock is flujo.WithClock's clock, runtime.SystemClock{} by default;
	// nil when WithClock(nil) was given, which is an error.
	Clock runtime.Clock
	// Logger is flujo.WithLogger's logger; by default one that discards.
	Logger *slog.Logger
	// Sink is flujo.WithSink's telemetry sink; by default the Logger at
	// debug level.
	Sink runtime.Sink
	// Sampler is flujo.WithResourceSampler's sampler; nil means the
	// process's own readings.
	Sampler runtime.ResourceSampler
	// Shared is flujo.WithShared's services; nil without them.
	Shared *runtime.Shared
	// Distributed is the distributed section of flujo.WithConfigFile's
	// file; nil without one.
	Distributed *runtime.DistributedConfig
}

// CoreOptionsOf applies opts and returns the settings they make, with the
// ExecutorCore's defaults for those not given.
func CoreOptionsOf(opts []flujo.CoreOption) CoreSettings {
	o := options.ApplyCore(opts)
	return CoreSettings{Clock: o.Clock, Logger: o.Logger, Sink: o.TelemetrySink(), Sampler: o.Sampler, Shared: o.Shared, Distributed: o.Distributed}
}

// Configure applies opts and returns the settings they make and the
// configuration the generated executor named executor, of the pipeline
// named pipeline, starts with: compiled, or WithConfigFile's, which may
// change only run-time fields; the step overrides of the options must be
// those compiled in (stepsDigest).
func Configure(executor, pipeline string, compiled runtime.OptimizationConfig, stepsDigest string, opts []flujo.CoreOption) (CoreSettings, runtime.OptimizationConfig, error) {
	o := options.ApplyCore(opts)
	cfg, err := kernel.GeneratedConfig(executor, pipeline, compiled, stepsDigest, &o)
	return CoreSettings{Clock: o.Clock, Logger: o.Logger, Sink: o.TelemetrySink(), Sampler: o.Sampler, Shared: o.Shared, Distributed: o.Distributed}, cfg, err
}

// Parts are what a generated executor keeps per leaf step that needs no
// types: counters, circuit breakers and monitor handles.
type Parts = kernel.Parts

// Own says which compiled-in breaker settings a step override fixed.
type Own = kernel.Own

// The settings Own may name; FromConfig names none.
const (
	FromConfig   = kernel.FromConfig
	OwnThreshold = kernel.OwnThreshold
	OwnRecovery  = kernel.OwnRecovery
)

// NewParts applies opts and returns the parts of the generated executor
// named executor, of the pipeline named pipeline, started with the
// configuration Configure gives for compiled, stepsDigest and opts.
func NewParts(executor, pipeline string, compiled runtime.OptimizationConfig, stepsDigest string, opts []flujo.CoreOption) (*Parts, error) {
	set, cfg, err := Configure(executor, pipeline, compiled, stepsDigest, opts)
	if err != nil {
		return nil, err
	}
	return kernel.NewParts(cfg, kernel.Deps{Clock: set.Clock, Logger: set.Logger, Sink: set.Sink, Sampler: set.Sampler, Name: executor,
		Shared: set.Shared, Distributed: set.Distributed, Pipeline: pipeline}, flujo.CountsAsBreakerFailure), nil
}

// StartRecorded admits a recorded run (ExecuteResult) of the pipeline
// named pipeline on s and returns it: its state is st or, when st is nil,
// flujo.WithState's (a pipeline without state passes "" and ignores it),
// its budget flujo.WithUsageLimits' and flujo.WithSharedBudget's hold,
// reserved here and settled by EndRecordedRun. Unless it returns an error, the caller
// ends the run with s.Track.Exit.
func StartRecorded[S any](s *Services, pipeline string, st *S, opts []flujo.ExecOption) (Run[S], error) {
	o := options.ApplyExec(opts)
	if pipeline != "" {
		var err error
		if st, err = RunState(pipeline, st, o.State); err != nil {
			return Run[S]{}, err
		}
	}
	if !s.Track.Enter() {
		return Run[S]{}, flujo.ErrClosed
	}
	r := NewRun(s, st, true)
	var err error
	if r.Budget, err = s.RunBudget(&o); err != nil {
		s.Track.Exit()
		return Run[S]{}, err
	}
	return r, nil
}
