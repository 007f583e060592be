package flujoimpl

import (
	"context"
	"time"

	"github.com/flujo/flujo/internal/kernel"
	"github.com/flujo/flujo/runtime"
)

// The rules of composite nodes, as generated executors call them with
// their own types. The ExecutorCore calls the same functions over values
// of type any.

// Fail marks res failed by an error of the composite itself.
func Fail(res *runtime.StepResult, err error) { kernel.Fail(res, err) }

// CompositeTimeout turns an abort caused by a composite's own Timeout into
// its failure.
func CompositeTimeout[Out any](ctx, cctx context.Context, step string, timeout time.Duration, res *runtime.StepResult, out Out, abort error) (Out, error) {
	return kernel.CompositeTimeout(ctx, cctx, step, timeout, res, out, abort)
}

// Validated checks a composite's output with one of its validators.
func Validated[Out any](step string, v func(Out) error, res *runtime.StepResult, out Out, abort error) Out {
	return kernel.Validated(step, v, res, out, abort)
}

// Child adds the result of a child of a Pipeline, Loop or Branch to the
// composite's and reports whether the composite ends with it.
func Child(res, cr *runtime.StepResult, record bool, abort error) (stop bool, err error) {
	return kernel.Child(res, cr, record, abort)
}

// LoopExhausted fails a Loop that reached its max_loops.
func LoopExhausted(res *runtime.StepResult, loop string, maxLoops int) {
	kernel.LoopExhausted(res, loop, maxLoops)
}

// NoCase fails a Branch whose key has no case and no Default.
func NoCase(res *runtime.StepResult, branch, key string) { kernel.NoCase(res, branch, key) }

// Fan is where the branches of one run of a Parallel meet: each branch's
// goroutine defers Exit and calls Returned after the branch; the caller
// calls Start, starts the goroutines, and Wait.
type Fan = kernel.Fan

// FanBranch is the working space of a Fan for one branch.
type FanBranch = kernel.FanBranch

// CancelFunc is a context.CancelFunc as what a Fan cancels.
type CancelFunc = kernel.CancelFunc

// Branches folds a Parallel's branch results into its own.
func Branches(res *runtime.StepResult, results []runtime.StepResult, record bool, abort error, failed int) (stop bool, err error) {
	return kernel.Branches(res, results, record, abort, failed)
}

// JoinFailed fails a Parallel whose join returned an error or panicked.
func JoinFailed(res *runtime.StepResult, parallel string, err error) {
	kernel.JoinFailed(res, parallel, err)
}

// MapElement runs a Map's body on one element.
type MapElement[Out any] = kernel.MapElement[Out]

// MapSeq runs a Map's body on its elements one after the other.
func MapSeq[Out any](ctx context.Context, outs []Out, results []runtime.StepResult, finished []bool, run MapElement[Out]) (abort error, failed int) {
	return kernel.MapSeq(ctx, outs, results, finished, run)
}

// MapWorkers runs a Map's body on its elements with concurrent workers.
func MapWorkers[Out any](ctx, mctx context.Context, cancel func(), track *runtime.RunGate, workers int, body string, outs []Out, results []runtime.StepResult, finished []bool, run MapElement[Out]) (abort error, failed int, cerr error) {
	return kernel.MapWorkers(ctx, mctx, cancel, track, workers, body, outs, results, finished, run)
}

// Elements folds the results of a Map's elements into its own.
func Elements(res *runtime.StepResult, results []runtime.StepResult, finished []bool, record bool, abort error, failed int) (stop bool, err error) {
	return kernel.Elements(res, results, finished, record, abort, failed)
}

// Guard calls a composite's user code, turning a panic into a *PanicError.
func Guard[Out any](step string, f func() (Out, error)) (Out, error) { return kernel.Guard(step, f) }

// Succeed marks a composite's result successful with its output.
func Succeed[Out any](res *runtime.StepResult, record bool, out Out) Out {
	return kernel.Succeed(res, record, out)
}

// WithFallback runs a failed node's fallback and folds its result in.
func WithFallback[Out any](res, fb *runtime.StepResult, out Out, abort error, fallback func() (Out, error)) (Out, bool, error) {
	return kernel.WithFallback(res, fb, out, abort, fallback)
}
