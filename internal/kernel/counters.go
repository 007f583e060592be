package kernel

import (
	"sync/atomic"

	"github.com/flujo/flujo/runtime"
)

// StepCounters count the executions of one step. An executor keeps them
// across configurations, so they are, with the step's monitor handles (see
// Record), the step's whole history.
type StepCounters struct {
	// Successes and Failures count the executions by outcome, each on its
	// own, so that neither ever reads lower than before (see RunCounters).
	Successes, Failures, Retries atomic.Uint64
	RecoveryAttempts, Recovered  atomic.Uint64
	CacheHits, CacheMisses       atomic.Uint64
	Slow                         atomic.Uint64
	TotalNs, MaxNs               atomic.Int64
}

// Record counts one finished execution whose result is res; slowNs holds
// the slow-execution threshold in force. monitored says that the step's
// monitor handle recorded the execution: the handle's histogram then holds
// the execution, its latency, whether it was slow and whether it failed,
// and Stats reads them there (the figures of a replaced monitor are folded
// into the services', see Services.ImportConfig), so that they are counted
// once; the counters keep only the retries.
func (s *StepCounters) Record(res *runtime.StepResult, slowNs *atomic.Int64, monitored bool) {
	if !monitored {
		s.record(res, slowNs.Load())
	}
	if res.Attempts > 1 {
		s.Retries.Add(uint64(res.Attempts - 1))
		s.RecoveryAttempts.Add(1)
		if res.Success {
			s.Recovered.Add(1)
		}
	}
}

// record counts an execution no monitor recorded.
func (s *StepCounters) record(res *runtime.StepResult, slowNs int64) {
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
	if res.Success {
		s.Successes.Add(1)
	} else {
		s.Failures.Add(1)
	}
}

// AddTo adds the counters to the entry of the step named name in steps:
// the executions, latencies, errors and cache lookups the step's stats
// report.
func (s *StepCounters) AddTo(steps map[string]runtime.StatsStep, name string) {
	failures := s.Failures.Load()
	n := s.Successes.Load() + failures
	hits, misses := s.CacheHits.Load(), s.CacheMisses.Load()
	st := steps[name]
	st.Execution.Count += n
	st.Execution.TotalMs += Ms(s.TotalNs.Load())
	st.Execution.MaxMs = max(st.Execution.MaxMs, Ms(s.MaxNs.Load()))
	st.Execution.Slow += s.Slow.Load()
	st.Errors.Executions += n
	st.Errors.Failures += failures
	st.Errors.Retries += s.Retries.Load()
	st.Errors.RecoveryAttempts += s.RecoveryAttempts.Load()
	st.Errors.Recoveries += s.Recovered.Load()
	st.Cache.Hits += hits
	st.Cache.Misses += misses
	steps[name] = st
}

// Ms converts nanoseconds to the milliseconds stats report.
func Ms(ns int64) float64 { return float64(ns) / 1e6 }
