package flujo

import (
	"errors"
	"time"

	"github.com/flujo/flujo/runtime"
)

// The functions of this file are rules of the ExecutorCore that other
// engines must apply in exactly the same way: generated executors call them
// instead of carrying copies that could drift apart. The usage budget's
// rules, RunBudget, ChargeUsage and CompleteUsageLimitError, are in
// budget.go.

// FailedRunError returns the error of a run whose root result res failed: a
// *StepError naming the path to the innermost failed node, with that run's
// feedback and error.
func FailedRunError(res StepResult) *StepError {
	return &StepError{Path: failurePath(res), Feedback: res.Feedback, Err: res.Err}
}

// RunMetrics returns the Metrics of a finished run, as
// ExecuteWithMonitoring reports them: the run's latency, the live heap now,
// whether a leaf's output came from the cache, and the step function calls.
func RunMetrics(res *PipelineResult) Metrics {
	var m Metrics
	m.ExecutionTimeMs = float64(res.Latency) / float64(time.Millisecond)
	m.MemoryUsageMb = HeapMB()
	walkResults(res.Steps, func(s *StepResult) {
		if len(s.Steps) == 0 || s.FallbackTriggered {
			m.CacheHit = m.CacheHit || s.CacheHit
		}
	})
	m.Attempts = leafAttempts(res.Steps)
	return m
}

// HeapMB returns the live heap in MiB (runtime/metrics'
// /memory/classes/heap/objects:bytes): the memory figure of Metrics and of
// OptimizationStats.
func HeapMB() float64 { return float64(heapBytes()) / (1 << 20) }

// OutcomeOf classifies how a step execution that ended with err went, for
// telemetry and the adaptive limiter: success for nil, rejected for a
// *CircuitOpenError or a *ConcurrencyLimitError, timeout for a *StepTimeoutError, else failure.
func OutcomeOf(err error) runtime.Outcome {
	if err == nil {
		return runtime.OutcomeSuccess
	}
	var co *CircuitOpenError
	var te *StepTimeoutError
	var ce *ConcurrencyLimitError
	switch {
	case errors.As(err, &co), errors.As(err, &ce):
		return runtime.OutcomeRejected
	case errors.As(err, &te):
		return runtime.OutcomeTimeout
	}
	return runtime.OutcomeFailure
}

// GoexitResult marks res, the result of the node named node, failed with a
// *GoexitError: a step in it called runtime.Goexit on the goroutine that ran
// it. Generated executors call it, as the ExecutorCore does, from a deferred
// function of that goroutine, so that the node is reported instead of
// waited for.
func GoexitResult(res *StepResult, node string) { goexitResult(res, node) }
