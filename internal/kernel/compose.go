package kernel

import (
	"context"
	"errors"
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
// rejection fails the composite with a *ValidationFailedError, a panic with
// a *PanicError. It returns
// the output that remains, zero once the composite failed. A composite's
// validators run in declaration order, each through Validated, so that the
// first rejection is the one reported.
func Validated[Out any](step string, v func(Out) error, res *runtime.StepResult, out Out, abort error) Out {
	if abort != nil || !res.Success {
		return out
	}
	if err := validate(step, v, out); err != nil {
		res.Success, res.Output = false, nil
		res.Err = err
		res.Feedback = runtime.FailureFeedback(res.Err)
		var zero Out
		return zero
	}
	return out
}

// validate runs v, a validator of the composite named step, on out: a
// rejection is a *ValidationFailedError and a panic a *PanicError, which
// fails the composite as one in its chooser or join does.
func validate[Out any](step string, v func(Out) error, out Out) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &runtime.PanicError{Step: step, Value: p, Stack: debug.Stack()}
		}
	}()
	if verr := v(out); verr != nil {
		return &runtime.ValidationFailedError{Step: step, Err: verr}
	}
	return nil
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

// Canceller cancels the context under which the branches of a Parallel
// run: a *runtime.CancelScope, or a context.CancelFunc as a CancelFunc.
type Canceller interface{ Cancel() }

// CancelFunc is a context.CancelFunc as a Canceller.
type CancelFunc func()

// Cancel calls f.
func (f CancelFunc) Cancel() { f() }

// FanBranch is what one branch of a Parallel run reports to its Fan: the
// working space of a Fan, one per branch, that its owner keeps (pooled)
// and the Fan resets at Start.
type FanBranch struct {
	// Abort is the branch's abort, which its goroutine assigns from the
	// branch's run as the run returns.
	Abort    error
	finished atomic.Bool // the branch reported: its result and abort are final
}

// errRunning is the Abort of a branch whose run has not returned: still
// there when the branch ends, it means that a step called runtime.Goexit.
var errRunning = errors.New("flujo: the branch's run did not return")

// Fan is where the branches of one run of a Parallel meet, each running on
// a goroutine started for it. A branch's goroutine defers Exit and runs the
// branch, assigning its abort to its FanBranch's Abort; the caller starts
// the goroutines after Start and then calls Wait.
//
// The branches report to the Fan themselves: the branch that ends the run
// (by aborting it, or failing when failures propagate) cancels its
// siblings at once, and only the last branch to end wakes the caller, so
// that a run costs the caller one wake-up however many branches it has.
// A Fan is reused across runs once Wait returned without cerr; after
// cerr the branches still running may still write to it.
type Fan struct {
	ctx       context.Context  // the caller's
	cancel    Canceller        // the branches' context's, nil when nothing cancels it
	track     *runtime.RunGate // counts the branches' goroutines, nil when their starter does
	results   []runtime.StepResult
	branches  []FanBranch
	done      chan struct{} // receives once the last branch ends
	left      atomic.Int32  // the branches still running
	abortBy   atomic.Int32  // 1 + the index of the branch whose abort ended the run first, 0 for none
	propagate bool
}

// Start prepares f for a run under ctx of len(results) branches, branch i
// writing its result to results[i] and reporting through branches[i] (of
// the same length). cancel, which may be nil (nothing to cancel), cancels
// the branches' context: the first abort that ends the run (ctx done, or
// a usage limit) cancels the siblings, and with propagate, so does a
// failed branch. done, of capacity 1 at least and empty, wakes the
// caller; its owner keeps it from run to run. track, when not nil, counts
// the branches' goroutines from now (RunGate.EnterChild) until each ends
// (Exit): start them right after Start.
func (f *Fan) Start(ctx context.Context, cancel Canceller, propagate bool, results []runtime.StepResult, branches []FanBranch, done chan struct{}, track *runtime.RunGate) {
	for i := range branches {
		branches[i].Abort = errRunning
		branches[i].finished.Store(false)
	}
	f.ctx, f.cancel, f.propagate, f.track = ctx, cancel, propagate, track
	f.results, f.branches, f.done = results, branches, done
	f.left.Store(int32(len(results)))
	f.abortBy.Store(0)
	if track != nil {
		for range results {
			track.EnterChild()
		}
	}
}

// Exit reports branch i, named name, that ended: the branch's goroutine
// defers it. A branch whose run did not return, its Abort unassigned (a
// step called runtime.Goexit), is reported failed with a *GoexitError, so that the Parallel does not
// wait for it forever. Exit cancels the siblings when the branch ends the
// run, and the last branch to end wakes the caller; Exit touches f no
// more after that, since the caller may reuse it. Last, the branch's
// goroutine leaves the count of Start's track.
func (f *Fan) Exit(i int, name string) {
	track := f.track
	if track != nil {
		defer track.ExitChild()
	}
	b := &f.branches[i]
	if b.Abort == errRunning {
		b.Abort = nil
		GoexitResult(&f.results[i], name)
	}
	switch ab := b.Abort; {
	case ab != nil && (runtime.ContextErr(f.ctx) != nil || IsUsageLimit(ab)):
		f.abortBy.CompareAndSwap(0, int32(i)+1)
		f.cancelBranches()
	case ab != nil:
		// cancelled because a sibling failed or aborted
	case f.propagate && !f.results[i].Success:
		f.cancelBranches()
	}
	b.finished.Store(true)
	if f.left.Add(-1) == 0 {
		f.done <- struct{}{}
	}
}

func (f *Fan) cancelBranches() {
	if f.cancel != nil {
		f.cancel.Cancel()
	}
}

// Wait waits for the branches to end. It returns the first abort that
// ended the run, and with propagate, failed, the lowest index of the
// branches that failed (-1 if none); the abort of a branch that this
// cancellation caused is no outcome. When the caller's context is done
// first, Wait stops waiting and returns its error as cerr: the branches
// still running may still write their results and the Fan, and Abandoned
// ends the run.
func (f *Fan) Wait() (abort error, failed int, cerr error) {
	if len(f.results) > 0 {
		if cdone := runtime.ContextDone(f.ctx); cdone == nil {
			<-f.done // a context that is never done: a plain receive is cheaper than a select
		} else {
			select {
			case <-f.done:
			case <-cdone:
				return nil, -1, runtime.ContextErr(f.ctx)
			}
		}
	}
	if i := f.abortBy.Load(); i > 0 {
		abort = f.branches[i-1].Abort
	}
	failed = -1
	if f.propagate {
		for i := range f.results {
			if f.branches[i].Abort == nil && !f.results[i].Success {
				failed = i
				break
			}
		}
	}
	return abort, failed, nil
}

// Abandoned ends res, the result of the Parallel whose Wait returned cerr,
// its caller's context's error, before all its branches ended: res's steps
// are the results of the branches that had ended.
func (f *Fan) Abandoned(res *runtime.StepResult, cerr error) error {
	for i := range f.results {
		if f.branches[i].finished.Load() {
			res.Steps = append(res.Steps, f.results[i])
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
