package kernel

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo/runtime"
)

// The rules of composite nodes (Pipeline, Loop, Branch, Parallel, Map and
// the Timeout and validators of any composite) that need no knowledge of
// the types flowing through them. The ExecutorCore calls them over values
// of type any; generated executors instantiate them with their own types
// and keep only what is typed: the calls of children, joins, choosers,
// predicates and the copying and merging of state.

// Fail marks res, a composite's result, failed by err, an error of the
// composite itself rather than of one of its children.
func Fail(res *runtime.StepResult, err error) {
	res.Success, res.Output, res.Err, res.Feedback = false, nil, err, err.Error()
}

// CompositeTimeout applies a composite's own Timeout to what its
// composition returned, run under cctx, ctx bounded by timeout: an abort
// caused by cctx's deadline alone (ctx still live, the abort no usage
// limit) is a failure of the composite named step, a *StepTimeoutError,
// and no longer an abort. It returns the output and the abort that remain,
// the output zero once the composite failed.
func CompositeTimeout[Out any](ctx, cctx context.Context, step string, timeout time.Duration, res *runtime.StepResult, out Out, abort error) (Out, error) {
	if abort == nil || ctx.Err() != nil || cctx.Err() == nil || IsUsageLimit(abort) {
		return out, abort
	}
	res.Success, res.Output = false, nil
	res.Err = &runtime.StepTimeoutError{Step: step, Timeout: timeout}
	res.Feedback = runtime.FailureFeedback(res.Err)
	var zero Out
	return zero, nil
}

// Validated checks out, the output of the composite named step, with one
// of its validators, v, when the composite succeeded and did not abort: a
// rejection fails the composite with a *ValidationFailedError. It returns
// the output that remains, zero once the composite failed. A composite's
// validators run in declaration order, each through Validated, so that the
// first rejection is the one reported.
func Validated[Out any](step string, v func(Out) error, res *runtime.StepResult, out Out, abort error) Out {
	if abort != nil || !res.Success {
		return out
	}
	if err := v(out); err != nil {
		res.Success, res.Output = false, nil
		res.Err = &runtime.ValidationFailedError{Step: step, Err: err}
		res.Feedback = runtime.FailureFeedback(res.Err)
		var zero Out
		return zero
	}
	return out
}

// Child adds cr, the result of a child that a Pipeline, Loop or Branch
// ran, to res, the composite's: to its steps when record is set or the
// child failed (a failed run's error names the failure's path), and to its
// cost, tokens and latency. stop reports that the composite ends with this
// child: when it aborted, abort is returned and recorded as res's error;
// when it failed, its error and feedback become res's and err is nil.
//
// Child and its flujoimpl wrapper fit the compiler's inlining budget: the
// generated code of a successful child makes no call.
func Child(res, cr *runtime.StepResult, record bool, abort error) (stop bool, err error) {
	if record || !cr.Success {
		res.Steps = append(res.Steps, *cr)
	}
	res.Cost += cr.Cost
	res.Tokens += cr.Tokens
	res.Latency += cr.Latency
	switch {
	case abort != nil:
		res.Err = abort
	case !cr.Success:
		res.Success, res.Output, res.Err, res.Feedback = false, nil, cr.Err, cr.Feedback
	default:
		return false, nil
	}
	return true, abort
}

// LoopExhausted fails res, the result of the Loop named loop, whose exit
// condition did not hold after maxLoops iterations: a *MaxLoopsError.
func LoopExhausted(res *runtime.StepResult, loop string, maxLoops int) {
	Fail(res, &runtime.MaxLoopsError{Loop: loop, MaxLoops: maxLoops})
}

// NoCase fails res, the result of the Branch named branch, whose chooser
// returned key, which has no case, and that has no Default: a
// *NoBranchError.
func NoCase(res *runtime.StepResult, branch, key string) {
	Fail(res, &runtime.NoBranchError{Branch: branch, Key: key})
}

// RunBranch runs branch i of a Parallel, named name, on the goroutine the
// Parallel started for it: run's output and abort go to *out and *abort,
// its result is *res, then i is sent on done. A branch in which a step
// calls runtime.Goexit is reported failed with a *GoexitError, so that
// the Parallel does not wait for it forever.
func RunBranch[Out any](done chan<- int, i int, name string, res *runtime.StepResult, out *Out, abort *error, run func() (Out, error)) {
	exited := true
	defer func() {
		if exited {
			var zero Out
			*out, *abort = zero, nil
			GoexitResult(res, name)
			done <- i
		}
	}()
	*out, *abort = run()
	exited = false
	done <- i
}

// Gather waits for the len(results) branches of a Parallel run under ctx,
// each of which sends its index on done once results[i] and aborts[i] hold
// its outcome, and marks finished[i] as each reports. The first abort that
// ends the run (ctx done, or a usage limit) is returned as abort and
// cancels the siblings (cancel may be nil: nothing to cancel); the abort
// of a branch that this cancellation caused is no outcome. With propagate,
// a failed branch cancels its siblings too, and failed is the lowest index
// of the failed branches seen, -1 if none. When ctx is done first, Gather
// stops waiting and returns ctx's error as cerr: the branches still
// running may still write results, aborts and done.
func Gather(ctx context.Context, done <-chan int, results []runtime.StepResult, aborts []error, finished []bool, propagate bool, cancel func()) (abort error, failed int, cerr error) {
	failed = -1
	for range results {
		select {
		case i := <-done:
			finished[i] = true
			switch ab := aborts[i]; {
			case ab != nil && (runtime.ContextErr(ctx) != nil || IsUsageLimit(ab)):
				if abort == nil {
					abort = ab
					if cancel != nil {
						cancel()
					}
				}
			case ab != nil:
				// cancelled because a sibling failed
			case propagate && !results[i].Success && (failed < 0 || i < failed):
				failed = i
				if cancel != nil {
					cancel()
				}
			}
		case <-runtime.ContextDone(ctx):
			return abort, failed, runtime.ContextErr(ctx)
		}
	}
	return abort, failed, nil
}

// Abandoned ends res, the result of a Parallel whose caller's context was
// done, with cerr, that context's error, before all its branches reported:
// res's steps are the results of the branches that finished.
func Abandoned(res *runtime.StepResult, results []runtime.StepResult, finished []bool, cerr error) error {
	for i := range results {
		if finished[i] {
			res.Steps = append(res.Steps, results[i])
		}
	}
	res.Err = cerr
	return cerr
}

// Branches folds the results of a Parallel's branches, all reported, into
// res, the Parallel's: they are its steps when record is set or the
// Parallel aborted or failed, and their cost and tokens are its own. stop
// reports that the Parallel ends here: with abort, returned, when a branch
// aborted the run; or failed, when the branch failed (an index, -1 for
// none) failed it.
func Branches(res *runtime.StepResult, results []runtime.StepResult, record bool, abort error, failed int) (stop bool, err error) {
	if record || abort != nil || failed >= 0 {
		res.Steps = append(res.Steps, results...)
	}
	for i := range results {
		res.Cost += results[i].Cost
		res.Tokens += results[i].Tokens
	}
	if abort != nil {
		res.Err = abort
		return true, abort
	}
	if failed >= 0 {
		f := &results[failed]
		res.Success, res.Output, res.Err = false, nil, f.Err
		res.Feedback = fmt.Sprintf("branch %q failed: %s", f.Name, f.Feedback)
		return true, nil
	}
	return false, nil
}

// JoinFailed fails res, the result of the Parallel named parallel, whose
// join returned err: a *JoinError wrapping it, or err itself when it is
// the *PanicError of a join that panicked.
func JoinFailed(res *runtime.StepResult, parallel string, err error) {
	if _, ok := err.(*runtime.PanicError); !ok {
		err = &runtime.JoinError{Parallel: parallel, Err: err}
	}
	Fail(res, err)
}

// MapElement runs a Map's body on element i under ctx, writing its result
// to *res; it returns the body's output and abort.
type MapElement[Out any] func(ctx context.Context, i int, res *runtime.StepResult) (Out, error)

// MapSeq runs a Map's body on its elements one after the other, element i
// with result results[i] and output outs[i], marking finished[i]; it stops
// at the first element that aborts the run, returned as abort, or fails,
// returned as failed (-1 when none did).
func MapSeq[Out any](ctx context.Context, outs []Out, results []runtime.StepResult, finished []bool, run MapElement[Out]) (abort error, failed int) {
	for i := range outs {
		var ab error
		outs[i], ab = run(ctx, i, &results[i])
		finished[i] = true
		if ab != nil {
			return ab, -1
		}
		if !results[i].Success {
			return nil, i
		}
	}
	return nil, -1
}

// MapWorkers runs a Map's body on its elements with workers goroutines,
// counted by track, taking elements in order; as MapSeq, element i's
// result is results[i], its output outs[i] and finished[i] marks it. The
// elements run under mctx, which cancel cancels: once an element aborts
// the run (ctx done, or a usage limit), returned as abort, or fails, the
// workers take no new element; failed is the lowest index of the failed
// elements (-1 when none). A worker whose element calls runtime.Goexit
// reports it failed with a *GoexitError of body, the body's name. When ctx
// is done first, MapWorkers stops waiting and returns ctx's error as cerr:
// the workers still running may still write outs, results and finished.
func MapWorkers[Out any](ctx, mctx context.Context, cancel func(), track *runtime.RunGate, workers int, body string, outs []Out, results []runtime.StepResult, finished []bool, run MapElement[Out]) (abort error, failed int, cerr error) {
	var next atomic.Int64
	var mu sync.Mutex
	// first and worst are written by the workers, under mu, possibly
	// after MapWorkers returned.
	var first error
	worst := -1
	record := func(i int, cr *runtime.StepResult, o Out, ab error) {
		mu.Lock()
		defer mu.Unlock()
		results[i], finished[i], outs[i] = *cr, true, o
		switch {
		case ab != nil && (runtime.ContextErr(ctx) != nil || IsUsageLimit(ab)):
			if first == nil {
				first = ab
			}
			cancel()
		case ab != nil:
		case !cr.Success && (worst < 0 || i < worst):
			worst = i
			cancel()
		}
	}
	done := make(chan struct{}, workers)
	for range workers {
		track.EnterChild()
		go func() {
			defer track.ExitChild()
			cur := -1 // the element in progress
			var cr runtime.StepResult
			defer func() {
				if cur >= 0 {
					GoexitResult(&cr, body)
					var zero Out
					record(cur, &cr, zero, nil)
				}
				done <- struct{}{}
			}()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(outs) || runtime.ContextErr(mctx) != nil {
					return
				}
				cur, cr = i, runtime.StepResult{}
				o, ab := run(mctx, i, &cr)
				cur = -1
				record(i, &cr, o, ab)
			}
		}()
	}
	for range workers {
		select {
		case <-done:
		case <-runtime.ContextDone(ctx):
			mu.Lock()
			abort, failed = first, worst
			mu.Unlock()
			return abort, failed, runtime.ContextErr(ctx)
		}
	}
	return first, worst, nil
}

// Elements folds the results of the elements a Map ran, those marked
// finished, into res, the Map's: they are its steps when record is set or
// the Map aborted or failed, and their cost and tokens are its own. stop
// reports that the Map ends here, with abort, returned, or with the
// failure of element failed (-1 for none), which becomes the Map's.
func Elements(res *runtime.StepResult, results []runtime.StepResult, finished []bool, record bool, abort error, failed int) (stop bool, err error) {
	for i := range results {
		if finished[i] {
			if record || abort != nil || failed >= 0 {
				res.Steps = append(res.Steps, results[i])
			}
			res.Cost += results[i].Cost
			res.Tokens += results[i].Tokens
		}
	}
	if abort != nil {
		res.Err = abort
		return true, abort
	}
	if failed >= 0 {
		res.Success, res.Output, res.Err, res.Feedback = false, nil, results[failed].Err, results[failed].Feedback
		return true, nil
	}
	return false, nil
}

// Guard calls f, user code that the composite named step runs (a chooser,
// a loop's exit condition, a join), turning a panic into a *PanicError of
// the composite; it returns f's output and error, or the zero output and
// that *PanicError.
func Guard[Out any](step string, f func() (Out, error)) (out Out, err error) {
	defer func() {
		if v := recover(); v != nil {
			var zero Out
			out, err = zero, &runtime.PanicError{Step: step, Value: v, Stack: debug.Stack()}
		}
	}()
	return f()
}

// Succeed marks res, a composite's result, successful with output out,
// which it keeps in res only when record is set (a recorded run), and
// returns out.
func Succeed[Out any](res *runtime.StepResult, record bool, out Out) Out {
	res.Success = true
	if record {
		res.Output = out
	}
	return out
}

// WithFallback completes a node that has a fallback, given what the node
// itself returned: res, out and abort. When the node failed without
// aborting the run, fallback runs the fallback, which writes its result to
// *fb, and Fallback folds that result into res. It returns the node's
// output and abort, and whether the fallback rescued the node.
func WithFallback[Out any](res, fb *runtime.StepResult, out Out, abort error, fallback func() (Out, error)) (Out, bool, error) {
	if abort != nil || res.Success {
		return out, false, abort
	}
	fout, abort := fallback()
	Fallback(res, *fb, abort != nil)
	if abort != nil || !fb.Success {
		var zero Out
		return zero, false, abort
	}
	return fout, true, nil
}
