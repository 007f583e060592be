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
	b         *runtime.Breaker
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
func (s *stepRuntime) breaker(set *breakerSet, threshold int, recovery time.Duration) *runtime.Breaker {
	for {
		old := s.brk.Load()
		if old != nil && old.set == set && old.threshold == threshold && old.recovery == recovery {
			return old.b
		}
		settings := set.settings
		settings.FailureThreshold, settings.RecoveryTimeout = threshold, recovery
		b, _ := runtime.NewBreaker(s.name, settings) // settings validated with the config or the override
		if s.brk.CompareAndSwap(old, &stepBreaker{set: set, threshold: threshold, recovery: recovery, b: b}) {
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

// runCounters count whole runs (Execute calls).
type runCounters struct {
	runs, failures atomic.Uint64
	slow           atomic.Uint64
	// latency holds the run latencies: their total, maximum and the
	// total's percentiles (the monitor's own total merges step executions,
	// which are not runs).
	latency runtime.Histogram
}

func (rc *runCounters) record(res *PipelineResult, slowNs int64) {
	rc.runs.Add(1)
	lat := int64(res.Latency)
	if lat != 0 {
		// As in generated executors, which measure no latency when
		// neither monitoring nor telemetry needs it; a zero adds nothing
		// to the total or the maximum.
		rc.latency.Record(lat)
	}
	if lat > slowNs {
		rc.slow.Add(1)
	}
	if !res.Success {
		rc.failures.Add(1)
	}
}

func nsToMs(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }

// OptimizationStats returns a snapshot of the executor's live counters: runs,
// steps, cache, error classifier, breakers and memory, with the
// configuration in force.
func (c *ExecutorCore) OptimizationStats() runtime.Stats {
	eng := c.eng.Load()
	s := runtime.Stats{Config: eng.cfg.Clone(), Steps: map[string]runtime.StatsStep{}}
	s.Memory.UsageMB = kernel.HeapMB()
	runs := c.runs.latency.Snapshot()
	s.Execution = runtime.StatsExecution{
		Count:   c.runs.runs.Load(),
		TotalMs: nsToMs(int64(runs.Sum)),
		MaxMs:   nsToMs(int64(runs.Max)),
		Slow:    c.runs.slow.Load(),
	}
	if p := eng.scratch; p != nil {
		ps := p.Stats()
		s.Memory.ObjectPool = runtime.StatsPool{Gets: ps.Gets, Hits: ps.Hits, Misses: ps.Misses, Puts: ps.Puts - ps.Drops,
			Drops: ps.Drops, Idle: ps.Idle, Capacity: ps.Capacity}
	}
	l := eng.limiter
	s.Concurrency = runtime.StatsConcurrency{Level: l.InFlight(), Limit: l.Limit(), Max: l.Max(), Waiting: l.Waiting(), Rejected: l.Rejected()}
	if rm := eng.resources; rm != nil {
		snap := rm.Snapshot()
		if snap.Samples > 0 {
			s.Memory.UsageMB = snap.MemoryUsageMB
		}
		s.Memory.PressureLevel = runtime.StatsPressureLevel(snap.MemoryPressureLevel)
		s.CPU.UsagePercent = snap.CPUPercent
	}
	if t := eng.telemetry; t != nil {
		tc := t.Counters()
		s.Telemetry = runtime.StatsTelemetry{Recorded: tc.Recorded, Exported: tc.Exported, Dropped: tc.Dropped,
			SinkErrors: tc.SinkErrors + tc.SinkPanics, Batches: tc.Batches, BatchSize: t.BatchSize(), FlushIntervalSeconds: t.FlushInterval().Seconds()}
	}
	c.steps.Range(func(_, v any) bool {
		sr := v.(*stepRuntime)
		sr.counters.AddTo(s.Steps, sr.name)
		st := s.Steps[sr.name]
		if sb := sr.brk.Load(); sb != nil && sb.set == eng.breakers {
			bc := sb.b.Counters()
			st.CircuitBreaker.Calls += bc.Calls
			st.CircuitBreaker.Failures += bc.Failures
			st.CircuitBreaker.Rejections += bc.Rejections
			st.CircuitBreaker.Opens += bc.Opens
			st.CircuitBreaker.State = max(st.CircuitBreaker.State, bc.State.StatsState())
		}
		s.Steps[sr.name] = st
		return true
	})
	if m := eng.monitor; m != nil {
		snap := m.Snapshot()
		for _, ms := range snap.Steps {
			if st, ok := s.Steps[ms.Step]; ok {
				fillPercentiles(&st.Execution, ms)
				s.Steps[ms.Step] = st
			}
		}
		s.Execution.P50Ms, s.Execution.P95Ms, s.Execution.P99Ms = nsToMs(int64(runs.P50)), nsToMs(int64(runs.P95)), nsToMs(int64(runs.P99))
		s.Execution.Regression = snap.Total.Regressed
	}
	for _, st := range s.Steps {
		s.Errors.Executions += st.Errors.Executions
		s.Errors.Failures += st.Errors.Failures
		s.Errors.Retries += st.Errors.Retries
		s.Errors.RecoveryAttempts += st.Errors.RecoveryAttempts
		s.Errors.Recoveries += st.Errors.Recoveries
	}
	if cl := eng.classifier; cl != nil {
		cc := cl.Counters()
		s.Errors.SkippedRetries = cc.SkippedRetries
		s.Errors.CachedPatterns = cc.Patterns
	}
	if eng.cache != nil {
		s.Cache = eng.cache.stats()
		eng.cache.each(func(b *nodeBase, sc stepCache) {
			cs := sc.stats()
			st := s.Steps[b.name]
			st.Cache.Evictions += cs.Evictions
			st.Cache.Expiries += cs.Expiries
			st.Cache.Size += cs.Size
			st.Cache.Capacity += cs.Capacity
			s.Steps[b.name] = st
		})
	}
	return s
}

func fillPercentiles(e *runtime.StatsExecution, ms runtime.StepMonitorSnapshot) {
	e.P50Ms, e.P95Ms, e.P99Ms, e.Regression = ms.P50Ms, ms.P95Ms, ms.P99Ms, ms.Regressed
}

// PerformanceRecommendations derives recommendations from the live
// counters (OptimizationStats) and the configuration in force.
func (c *ExecutorCore) PerformanceRecommendations() []runtime.Recommendation {
	return runtime.Recommend(c.OptimizationStats(), c.OptimizationConfig())
}
