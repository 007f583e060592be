package kernel

import (
	"sync/atomic"

	"github.com/flujo/flujo/runtime"
)

// RunCounters count whole runs.
type RunCounters struct {
	// successes and failures count the runs by outcome, each on its own,
	// so that neither ever reads lower than before: successes derived as
	// runs less failures would, for a failed run counted in the one and
	// not yet in the other.
	successes, failures, slow atomic.Uint64
	// latency holds the measured run latencies: their count, total,
	// maximum and the total's percentiles.
	latency runtime.Histogram
}

// Record counts one finished run of latency ns that succeeded or not; eng
// holds the engine in force, whose slow-execution threshold applies. A run
// whose latency was not measured (0) adds none to the latencies.
func (rc *RunCounters) Record(ns int64, ok bool, eng *atomic.Pointer[Engine]) {
	if ns != 0 {
		rc.latency.Record(ns)
		if ns > eng.Load().slowNs.Load() {
			rc.slow.Add(1)
		}
	}
	if ok {
		rc.successes.Add(1)
	} else {
		rc.failures.Add(1)
	}
}

// Stats returns a snapshot of the executor's live counters with the
// configuration in force: runs, concurrency, memory, CPU, telemetry, the
// steps (from the front end), their percentiles, errors and the error
// classifier. Its counters count the components that configuration
// changes replaced too, so none is ever lower than in an earlier
// snapshot.
func (s *Services) Stats() runtime.Stats {
	st := runtime.Stats{Steps: map[string]runtime.StatsStep{}}
	s.foldMu.Lock()
	defer s.foldMu.Unlock()
	eng := s.eng.Load()
	for name, f := range s.folded {
		st.Steps[name] = f
	}
	st.Config = eng.Config.Clone()
	st.Distributed = s.sharing.stats()
	st.Distributed.Configured = s.configured()
	st.Memory.UsageMB = HeapMB()
	runs := s.runs.latency.Snapshot()
	failures := s.runs.failures.Load()
	st.Execution = runtime.StatsExecution{
		Count:    s.runs.successes.Load() + failures,
		TotalMs:  Ms(int64(runs.Sum)),
		MaxMs:    Ms(int64(runs.Max)),
		Slow:     s.runs.slow.Load(),
		Failures: failures,
	}
	l := eng.Limiter
	st.Concurrency = runtime.StatsConcurrency{Level: l.InFlight(), Limit: l.Limit(), Max: l.Max(), Waiting: l.Waiting(),
		Rejected: s.retired.rejected + l.Rejected()}
	if rm := eng.Resources; rm != nil {
		snap := rm.Snapshot()
		if snap.Samples > 0 {
			st.Memory.UsageMB = snap.MemoryUsageMB
		}
		st.Memory.PressureLevel = runtime.StatsPressureLevel(snap.MemoryPressureLevel)
		st.CPU.UsagePercent = snap.CPUPercent
	}
	tc := s.retired.telemetry
	if t := eng.Telemetry; t != nil {
		addTelemetry(&tc, t.Counters(), runtime.TelemetryCounters{})
		st.Telemetry.BatchSize, st.Telemetry.FlushIntervalSeconds = t.BatchSize(), t.FlushInterval().Seconds()
	}
	st.Telemetry.Recorded, st.Telemetry.Exported, st.Telemetry.Dropped = tc.Recorded, tc.Exported, tc.Dropped
	st.Telemetry.SinkErrors, st.Telemetry.Batches = tc.SinkErrors+tc.SinkPanics, tc.Batches
	if s.deps.Stats != nil {
		s.deps.Stats(eng, &st)
	}
	s.retired.addParts(&st)
	if m := eng.Monitor; m != nil {
		snap := m.Snapshot()
		addMonitorFigures(st.Steps, snap, false)
		for _, ms := range snap.Steps {
			if step, ok := st.Steps[ms.Step]; ok {
				step.Execution.P50Ms, step.Execution.P95Ms, step.Execution.P99Ms, step.Execution.Regression = ms.P50Ms, ms.P95Ms, ms.P99Ms, ms.Regressed
				st.Steps[ms.Step] = step
			}
		}
		st.Execution.P50Ms, st.Execution.P95Ms, st.Execution.P99Ms = Ms(int64(runs.P50)), Ms(int64(runs.P95)), Ms(int64(runs.P99))
		st.Execution.Regression = snap.Total.Regressed
	}
	// The totals are the sums of the steps' figures, so that they agree.
	for _, step := range st.Steps {
		st.Errors.Executions += step.Errors.Executions
		st.Errors.Failures += step.Errors.Failures
		st.Errors.Retries += step.Errors.Retries
		st.Errors.RecoveryAttempts += step.Errors.RecoveryAttempts
		st.Errors.Recoveries += step.Errors.Recoveries
		c := step.Cache
		st.Cache.Hits += c.Hits
		st.Cache.Misses += c.Misses
		st.Cache.Evictions += c.Evictions
		st.Cache.Expiries += c.Expiries
		st.Cache.Size += c.Size
		st.Cache.Capacity += c.Capacity
	}
	st.Errors.SkippedRetries = s.retired.skippedRetries
	if cl := eng.Classifier; cl != nil {
		cc := cl.Counters()
		st.Errors.SkippedRetries += cc.SkippedRetries
		st.Errors.CachedPatterns = cc.Patterns
	}
	return st
}

// LatencyHistograms reads the latency histograms of the runs and of every
// step the monitors in force and replaced recorded. It runs off the hot
// path: each histogram's buckets are loaded once, without a lock the
// recording takes.
func (s *Services) LatencyHistograms() runtime.LatencyHistograms {
	out := runtime.LatencyHistograms{Runs: s.runs.latency.LatencyBuckets(), Steps: map[string]runtime.LatencyBuckets{}}
	s.foldMu.Lock()
	defer s.foldMu.Unlock()
	for name, l := range s.foldedLatency {
		out.Steps[name] = l
	}
	if m := s.eng.Load().Monitor; m != nil {
		m.AddLatencyBuckets(out.Steps)
	}
	return out
}

// addMonitorFigures adds to steps what the monitor whose snapshot is snap
// counted of each step's executions: their number, latencies, slow ones
// and failures. all adds an entry for every step of the monitor; else a
// step without an entry in steps gets one only if it ran.
func addMonitorFigures(steps map[string]runtime.StatsStep, snap runtime.MonitorSnapshot, all bool) {
	for _, ms := range snap.Steps {
		st, ok := steps[ms.Step]
		if !ok && !all && ms.Count == 0 {
			continue
		}
		st.Execution.Count += ms.Count
		st.Execution.TotalMs += ms.TotalMs
		st.Execution.MaxMs = max(st.Execution.MaxMs, ms.MaxMs)
		st.Execution.Slow += ms.Slow
		st.Errors.Executions += ms.Count
		st.Errors.Failures += ms.Errors
		steps[ms.Step] = st
	}
}

// AddBreaker adds the counters of a step's breaker to its entry of steps.
func AddBreaker(steps map[string]runtime.StatsStep, name string, b *runtime.Breaker) {
	bc := b.Counters()
	st := steps[name]
	st.CircuitBreaker.Calls += bc.Calls
	st.CircuitBreaker.Failures += bc.Failures
	st.CircuitBreaker.Rejections += bc.Rejections
	st.CircuitBreaker.Opens += bc.Opens
	st.CircuitBreaker.State = max(st.CircuitBreaker.State, bc.State.StatsState())
	steps[name] = st
}

// AddCache adds a step cache's figures to the step's entry of steps; the
// step's counters (StepCounters) count its hits and misses, and Stats sums
// the steps into the executor's totals.
func AddCache(s *runtime.Stats, name string, cs runtime.ResultCacheStats) {
	st := s.Steps[name]
	st.Cache.Evictions += cs.Evictions
	st.Cache.Expiries += cs.Expiries
	st.Cache.Size += cs.Size
	st.Cache.Capacity += cs.Capacity
	s.Steps[name] = st
}

// AddPool adds a pool's figures to the executor's memory stats.
func AddPool(s *runtime.Stats, ps runtime.PoolStats) {
	s.Memory.ObjectPool = runtime.StatsPool{Gets: ps.Gets, Hits: ps.Hits, Misses: ps.Misses, Puts: ps.Puts - ps.Drops,
		Drops: ps.Drops, Idle: ps.Idle, Capacity: ps.Capacity}
}
