package kernel

import (
	"sync/atomic"

	"github.com/flujo/flujo/runtime"
)

// RunCounters count whole runs.
type RunCounters struct {
	// untimed counts the runs whose latency was not measured; the others
	// are the latency histogram's count.
	untimed, failures, slow atomic.Uint64
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
	} else {
		rc.untimed.Add(1)
	}
	if !ok {
		rc.failures.Add(1)
	}
}

// Stats returns a snapshot of the executor's live counters with the
// configuration in force: runs, concurrency, memory, CPU, telemetry, the
// steps (from the front end), their percentiles, errors and the error
// classifier.
func (s *Services) Stats() runtime.Stats {
	st := runtime.Stats{Steps: map[string]runtime.StatsStep{}}
	s.foldMu.Lock()
	eng := s.eng.Load()
	for name, f := range s.folded {
		st.Steps[name] = f
	}
	s.foldMu.Unlock()
	st.Config = eng.Config.Clone()
	st.Distributed = s.sharing.stats()
	st.Distributed.Configured = s.configured()
	st.Memory.UsageMB = HeapMB()
	runs := s.runs.latency.Snapshot()
	st.Execution = runtime.StatsExecution{
		Count:   s.runs.untimed.Load() + runs.Count,
		TotalMs: Ms(int64(runs.Sum)),
		MaxMs:   Ms(int64(runs.Max)),
		Slow:    s.runs.slow.Load(),
		// Loaded after the latencies, and recorded after them, so a
		// snapshot never shows more failures than runs.
		Failures: s.runs.failures.Load(),
	}
	l := eng.Limiter
	st.Concurrency = runtime.StatsConcurrency{Level: l.InFlight(), Limit: l.Limit(), Max: l.Max(), Waiting: l.Waiting(), Rejected: l.Rejected()}
	if rm := eng.Resources; rm != nil {
		snap := rm.Snapshot()
		if snap.Samples > 0 {
			st.Memory.UsageMB = snap.MemoryUsageMB
		}
		st.Memory.PressureLevel = runtime.StatsPressureLevel(snap.MemoryPressureLevel)
		st.CPU.UsagePercent = snap.CPUPercent
	}
	if t := eng.Telemetry; t != nil {
		tc := t.Counters()
		st.Telemetry = runtime.StatsTelemetry{Recorded: tc.Recorded, Exported: tc.Exported, Dropped: tc.Dropped,
			SinkErrors: tc.SinkErrors + tc.SinkPanics, Batches: tc.Batches, BatchSize: t.BatchSize(), FlushIntervalSeconds: t.FlushInterval().Seconds()}
	}
	if s.deps.Stats != nil {
		s.deps.Stats(eng, &st)
	}
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
	for _, step := range st.Steps {
		st.Errors.Executions += step.Errors.Executions
		st.Errors.Failures += step.Errors.Failures
		st.Errors.Retries += step.Errors.Retries
		st.Errors.RecoveryAttempts += step.Errors.RecoveryAttempts
		st.Errors.Recoveries += step.Errors.Recoveries
	}
	if cl := eng.Classifier; cl != nil {
		cc := cl.Counters()
		st.Errors.SkippedRetries = cc.SkippedRetries
		st.Errors.CachedPatterns = cc.Patterns
	}
	return st
}

// LatencyHistograms reads the latency histograms of the runs and of every
// step the monitors in force and replaced recorded. It runs off the hot
// path: each histogram's buckets are loaded once, without a lock.
func (s *Services) LatencyHistograms() runtime.LatencyHistograms {
	out := runtime.LatencyHistograms{Runs: s.runs.latency.LatencyBuckets(), Steps: map[string]runtime.LatencyBuckets{}}
	s.foldMu.Lock()
	eng := s.eng.Load()
	for name, l := range s.foldedLatency {
		out.Steps[name] = l
	}
	s.foldMu.Unlock()
	if m := eng.Monitor; m != nil {
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

// AddCache adds a step cache's figures to the step's entry of steps and
// to the executor's cache totals.
func AddCache(s *runtime.Stats, name string, cs runtime.ResultCacheStats) {
	st := s.Steps[name]
	st.Cache.Evictions += cs.Evictions
	st.Cache.Expiries += cs.Expiries
	st.Cache.Size += cs.Size
	st.Cache.Capacity += cs.Capacity
	s.Steps[name] = st
	s.Cache.Hits += cs.Hits
	s.Cache.Misses += cs.Misses
	s.Cache.Evictions += cs.Evictions
	s.Cache.Expiries += cs.Expiries
	s.Cache.Size += cs.Size
	s.Cache.Capacity += cs.Capacity
}

// AddPool adds a pool's figures to the executor's memory stats.
func AddPool(s *runtime.Stats, ps runtime.PoolStats) {
	s.Memory.ObjectPool = runtime.StatsPool{Gets: ps.Gets, Hits: ps.Hits, Misses: ps.Misses, Puts: ps.Puts - ps.Drops,
		Drops: ps.Drops, Idle: ps.Idle, Capacity: ps.Capacity}
}
