package flujo

import (
	"log/slog"

	"github.com/flujo/flujo/runtime"
)

// Generated executors take the same options as the ExecutorCore: these
// functions read back what the options set, which they keep in unexported
// fields.

// ExecOptionsOf applies opts and returns the run's state (WithState) and
// usage limits (WithUsageLimits); nil for those not given.
func ExecOptionsOf(opts []ExecOption) (state any, limits *UsageLimits) {
	o := execOptionsOf(opts)
	return o.state, o.limits
}

// CoreSettings are the settings CoreOptions make.
type CoreSettings struct {
	// Clock is WithClock's clock, runtime.SystemClock{} by default; nil
	// when WithClock(nil) was given, which is an error.
	Clock runtime.Clock
	// Logger is WithLogger's logger; by default one that discards.
	Logger *slog.Logger
	// Sink is WithSink's telemetry sink; by default the Logger at debug
	// level.
	Sink runtime.Sink
	// Sampler is WithResourceSampler's sampler; nil means the process's own
	// readings.
	Sampler runtime.ResourceSampler
}

// CoreOptionsOf applies opts and returns the settings they make, with the
// ExecutorCore's defaults for those not given.
func CoreOptionsOf(opts []CoreOption) CoreSettings {
	c := &ExecutorCore{clock: runtime.SystemClock{}, logger: slog.New(slog.DiscardHandler)}
	applyCoreOptions(c, opts)
	return CoreSettings{Clock: c.clock, Logger: c.logger, Sink: c.sinkOrDefault(), Sampler: c.sampler}
}
