// The rules that read a run's results: the failure path of a failed run,
// its metrics and the result of a node whose goroutine exited.

package kernel

import (
	"fmt"
	"reflect"
	"runtime/metrics"
	"time"

	"github.com/flujo/flujo/runtime"
)

// FailedRunError returns the error of a run whose root result res failed: a
// *runtime.StepError naming the path to the innermost failed node, with
// that node's feedback and error.
func FailedRunError(res runtime.StepResult) *runtime.StepError {
	return &runtime.StepError{Path: FailurePath(res), Feedback: res.Feedback, Err: res.Err}
}

// FailurePath follows the failed results down to the innermost failed node:
// from a node, it descends into the first failed child whose error the node
// carries, the child that failed it. A node that failed by itself (a join,
// a merge conflict, its own Timeout or validator) is the end of the path,
// even when children failed before it (a branch that Ignore ignored).
func FailurePath(res runtime.StepResult) []string {
	path := []string{res.Name}
	for {
		next := -1
		for i := range res.Steps {
			if !res.Steps[i].Success && sameError(res.Steps[i].Err, res.Err) {
				next = i
				break
			}
		}
		if next < 0 || res.FallbackTriggered {
			return path
		}
		res = res.Steps[next]
		path = append(path, res.Name)
	}
}

// sameError reports whether a and b are the same non-nil error value: a
// composite that a child failed carries that child's error itself.
func sameError(a, b error) bool {
	if a == nil || b == nil || reflect.TypeOf(a) != reflect.TypeOf(b) || !reflect.ValueOf(a).Comparable() {
		return false
	}
	return a == b
}

// RunMetrics returns the Metrics of a finished run, as
// ExecuteWithMonitoring reports them: the run's latency, the live heap now,
// whether a leaf's output came from the cache, and the step function calls.
func RunMetrics(res *runtime.PipelineResult) runtime.Metrics {
	var m runtime.Metrics
	m.ExecutionTimeMs = float64(res.Latency) / float64(time.Millisecond)
	m.MemoryUsageMb = HeapMB()
	walk(res.Steps, func(s *runtime.StepResult) {
		if len(s.Steps) == 0 || s.FallbackTriggered {
			m.CacheHit = m.CacheHit || s.CacheHit
		}
	})
	m.Attempts = leafAttempts(res.Steps)
	return m
}

// leafAttempts adds up the attempts of leaf results; a result with a
// fallback already includes its fallback's attempts.
func leafAttempts(steps []runtime.StepResult) int {
	n := 0
	for i := range steps {
		s := &steps[i]
		switch {
		case s.FallbackTriggered:
			primary, fb := s.Steps[:len(s.Steps)-1], s.Steps[len(s.Steps)-1:]
			if len(primary) == 0 { // a leaf: its own attempts are the rest
				n += s.Attempts - fb[0].Attempts
			} else {
				n += leafAttempts(primary)
			}
			n += leafAttempts(fb)
		case len(s.Steps) == 0:
			n += s.Attempts
		default:
			n += leafAttempts(s.Steps)
		}
	}
	return n
}

func walk(steps []runtime.StepResult, f func(*runtime.StepResult)) {
	for i := range steps {
		f(&steps[i])
		walk(steps[i].Steps, f)
	}
}

// HeapMB returns the live heap in MiB (runtime/metrics'
// /memory/classes/heap/objects:bytes): the memory figure of Metrics and of
// the executors' statistics.
func HeapMB() float64 { return float64(heapBytes()) / (1 << 20) }

// heapBytes reads the bytes of live and not yet swept heap objects.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// GoexitResult marks res, the result of the node named node, failed with a
// *runtime.GoexitError: a step in it called runtime.Goexit on the goroutine
// that ran it. Executors call it from a deferred function of that
// goroutine, so that the node is reported instead of waited for.
func GoexitResult(res *runtime.StepResult, node string) {
	err := &runtime.GoexitError{Node: node}
	*res = runtime.StepResult{Name: node, Err: err, Feedback: runtime.FailureFeedback(err)}
}

// Run is one run of a generated executor: the engine it runs with, whether
// its results are recorded, its state and its budget.
type Run[S any] struct {
	Eng    *Engine
	Record bool
	State  *S
	Budget *runtime.Budget
}

// Frame is the kernel frame of the run, for its leaves.
func (r *Run[S]) Frame() Frame { return Frame{State: r.State, Budget: r.Budget, Record: r.Record} }

// NewRun returns a run of the engine in force on the state st, a new zero
// state when st is nil.
func NewRun[S any](s *Services, st *S, record bool) Run[S] {
	if st == nil {
		st = new(S)
	}
	return Run[S]{Eng: s.Engine(), Record: record, State: st}
}

// RunState returns the state of a recorded run of the pipeline named node:
// st, or when st is nil WithState's value given, which must be a *S, as the
// ExecutorCore requires. Given both, they must be the same pointer: a run
// updates one state, and which of two the caller meant is not for the
// executor to guess.
func RunState[S any](node string, st *S, given any) (*S, error) {
	if given == nil {
		return st, nil
	}
	s, ok := given.(*S)
	switch {
	case !ok:
		return nil, &runtime.StateTypeError{Node: node, Expected: reflect.TypeFor[*S](), Got: reflect.TypeOf(given)}
	case st == nil:
		return s, nil
	case s != nil && s != st:
		return nil, fmt.Errorf("flujo: %q: the state is given twice, as st (%p) and as flujo.WithState (%p), and they differ; pass it once: st, or a nil st and flujo.WithState", node, st, s)
	}
	return st, nil
}

// EndRun counts a finished run whose root result is res and returns its
// error: abort, the run's abort (a usage limit, the context), or a
// *runtime.StepError naming the failed node, or nil.
func (s *Services) EndRun(res *runtime.StepResult, abort error) error {
	ok := abort == nil && res.Success
	s.runs.Record(int64(res.Latency), ok, &s.eng)
	switch {
	case ok:
		return nil
	case abort != nil:
		return abort
	}
	return FailedRunError(*res)
}

// EndRecordedRun counts a finished recorded run and returns its result and
// error. res is the root's result and abort the run's abort; finalState is
// the *S the run leaves (nil without state) and budget the run's budget;
// pipeline says the root is a Pipeline, whose children's results are the
// history (another root's history is its own result).
func (s *Services) EndRecordedRun(res *runtime.StepResult, abort error, finalState any, budget *runtime.Budget, pipeline bool) (*runtime.PipelineResult, error) {
	pr := &runtime.PipelineResult{
		Output:      res.Output,
		Success:     res.Success && abort == nil,
		TotalCost:   res.Cost,
		TotalTokens: res.Tokens,
		FinalState:  finalState,
		Latency:     res.Latency,
	}
	if pipeline {
		pr.Steps = res.Steps
	} else {
		pr.Steps = []runtime.StepResult{*res}
	}
	budget.Settle()
	switch {
	case abort != nil:
		pr.Output = nil
		runtime.CompleteUsageLimitError(abort, pr, budget)
		pr.Err = abort
	case !res.Success:
		pr.Err = FailedRunError(*res)
	}
	s.RecordRun(int64(pr.Latency), pr.Success)
	return pr, pr.Err
}

// WithMetrics returns a recorded run's result and error with its metrics,
// as ExecuteWithMonitoring reports them.
func WithMetrics(pr *runtime.PipelineResult, err error) (*runtime.PipelineResult, runtime.Metrics, error) {
	if pr == nil {
		return nil, runtime.Metrics{}, err
	}
	return pr, RunMetrics(pr), err
}
