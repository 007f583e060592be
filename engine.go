package flujo

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo/internal/kernel"
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

	cache *cacheSet // nil when caching is off
	// scratch pools the working space of Parallel runs; nil when
	// enable_object_pool is off.
	scratch  *runtime.Pool[parallelScratch]
	breakers *breakerSet // nil when breakers are off
	// classifier learns which errors never recover; nil when
	// enable_optimized_error_handling is off, and then every failure but a
	// cancellation is retried.
	classifier *runtime.ErrorClassifier
	// limiter bounds concurrent step attempts (max_concurrent_executions,
	// adaptive with enable_concurrency_optimization). Always set.
	limiter *runtime.Limiter
	// telemetry records one event per step execution; nil when
	// enable_optimized_telemetry is off.
	telemetry *runtime.Telemetry
	// monitor keeps per-step latency histograms and detects regressions;
	// nil when enable_performance_monitoring is off.
	monitor *runtime.Monitor
	// resources samples memory and CPU in the background and sheds load
	// under pressure; nil when enable_memory_optimization is off.
	resources *runtime.ResourceManager

	// env is what the engine's step executions share; slow holds slowNs
	// for it.
	env  kernel.Env
	slow atomic.Int64
}

// classifierPermanentAfter is how many failed retries of an error pattern,
// none recovering, class the pattern permanent.
const classifierPermanentAfter = 3

// resourceInterval is the resource manager's sampling interval.
const resourceInterval = time.Second

// closer stops a component that an engine no longer uses.
type closer func(ctx context.Context) error

// newEngine builds the engine of cfg. Components whose settings did not
// change are taken over from old; the ones old used and the new engine does
// not are returned, to be closed once runs in flight are done with them.
// It is atomic: changes to components old shares (a retuned telemetry, a
// lowered limit) are checked with everything else and applied only once
// every component is built, so an error leaves old exactly as it was.
func (c *ExecutorCore) newEngine(cfg runtime.OptimizationConfig, old *engine) (*engine, []closer, error) {
	if old == nil {
		old = &engine{}
	}
	e := &engine{
		cfg:     cfg,
		stepOpt: cfg.EnableStepOptimization,
		ctxOpt:  cfg.EnableContextOptimization,
		algoOpt: cfg.EnableAlgorithmOptimization,
		slowNs:  int64(cfg.SlowExecutionThreshold()),
	}
	var retired []closer
	var errs []error
	// inPlace changes components old shares; run only when nothing failed.
	var inPlace []func()
	oc := old.cfg

	if cfg.EnableCacheOptimization {
		if old.cache != nil && oc.CacheMaxSize == cfg.CacheMaxSize && oc.CacheTTLSeconds == cfg.CacheTTLSeconds &&
			oc.CacheCompression == cfg.CacheCompression && oc.EnableAlgorithmOptimization == cfg.EnableAlgorithmOptimization {
			e.cache = old.cache
		} else if cs, err := newCacheSet(cfg, c.clock); err != nil {
			errs = append(errs, err)
		} else {
			e.cache = cs
		}
	}
	if old.cache != nil && e.cache != old.cache {
		retired = append(retired, old.cache.close)
	}
	if cfg.EnableCircuitBreaker {
		if old.breakers != nil && oc.CircuitBreakerFailureThreshold == cfg.CircuitBreakerFailureThreshold &&
			oc.CircuitBreakerRecoveryTimeoutSeconds == cfg.CircuitBreakerRecoveryTimeoutSeconds {
			e.breakers = old.breakers
		} else {
			e.breakers = newBreakerSet(cfg, c.clock, c.logger)
		}
	}
	if cfg.EnableOptimizedErrorHandling {
		if old.classifier != nil && oc.ErrorCacheSize == cfg.ErrorCacheSize {
			e.classifier = old.classifier
		} else if cl, err := runtime.NewErrorClassifier(cfg.ErrorCacheSize, classifierPermanentAfter); err != nil {
			errs = append(errs, err)
		} else {
			e.classifier = cl
		}
	}

	if cfg.EnableObjectPool {
		if old.scratch != nil && oc.ObjectPoolMaxSize == cfg.ObjectPoolMaxSize && oc.ObjectPoolCleanupThreshold == cfg.ObjectPoolCleanupThreshold {
			e.scratch = old.scratch
		} else if p, err := runtime.NewPool(cfg.ObjectPoolMaxSize, cfg.ObjectPoolCleanupThreshold, nil, resetScratch); err != nil {
			errs = append(errs, err)
		} else {
			e.scratch = p
		}
	}

	e.limiter = old.limiter
	switch {
	case e.limiter != nil && equalMax(oc.MaxConcurrentExecutions, cfg.MaxConcurrentExecutions) &&
		oc.EnableConcurrencyOptimization == cfg.EnableConcurrencyOptimization:
	case e.limiter != nil && !cfg.EnableConcurrencyOptimization && !oc.EnableConcurrencyOptimization &&
		cfg.MaxConcurrentExecutions != nil && *cfg.MaxConcurrentExecutions <= e.limiter.Max():
		// A lower fixed cap: lowering the limit in place never frees a
		// permit, where a new limiter would admit its whole limit on top
		// of the executions still holding the old one's permits.
		l, n := e.limiter, *cfg.MaxConcurrentExecutions
		inPlace = append(inPlace, func() { l.SetLimit(n) })
	default:
		opts := runtime.DefaultLimiterOptions()
		if m := cfg.MaxConcurrentExecutions; m != nil {
			opts.Max = *m
		}
		opts.Adaptive = cfg.EnableConcurrencyOptimization
		if !opts.Adaptive {
			opts.MinQueue = runtime.FixedLimiterMinQueue
		}
		l, err := runtime.NewLimiter(opts)
		if err != nil {
			errs = append(errs, err)
		}
		e.limiter = l
	}

	if cfg.EnableOptimizedTelemetry {
		flush := cfg.TelemetryFlushInterval()
		if t := old.telemetry; t != nil {
			e.telemetry = t
			if err := t.CheckRetune(cfg.TelemetryBatchSize, flush); err != nil {
				errs = append(errs, err)
			} else {
				n := cfg.TelemetryBatchSize
				inPlace = append(inPlace, func() { _ = t.Retune(n, flush) })
			}
		} else if t, err := runtime.NewTelemetry(runtime.TelemetryOptions{
			BatchSize: cfg.TelemetryBatchSize, FlushInterval: flush, Sink: c.sink, Logger: c.logger,
		}); err != nil {
			errs = append(errs, err)
		} else {
			e.telemetry = t
		}
	}
	if old.telemetry != nil && e.telemetry != old.telemetry {
		retired = append(retired, old.telemetry.Close)
	}

	if cfg.EnablePerformanceMonitoring {
		if old.monitor != nil && oc.SlowExecutionThresholdMs == cfg.SlowExecutionThresholdMs &&
			oc.PerformanceDegradationThreshold == cfg.PerformanceDegradationThreshold &&
			oc.OptimizationAnalysisIntervalSeconds == cfg.OptimizationAnalysisIntervalSeconds {
			e.monitor = old.monitor
		} else if m, err := runtime.NewMonitor(runtime.MonitorOptions{
			SlowThreshold:        time.Duration(e.slowNs),
			DegradationThreshold: cfg.PerformanceDegradationThreshold,
			WindowInterval:       cfg.AnalysisInterval(),
		}); err != nil {
			errs = append(errs, err)
		} else {
			e.monitor = m
		}
	}
	if old.monitor != nil && e.monitor != old.monitor {
		retired = append(retired, old.monitor.Close)
	}

	if cfg.EnableMemoryOptimization {
		if old.resources != nil && e.limiter == old.limiter && oc.MemoryPressureThresholdMb == cfg.MemoryPressureThresholdMb &&
			oc.CPUUsageThresholdPercent == cfg.CPUUsageThresholdPercent {
			e.resources = old.resources
		} else if rm, err := c.newResources(cfg, e); err != nil {
			errs = append(errs, err)
		} else {
			e.resources = rm
		}
	}
	if old.resources != nil && e.resources != old.resources {
		retired = append(retired, old.resources.Close)
	}

	if err := errors.Join(errs...); err != nil {
		// Close what was built for this engine alone.
		for _, cl := range e.ownClosers(old) {
			cl(context.Background())
		}
		return nil, nil, err
	}
	for _, f := range inPlace {
		f()
	}
	e.slow.Store(e.slowNs)
	e.env = kernel.Env{
		Clock:      c.clock,
		Limiter:    e.limiter,
		Classifier: e.classifier,
		Telemetry:  e.telemetry,
		SlowNs:     &e.slow,
		Untimed:    e.monitor == nil && e.telemetry == nil && !e.limiter.Adaptive(),
		Sleep:      c.sleepFor,
		Track:      &c.track,
	}
	if e.cache != nil {
		e.env.CachePaused = &e.cache.paused
	}
	return e, retired, nil
}

// ownClosers returns the closers of the components e built itself.
func (e *engine) ownClosers(old *engine) []closer {
	var cs []closer
	if e.cache != nil && e.cache != old.cache {
		cs = append(cs, e.cache.close)
	}
	if e.telemetry != nil && e.telemetry != old.telemetry {
		cs = append(cs, e.telemetry.Close)
	}
	if e.monitor != nil && e.monitor != old.monitor {
		cs = append(cs, e.monitor.Close)
	}
	if e.resources != nil && e.resources != old.resources {
		cs = append(cs, e.resources.Close)
	}
	return cs
}

// closers returns every component of e that needs closing.
func (e *engine) closers() []closer { return e.ownClosers(&engine{}) }

func (c *ExecutorCore) newResources(cfg runtime.OptimizationConfig, e *engine) (*runtime.ResourceManager, error) {
	rm, err := runtime.NewResourceManager(runtime.ResourceOptions{
		MemoryThresholdMB:   cfg.MemoryPressureThresholdMb,
		CPUThresholdPercent: cfg.CPUUsageThresholdPercent,
		Interval:            resourceInterval,
		Limit:               e.limiter,
		Sampler:             c.sampler,
		Logger:              c.logger,
	})
	if err != nil {
		return nil, err
	}
	// Under pressure the caches stop growing and give back half their
	// capacity and the pools drop their idle objects; the limiter is
	// lowered by the manager itself.
	if err := rm.RegisterShrinker("result-cache", func(level runtime.PressureLevel) {
		e := c.eng.Load()
		if e.cache != nil {
			e.cache.shrink(level)
		}
		if e.scratch != nil && level >= runtime.PressureHigh {
			e.scratch.Shrink()
		}
	}); err != nil {
		return nil, err
	}
	if err := rm.Start(); err != nil {
		return nil, err
	}
	return rm, nil
}

// getScratch returns working space for a Parallel of k branches.
func (e *engine) getScratch(k int) *parallelScratch {
	var sc *parallelScratch
	if e.scratch != nil {
		sc = e.scratch.Get()
	} else {
		sc = &parallelScratch{}
	}
	sc.prepare(k)
	return sc
}

// putScratch returns working space whose branches have all reported.
func (e *engine) putScratch(sc *parallelScratch) {
	if e.scratch != nil {
		e.scratch.Put(sc)
	}
}

func equalMax(a, b *int) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
