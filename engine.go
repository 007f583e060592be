package flujo

import (
	"context"

	"github.com/flujo/flujo/internal/kernel"
	"github.com/flujo/flujo/runtime"
)

// engine is the ExecutorCore's part of one configuration in force: the
// components it builds itself (the result caches, the breakers and the
// scratch pool), beside the kernel's. Runs load it once and use it
// throughout, so a configuration change never reaches a run half way.
type engine struct {
	k   *kernel.Engine
	cfg runtime.OptimizationConfig

	stepOpt bool // reuse tree analyses
	ctxOpt  bool // copy-on-write state in Parallel
	algoOpt bool // fast input hashing for cache keys

	cache *cacheSet // nil when caching is off
	// scratch pools the working space of Parallel runs; nil when
	// enable_object_pool is off.
	scratch  *runtime.Pool[parallelScratch]
	breakers *breakerSet // nil when breakers are off
}

// engine returns the ExecutorCore's part of the engine in force.
func (c *ExecutorCore) engine() *engine { return c.svc.Engine().Parts.(*engine) }

// buildEngine builds the ExecutorCore's part of next (kernel.Deps.Build).
// Components whose settings did not change are taken over from old.
func (c *ExecutorCore) buildEngine(old, next *kernel.Engine) (func(), []kernel.Closer, error) {
	o := &engine{}
	if old != nil {
		o = old.Parts.(*engine)
	}
	cfg := next.Config
	e := &engine{
		k:       next,
		cfg:     cfg,
		stepOpt: cfg.EnableStepOptimization,
		ctxOpt:  cfg.EnableContextOptimization,
		algoOpt: cfg.EnableAlgorithmOptimization,
	}
	oc := o.cfg
	var retired []kernel.Closer
	if cfg.EnableCacheOptimization {
		if o.cache != nil && oc.CacheMaxSize == cfg.CacheMaxSize && oc.CacheTTLSeconds == cfg.CacheTTLSeconds &&
			oc.CacheCompression == cfg.CacheCompression && oc.EnableAlgorithmOptimization == cfg.EnableAlgorithmOptimization {
			e.cache = o.cache
		} else {
			cs, err := newCacheSet(cfg, c.clock)
			if err != nil {
				return nil, nil, err
			}
			e.cache = cs
		}
	}
	if cfg.EnableCircuitBreaker {
		if o.breakers != nil && oc.CircuitBreakerFailureThreshold == cfg.CircuitBreakerFailureThreshold &&
			oc.CircuitBreakerRecoveryTimeoutSeconds == cfg.CircuitBreakerRecoveryTimeoutSeconds {
			e.breakers = o.breakers
		} else {
			e.breakers = newBreakerSet(cfg, c.clock, c.logger)
		}
	}
	var commit func()
	if o.breakers != nil && e.breakers != nil && e.breakers != o.breakers {
		// The breakers the new settings do not change stay, open or closed.
		was, now := o.breakers, e.breakers
		commit = func() {
			c.steps.Range(func(_, v any) bool {
				sr := v.(*stepRuntime)
				if sb := sr.brk.Load(); sb != nil && sb.set == was && kernel.BreakerKept(sb.ownThreshold, sb.ownRecovery, oc, cfg) {
					kept := *sb
					kept.set = now
					sr.brk.CompareAndSwap(sb, &kept)
				}
				return true
			})
		}
	}
	if cfg.EnableObjectPool {
		if o.scratch != nil && oc.ObjectPoolMaxSize == cfg.ObjectPoolMaxSize && oc.ObjectPoolCleanupThreshold == cfg.ObjectPoolCleanupThreshold {
			e.scratch = o.scratch
		} else if p, err := runtime.NewPool(cfg.ObjectPoolMaxSize, cfg.ObjectPoolCleanupThreshold, nil, resetScratch); err != nil {
			if e.cache != nil && e.cache != o.cache {
				e.cache.close(context.Background())
			}
			return nil, nil, err
		} else {
			e.scratch = p
		}
	}
	if o.cache != nil && e.cache != o.cache {
		retired = append(retired, o.cache.close)
	}
	if e.cache != nil {
		next.Env.CachePaused = &e.cache.paused
	}
	next.Parts = e
	return commit, retired, nil
}

// closeEngine returns the closers of the ExecutorCore's part of eng
// (kernel.Deps.Close).
func closeEngine(eng *kernel.Engine) []kernel.Closer {
	if e := eng.Parts.(*engine); e.cache != nil {
		return []kernel.Closer{e.cache.close}
	}
	return nil
}

// shrink reacts to memory pressure (kernel.Deps.Shrink): from high pressure
// on, the caches stop admitting results and give back half their capacity
// and the pool drops its idle objects; below, the caches admit again.
func (c *ExecutorCore) shrink(level runtime.PressureLevel) {
	e := c.engine()
	if e.cache != nil {
		e.cache.shrink(level)
	}
	if e.scratch != nil && level >= runtime.PressureHigh {
		e.scratch.Shrink()
	}
}

// pauseCaches pauses or resumes the caches' admission for the auto-tuner.
func pauseCaches(eng *kernel.Engine, pause bool) {
	if e := eng.Parts.(*engine); e.cache != nil {
		e.cache.paused.Store(pause)
	}
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
