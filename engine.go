package flujo

import (
	"time"

	"github.com/flujo/flujo/runtime"
)

// engine is one configuration in force with the components built from it.
// Runs load it once and use it throughout, so a configuration change never
// reaches a run half way.
type engine struct {
	cfg runtime.OptimizationConfig

	stepOpt bool // reuse tree analyses
	ctxOpt  bool // copy-on-write state in Parallel
	algoOpt bool // fast input hashing for cache keys

	// slowNs is slow_execution_threshold_ms in nanoseconds.
	slowNs int64

	cache    *resultCache // nil when caching is off
	cacheTTL time.Duration
	breakers *breakerSet // nil when breakers are off
	// classifier learns which errors never recover; nil when
	// enable_optimized_error_handling is off, and then every failure but a
	// cancellation is retried.
	classifier *runtime.ErrorClassifier
}

// classifierPermanentAfter is how many failed retries of an error pattern,
// none recovering, class the pattern permanent.
const classifierPermanentAfter = 3

func (c *ExecutorCore) newEngine(cfg runtime.OptimizationConfig, old *engine) *engine {
	e := &engine{
		cfg:      cfg,
		stepOpt:  cfg.EnableStepOptimization,
		ctxOpt:   cfg.EnableContextOptimization,
		algoOpt:  cfg.EnableAlgorithmOptimization,
		cacheTTL: time.Duration(cfg.CacheTTLSeconds) * time.Second,
		slowNs:   int64(cfg.SlowExecutionThresholdMs * float64(time.Millisecond)),
	}
	if cfg.EnableCacheOptimization {
		if old != nil && old.cache != nil && old.cfg.CacheMaxSize == cfg.CacheMaxSize &&
			old.cfg.EnableAlgorithmOptimization == cfg.EnableAlgorithmOptimization {
			e.cache = old.cache
		} else {
			e.cache = newResultCache(cfg.CacheMaxSize, c.clock)
		}
	}
	if cfg.EnableCircuitBreaker {
		if old != nil && old.breakers != nil &&
			old.cfg.CircuitBreakerFailureThreshold == cfg.CircuitBreakerFailureThreshold &&
			old.cfg.CircuitBreakerRecoveryTimeoutSeconds == cfg.CircuitBreakerRecoveryTimeoutSeconds {
			e.breakers = old.breakers
		} else {
			e.breakers = newBreakerSet(cfg, c.clock, c.logger)
		}
	}
	if cfg.EnableOptimizedErrorHandling {
		if old != nil && old.classifier != nil && old.cfg.ErrorCacheSize == cfg.ErrorCacheSize {
			e.classifier = old.classifier
		} else {
			// The size was validated with the config, so this cannot fail.
			e.classifier, _ = runtime.NewErrorClassifier(cfg.ErrorCacheSize, classifierPermanentAfter)
		}
	}
	return e
}

// stop releases the engine's background work.
func (e *engine) stop() {}
