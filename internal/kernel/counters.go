package kernel

import (
	"sync/atomic"

	"github.com/flujo/flujo/runtime"
)

// StepCounters count the executions of one step. An executor keeps them
// across configurations, so they are the step's whole history.
type StepCounters struct {
	Execs, Failures, Retries    atomic.Uint64
	RecoveryAttempts, Recovered atomic.Uint64
	CacheHits, CacheMisses      atomic.Uint64
	Slow                        atomic.Uint64
	TotalNs, MaxNs              atomic.Int64
}

// Record counts one finished execution whose result is res; slowNs is the
// slow-execution threshold in force.
func (s *StepCounters) Record(res *runtime.StepResult, slowNs int64) {
	s.Execs.Add(1)
	lat := int64(res.Latency)
	if lat != 0 { // an untimed execution adds nothing to the latencies
		s.TotalNs.Add(lat)
		if lat > s.MaxNs.Load() {
			s.MaxNs.Store(lat) // racy maximum: a concurrent larger value may be lost for one snapshot
		}
	}
	if lat > slowNs {
		s.Slow.Add(1)
	}
	if !res.Success {
		s.Failures.Add(1)
	}
	if res.Attempts > 1 {
		s.Retries.Add(uint64(res.Attempts - 1))
		s.RecoveryAttempts.Add(1)
		if res.Success {
			s.Recovered.Add(1)
		}
	}
}

// AddTo adds the counters to the entry of the step named name in steps:
// the executions, latencies, errors and cache lookups the step's stats
// report.
func (s *StepCounters) AddTo(steps map[string]runtime.StatsStep, name string) {
	n := s.Execs.Load()
	hits, misses := s.CacheHits.Load(), s.CacheMisses.Load()
	st := steps[name]
	st.Execution.Count += n
	st.Execution.TotalMs += Ms(s.TotalNs.Load())
	st.Execution.MaxMs = max(st.Execution.MaxMs, Ms(s.MaxNs.Load()))
	st.Execution.Slow += s.Slow.Load()
	st.Errors.Executions += n
	st.Errors.Failures += s.Failures.Load()
	st.Errors.Retries += s.Retries.Load()
	st.Errors.RecoveryAttempts += s.RecoveryAttempts.Load()
	st.Errors.Recoveries += s.Recovered.Load()
	st.Cache.Hits += hits
	st.Cache.Misses += misses
	steps[name] = st
}

// Ms converts nanoseconds to the milliseconds stats report.
func Ms(ns int64) float64 { return float64(ns) / 1e6 }
