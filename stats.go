package flujo

import (
	"sync/atomic"
	"time"

	"github.com/flujo/flujo/internal/kernel"
	"github.com/flujo/flujo/runtime"
)

// stepRuntime is what the executor keeps about one step across runs: its
// counters and its circuit breaker. It lives in the executor, keyed by the
// step's identity, so it survives configuration changes.
type stepRuntime struct {
	name string
	brk  atomic.Pointer[stepBreaker]
	mon  atomic.Pointer[stepMonitor]

	// kstep is the step as the latest engine to run it runs it.
	kstep atomic.Pointer[engineStep]

	counters kernel.StepCounters
}

// stepBreaker is a step's breaker with the settings it was built from.
type stepBreaker struct {
	set       *breakerSet
	threshold int
	recovery  time.Duration
	// own reports which settings the step's override fixes.
	ownThreshold, ownRecovery bool
	b                         *runtime.Breaker
}

// stepKey identifies a leaf that a step override changes in one pipeline:
// it has its own counters and breaker there, as it has in that pipeline's
// generated executor, whatever other pipelines share the leaf.
type stepKey struct {
	b        *nodeBase
	pipeline string
}

// stepRT returns the record of the step keyed by key (its *nodeBase, or a
// stepKey), creating it on first use.
func (c *ExecutorCore) stepRT(key any, name string) *stepRuntime {
	if s, ok := c.steps.Load(key); ok {
		return s.(*stepRuntime)
	}
	s, _ := c.steps.LoadOrStore(key, &stepRuntime{name: name})
	return s.(*stepRuntime)
}

// breaker returns the step's breaker under set with the step's effective
// threshold and recovery timeout, building a new one when any of them
// changed.
func (s *stepRuntime) breaker(set *breakerSet, st *runtime.StepSettings) *runtime.Breaker {
	threshold, recovery := st.BreakerFailureThreshold, st.BreakerRecoveryTimeout
	for {
		old := s.brk.Load()
		if old != nil && old.set == set && old.threshold == threshold && old.recovery == recovery {
			return old.b
		}
		settings := set.settings
		settings.FailureThreshold, settings.RecoveryTimeout = threshold, recovery
		b, _ := runtime.NewBreaker(s.name, settings) // settings validated with the config or the override
		if s.brk.CompareAndSwap(old, &stepBreaker{set: set, threshold: threshold, recovery: recovery, ownThreshold: st.OwnBreakerThreshold, ownRecovery: st.OwnBreakerRecovery, b: b}) {
			return b
		}
	}
}

// stepMonitor is a step's monitor handle with the monitor it belongs to.
type stepMonitor struct {
	m *runtime.Monitor
	s *runtime.StepMonitor
}

// monitor returns the step's handle in m, registering it on first use.
func (s *stepRuntime) monitor(m *runtime.Monitor) *runtime.StepMonitor {
	if sm := s.mon.Load(); sm != nil && sm.m == m {
		return sm.s
	}
	h := m.Step(s.name)
	s.mon.Store(&stepMonitor{m: m, s: h})
	return h
}

// OptimizationStats returns a snapshot of the executor's live counters: runs,
// steps, cache, error classifier, breakers and memory, with the
// configuration in force.
func (c *ExecutorCore) OptimizationStats() runtime.Stats { return c.svc.Stats() }

// LatencyHistograms reads the latency histograms of the runs and steps
// that the performance monitor recorded, as cumulative counts at the
// bounds of runtime.LatencyBucketBounds, for exposition formats that need
// buckets (contrib/prometheus). It reads the histograms the monitor keeps
// and records nothing.
func (c *ExecutorCore) LatencyHistograms() runtime.LatencyHistograms {
	return c.svc.LatencyHistograms()
}

// addStats adds the ExecutorCore's figures to s (kernel.Deps.Stats): each
// step's counters and breaker, the caches and the scratch pool.
func (c *ExecutorCore) addStats(k *kernel.Engine, s *runtime.Stats) {
	eng := k.Parts.(*engine)
	if p := eng.scratch; p != nil {
		kernel.AddPool(s, p.Stats())
	}
	c.steps.Range(func(_, v any) bool {
		sr := v.(*stepRuntime)
		sr.counters.AddTo(s.Steps, sr.name)
		if sb := sr.brk.Load(); sb != nil && sb.set == eng.breakers {
			kernel.AddBreaker(s.Steps, sr.name, sb.b)
		}
		return true
	})
	if eng.cache != nil {
		s.Cache.AdmissionPaused = eng.cache.paused.Load()
		eng.cache.each(func(b *nodeBase, sc stepCache) { kernel.AddCache(s, b.name, sc.stats()) })
	}
}

// PerformanceRecommendations derives recommendations from the live
// counters (OptimizationStats) and the configuration in force.
func (c *ExecutorCore) PerformanceRecommendations() []runtime.Recommendation {
	return c.svc.Recommendations()
}
