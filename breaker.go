package flujo

import (
	"log/slog"
	"sync"
	"time"

	"github.com/flujo/flujo/runtime"
)

// CircuitOpenError is the error of a step whose circuit breaker is open: the
// step function was not called.
type CircuitOpenError = runtime.CircuitOpenError

// breakerSet holds one runtime.Breaker per step, created on first use from
// the configuration's threshold and recovery timeout.
type breakerSet struct {
	settings runtime.BreakerSettings
	m        sync.Map // *nodeBase -> *runtime.Breaker
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

func (s *breakerSet) get(b *nodeBase) *runtime.Breaker {
	if br, ok := s.m.Load(b); ok {
		return br.(*runtime.Breaker)
	}
	// The settings were validated with the config, so NewBreaker cannot fail.
	br, _ := runtime.NewBreaker(b.name, s.settings)
	actual, _ := s.m.LoadOrStore(b, br)
	return actual.(*runtime.Breaker)
}

// each calls f with every breaker created so far.
func (s *breakerSet) each(f func(*runtime.Breaker)) {
	s.m.Range(func(_, v any) bool {
		f(v.(*runtime.Breaker))
		return true
	})
}
