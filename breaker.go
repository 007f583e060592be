package flujo

import (
	"log/slog"
	"time"

	"github.com/flujo/flujo/runtime"
)

// CircuitOpenError is the error of a step whose circuit breaker is open: the
// step function was not called.
type CircuitOpenError = runtime.CircuitOpenError

// ConcurrencyLimitError is the error of a step attempt the concurrency
// limiter turned away because its wait queue was full; it matches
// runtime.ErrLimiterRejected with errors.Is. It does not count as a
// circuit-breaker failure: it says the executor is saturated, not that the
// step's upstream is unhealthy.
type ConcurrencyLimitError = runtime.ConcurrencyLimitError

// breakerSet is the breaker settings of one configuration. Each step builds
// its runtime.Breaker from them on first use (stepRuntime.breaker), and
// builds a new one when a configuration change brings new settings.
type breakerSet struct {
	settings runtime.BreakerSettings
}

func newBreakerSet(cfg runtime.OptimizationConfig, clock runtime.Clock, logger *slog.Logger) *breakerSet {
	return &breakerSet{settings: runtime.BreakerSettings{
		FailureThreshold: cfg.CircuitBreakerFailureThreshold,
		RecoveryTimeout:  time.Duration(cfg.CircuitBreakerRecoveryTimeoutSeconds) * time.Second,
		Clock:            clock,
		OnStateChange: func(step string, from, to runtime.BreakerState) {
			logger.Info("flujo: circuit breaker", "step", step, "from", from.String(), "to", to.String())
		},
	}}
}
