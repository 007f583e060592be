package kernel

import (
	"errors"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo/runtime"
)

// Parts are what a generated executor keeps per leaf step that needs no
// types: the steps' counters, circuit breakers and monitor handles, and the
// object pool of its Parallel working space (Scratch). The constructor builds the
// breakers (Breaker) and its steps, then registers the steps in slot order
// (Services); the parts then renew the breakers on ImportConfig, find the
// steps' monitor handles, and add the steps' figures to the stats.
type Parts struct {
	deps     Deps
	cfg      runtime.OptimizationConfig
	breakers []breakerPart
	steps    []stepPart
	// pool is the executor's Scratch or, for an executor without a
	// Parallel, a stand-in, so that its pool figures are those of the
	// ExecutorCore.
	pool scratchPool
	errs []error
	// counts is the breaker rule of steps that declare none.
	counts func(error) bool
}

// breakerPart is a breaker built from settings compiled in; a setting the
// step overrides keeps its value through ImportConfig.
type breakerPart struct {
	b                         *runtime.Breaker
	threshold                 int
	recovery                  time.Duration
	ownThreshold, ownRecovery bool
}

// BreakerKept reports whether a step's breaker, open or closed, outlives a
// change of the configuration from was to now: it does when the settings it
// runs with stay the same, those its step's override fixes (ownThreshold,
// ownRecovery) and the configuration's it takes.
func BreakerKept(ownThreshold, ownRecovery bool, was, now runtime.OptimizationConfig) bool {
	return (ownThreshold || was.CircuitBreakerFailureThreshold == now.CircuitBreakerFailureThreshold) &&
		(ownRecovery || was.CircuitBreakerRecoveryTimeoutSeconds == now.CircuitBreakerRecoveryTimeoutSeconds)
}

// stepPart is what Parts keep of one registered step.
type stepPart struct {
	name     string
	breaker  *runtime.Breaker
	counters StepCounters
}

// Own says which compiled-in breaker settings a step override fixed: those
// keep their values when ImportConfig changes the configuration's.
type Own uint8

// The settings Own may name; FromConfig names none.
const (
	FromConfig   Own = 0
	OwnThreshold Own = 1 << iota
	OwnRecovery
)

// NewParts returns the parts of a generated executor started with deps
// (options and name) and the configuration cfg; counts is the rule of
// which errors count against a breaker, for steps that declare none.
func NewParts(cfg runtime.OptimizationConfig, deps Deps, counts func(error) bool) *Parts {
	deps.sharing = NewSharing(deps.Shared, deps.Clock)
	return &Parts{deps: deps, cfg: cfg, counts: counts}
}

// Clock is the clock the executor was built with.
func (p *Parts) Clock() runtime.Clock { return p.deps.Clock }

// Breaker builds the circuit breaker of the step named step with the
// settings compiled in, for a step whose override sets them (own); Services
// builds the other steps' from the configuration. An invalid setting is
// reported by Services.
func (p *Parts) Breaker(step string, threshold int, recovery time.Duration, own Own) *runtime.Breaker {
	b, err := runtime.NewBreaker(step, runtime.BreakerSettings{FailureThreshold: threshold, RecoveryTimeout: recovery, Clock: p.deps.Clock})
	if err != nil {
		p.errs = append(p.errs, err)
		return nil
	}
	p.breakers = append(p.breakers, breakerPart{b: b, threshold: threshold, recovery: recovery,
		ownThreshold: own&OwnThreshold != 0, ownRecovery: own&OwnRecovery != 0})
	p.deps.sharing.Breaker(BreakerKey(p.deps.Pipeline, step), b)
	return b
}

// Registrant is a leaf step that Parts count and monitor: a *Step.
type Registrant interface {
	register(slot int, c *StepCounters, counts func(error) bool, breaker func(step string) *runtime.Breaker, sh *Sharing, pipeline string) (name string, b *runtime.Breaker)
}

// register gives s its monitor slot and counters, counts as its breaker
// rule when it declares none, UsageOf as its usage when its output type is
// an interface and it has none, breaker's breaker when it has none and
// breaker is not nil, and, when it is cached and sh shares a cache, its
// shared cache use, keyed by pipeline and its types.
func (s *Step[In, Out]) register(slot int, c *StepCounters, counts func(error) bool, breaker func(string) *runtime.Breaker, sh *Sharing, pipeline string) (string, *runtime.Breaker) {
	s.Slot, s.Counters = slot, c
	if s.BreakerCounts == nil {
		s.BreakerCounts = counts
	}
	if s.Usage == nil && reflect.TypeFor[Out]().Kind() == reflect.Interface {
		s.Usage = UsageOf[Out] // the dynamic value may report usage
	}
	if s.Breaker == nil && breaker != nil {
		s.Breaker = breaker(s.Name)
	}
	if s.Key != nil && s.Shared == nil {
		s.Shared = NewSharedStep[In, Out](sh, pipeline, s.Name, reflect.TypeFor[In](), reflect.TypeFor[Out](), s.Cache)
	}
	return s.Name, s.Breaker
}

// Scratch is the object pool of an executor's Parallel working space
// (enable_object_pool): Parts build it from the configuration and replace
// it when its settings change. Load returns the pool in force.
type Scratch[T any] struct {
	atomic.Pointer[runtime.Pool[T]]
	// New and Reset make and clear a working space.
	New   func() T
	Reset func(*T)
}

// scratchPool is a Scratch of any type.
type scratchPool interface {
	rebuild(cfg *runtime.OptimizationConfig) (commit func(), err error)
	stats() (runtime.PoolStats, bool)
	shrink()
}

func (s *Scratch[T]) rebuild(cfg *runtime.OptimizationConfig) (func(), error) {
	pl, err := runtime.NewPool(cfg.ObjectPoolMaxSize, cfg.ObjectPoolCleanupThreshold, s.New, s.Reset)
	if err != nil {
		return nil, err
	}
	return func() { s.Store(pl) }, nil
}

func (s *Scratch[T]) stats() (runtime.PoolStats, bool) {
	if pl := s.Load(); pl != nil {
		return pl.Stats(), true
	}
	return runtime.PoolStats{}, false
}

func (s *Scratch[T]) shrink() {
	if pl := s.Load(); pl != nil {
		pl.Shrink()
	}
}

// Services registers steps, the executor's leaf steps in slot order, and
// builds the executor's services with hooks, the executor's own hooks
// (Build, Stats, Shrink, PauseCaches, Close; any may be nil); the parts'
// own rules run beside them. pool is the executor's *Scratch, nil when it
// has no Parallel.
func (p *Parts) Services(hooks Deps, pool scratchPool, steps ...Registrant) (*Services, error) {
	if pool == nil {
		pool = &Scratch[struct{}]{New: func() struct{} { return struct{}{} }, Reset: func(*struct{}) {}}
	}
	p.pool = pool
	// With enable_circuit_breaker, a step that has no breaker of its own
	// settings gets one of the configuration's.
	var breaker func(string) *runtime.Breaker
	if p.cfg.EnableCircuitBreaker {
		threshold, recovery := p.cfg.CircuitBreakerFailureThreshold, time.Duration(p.cfg.CircuitBreakerRecoveryTimeoutSeconds)*time.Second
		breaker = func(step string) *runtime.Breaker { return p.Breaker(step, threshold, recovery, FromConfig) }
	}
	p.steps = make([]stepPart, len(steps))
	for i, s := range steps {
		p.steps[i].name, p.steps[i].breaker = s.register(i, &p.steps[i].counters, p.counts, breaker, p.deps.sharing, p.deps.Pipeline)
	}
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	deps := p.deps
	deps.Fixed = CompiledIn
	deps.Build = func(old, next *Engine) (func(), []Closer, error) { return p.build(hooks.Build, old, next) }
	deps.Stats = func(eng *Engine, s *runtime.Stats) {
		p.addStats(s)
		if hooks.Stats != nil {
			hooks.Stats(eng, s)
		}
	}
	deps.Shrink = func(level runtime.PressureLevel) {
		if hooks.Shrink != nil {
			hooks.Shrink(level)
		}
		if level >= runtime.PressureHigh {
			p.pool.shrink()
		}
	}
	deps.PauseCaches, deps.Close = hooks.PauseCaches, hooks.Close
	return NewServices(p.cfg, deps)
}

// build builds the parts of next, taking over old's (nil for the first
// configuration), then the executor's own (own, nil when it has none): a
// new pool when its settings change, the breakers renewed when theirs do,
// as the ExecutorCore builds new ones, and the steps' monitor handles for
// the monitor in force.
func (p *Parts) build(own func(old, next *Engine) (func(), []Closer, error), old, next *Engine) (func(), []Closer, error) {
	cfg := &next.Config
	var pool func()
	if cfg.EnableObjectPool && (old == nil || !old.Config.EnableObjectPool ||
		cfg.ObjectPoolMaxSize != old.Config.ObjectPoolMaxSize || cfg.ObjectPoolCleanupThreshold != old.Config.ObjectPoolCleanupThreshold) {
		c, err := p.pool.rebuild(cfg)
		if err != nil {
			return nil, nil, err
		}
		pool = c
	}
	renew := len(p.breakers) > 0 && old != nil && (cfg.CircuitBreakerFailureThreshold != old.Config.CircuitBreakerFailureThreshold ||
		cfg.CircuitBreakerRecoveryTimeoutSeconds != old.Config.CircuitBreakerRecoveryTimeoutSeconds)
	recovery := time.Duration(cfg.CircuitBreakerRecoveryTimeoutSeconds) * time.Second
	if renew {
		if err := runtime.CheckBreakerSettings("", runtime.BreakerSettings{FailureThreshold: cfg.CircuitBreakerFailureThreshold, RecoveryTimeout: recovery}); err != nil {
			return nil, nil, err
		}
	}
	if next.Monitor != nil && old != nil && old.Monitor == next.Monitor {
		next.Env.Monitors = old.Env.Monitors
	} else if next.Monitor != nil {
		next.Env.Monitors = make([]*runtime.StepMonitor, len(p.steps))
		for i := range p.steps {
			next.Env.Monitors[i] = next.Monitor.Step(p.steps[i].name)
		}
	}
	var commit func()
	var retired []Closer
	if own != nil {
		c, r, err := own(old, next)
		if err != nil {
			return nil, nil, err
		}
		commit, retired = c, r
	}
	return func() {
		if pool != nil {
			pool()
		}
		if renew {
			for _, bp := range p.breakers {
				if BreakerKept(bp.ownThreshold, bp.ownRecovery, old.Config, *cfg) {
					continue
				}
				s := runtime.BreakerSettings{FailureThreshold: cfg.CircuitBreakerFailureThreshold, RecoveryTimeout: recovery}
				if bp.ownThreshold {
					s.FailureThreshold = bp.threshold
				}
				if bp.ownRecovery {
					s.RecoveryTimeout = bp.recovery
				}
				_ = bp.b.Renew(s) // valid: checked above or compiled in
			}
		}
		if commit != nil {
			commit()
		}
	}, retired, nil
}

// addStats adds the steps' counters and breakers to s, and the stand-in
// pool's figures.
func (p *Parts) addStats(s *runtime.Stats) {
	for i := range p.steps {
		sp := &p.steps[i]
		sp.counters.AddTo(s.Steps, sp.name)
		if sp.breaker != nil {
			AddBreaker(s.Steps, sp.name, sp.breaker)
		}
	}
	if ps, ok := p.pool.stats(); ok {
		AddPool(s, ps)
	}
}
