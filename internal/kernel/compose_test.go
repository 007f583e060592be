package kernel

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	rt "github.com/flujo/flujo/runtime"
)

func ok(name string, cost float64, tokens int) rt.StepResult {
	return rt.StepResult{Name: name, Success: true, Cost: cost, Tokens: tokens, Latency: time.Millisecond}
}

func failed(name string) rt.StepResult {
	err := errors.New(name + " broke")
	return rt.StepResult{Name: name, Err: err, Feedback: err.Error(), Cost: 1}
}

func TestFail(t *testing.T) {
	res := rt.StepResult{Success: true, Output: 3}
	err := errors.New("bad")
	Fail(&res, err)
	if res.Success || res.Output != nil || res.Err != err || res.Feedback != "bad" {
		t.Errorf("Fail: %+v", res)
	}
}

func TestCompositeTimeout(t *testing.T) {
	live := context.Background()
	over, cancel := context.WithTimeout(live, time.Nanosecond)
	defer cancel()
	<-over.Done()
	gone, stop := context.WithCancel(live)
	stop()
	limit := &rt.UsageLimitExceededError{}

	var res rt.StepResult
	out, abort := CompositeTimeout(live, over, "seq", time.Second, &res, 7, context.DeadlineExceeded)
	var te *rt.StepTimeoutError
	if out != 0 || abort != nil || res.Success || !errors.As(res.Err, &te) || te.Step != "seq" || te.Timeout != time.Second || res.Feedback == "" {
		t.Errorf("own deadline: out %v abort %v res %+v, want a *StepTimeoutError failure", out, abort, res)
	}
	for name, c := range map[string]struct {
		ctx, cctx context.Context
		abort     error
	}{
		"no abort":       {live, over, nil},
		"caller done":    {gone, over, context.Canceled},
		"deadline ahead": {live, live, context.Canceled},
		"usage limit":    {live, over, limit},
	} {
		res := rt.StepResult{Success: c.abort == nil}
		out, abort := CompositeTimeout(c.ctx, c.cctx, "seq", time.Second, &res, 7, c.abort)
		if out != 7 || abort != c.abort || res.Err != nil {
			t.Errorf("%s: out %v abort %v res %+v, want all unchanged", name, out, abort, res)
		}
	}
}

func TestValidated(t *testing.T) {
	reject := errors.New("odd")
	v := func(n int) error {
		if n%2 == 1 {
			return reject
		}
		return nil
	}
	res := rt.StepResult{Success: true, Output: 3}
	out := Validated("m", v, &res, 3, nil)
	var ve *rt.ValidationFailedError
	if out != 0 || res.Success || res.Output != nil || !errors.As(res.Err, &ve) || ve.Step != "m" || ve.Err != reject || res.Feedback != "Validation failed: odd" {
		t.Errorf("rejected: out %v res %+v", out, res)
	}
	res = rt.StepResult{Success: true, Output: 2}
	if out := Validated("m", v, &res, 2, nil); out != 2 || !res.Success {
		t.Errorf("accepted: out %v res %+v", out, res)
	}
	called := false
	spy := func(int) error { called = true; return reject }
	res = rt.StepResult{}
	Validated("m", spy, &res, 3, nil)
	res = rt.StepResult{Success: true}
	Validated("m", spy, &res, 3, context.Canceled)
	if called {
		t.Error("a validator ran on a failed or aborted composite")
	}
}

func TestChild(t *testing.T) {
	var res rt.StepResult
	a := ok("a", 1, 2)
	if stop, err := Child(&res, &a, false, nil); stop || err != nil || len(res.Steps) != 0 || res.Cost != 1 || res.Tokens != 2 || res.Latency != time.Millisecond {
		t.Fatalf("success, not recorded: stop %v err %v res %+v", stop, err, res)
	}
	if stop, _ := Child(&res, &a, true, nil); stop || len(res.Steps) != 1 || res.Cost != 2 {
		t.Fatalf("success, recorded: %+v", res)
	}
	b := failed("b")
	if stop, err := Child(&res, &b, false, nil); !stop || err != nil || res.Success || res.Err != b.Err || res.Feedback != b.Feedback || len(res.Steps) != 2 || res.Cost != 3 {
		t.Fatalf("failure: stop %v err %v res %+v", stop, err, res)
	}
	res = rt.StepResult{}
	c := rt.StepResult{Name: "c"}
	if stop, err := Child(&res, &c, true, context.Canceled); !stop || err != context.Canceled || res.Err != context.Canceled {
		t.Errorf("abort: stop %v err %v res %+v", stop, err, res)
	}
}

func TestLoopExhaustedAndNoCase(t *testing.T) {
	var res rt.StepResult
	LoopExhausted(&res, "l", 3)
	var ml *rt.MaxLoopsError
	if !errors.As(res.Err, &ml) || ml.Loop != "l" || ml.MaxLoops != 3 || res.Feedback != ml.Error() {
		t.Errorf("LoopExhausted: %+v", res)
	}
	res = rt.StepResult{}
	NoCase(&res, "b", "k")
	var nb *rt.NoBranchError
	if !errors.As(res.Err, &nb) || nb.Branch != "b" || nb.Key != "k" || res.Feedback != nb.Error() {
		t.Errorf("NoCase: %+v", res)
	}
}

// counter is a Canceller that counts its calls.
type counter struct{ n atomic.Int32 }

func (c *counter) Cancel() { c.n.Add(1) }

// fanRun runs one branch per function of runs through a Fan under ctx, run
// i writing results[i] and returning its abort, and returns what Wait
// returned.
func fanRun(ctx context.Context, f *Fan, cancel Canceller, propagate bool, results []rt.StepResult, runs ...func(res *rt.StepResult) error) (abort error, failed int, cerr error) {
	f.Start(ctx, cancel, propagate, results, make([]FanBranch, len(runs)), make(chan struct{}, 1), nil)
	for i, run := range runs {
		go func() {
			defer f.Exit(i, fmt.Sprint("branch", i))
			f.branches[i].Abort = run(&results[i])
		}()
	}
	return f.Wait()
}

// result returns a branch that writes r as its result and returns abort.
func result(r rt.StepResult, abort error) func(*rt.StepResult) error {
	return func(res *rt.StepResult) error { *res = r; return abort }
}

func TestFan(t *testing.T) {
	ctx := context.Background()
	limit := &rt.UsageLimitExceededError{}
	var f Fan

	var c counter
	results := make([]rt.StepResult, 3)
	abort, fi, cerr := fanRun(ctx, &f, &c, true, results, result(ok("a", 0, 0), nil), result(failed("b"), nil), result(failed("c"), nil))
	if abort != nil || fi != 1 || cerr != nil || c.n.Load() != 2 {
		t.Errorf("propagate: abort %v failed %d cerr %v cancels %d; want branch 1, the lowest failed, and a cancellation per failure", abort, fi, cerr, c.n.Load())
	}
	abort, fi, _ = fanRun(ctx, &f, nil, false, make([]rt.StepResult, 2), result(ok("a", 0, 0), nil), result(failed("b"), nil))
	if abort != nil || fi != -1 {
		t.Errorf("ignore: abort %v failed %d, want no failure", abort, fi)
	}

	c = counter{}
	abort, fi, _ = fanRun(ctx, &f, &c, true, make([]rt.StepResult, 3), result(ok("a", 0, 0), context.Canceled), result(failed("b"), nil), result(ok("c", 0, 0), limit))
	if abort != limit || fi != 1 || c.n.Load() != 2 {
		t.Errorf("abort %v failed %d cancels %d, want the usage limit (a cancelled sibling's abort is no outcome), branch 1 failed, two cancellations", abort, fi, c.n.Load())
	}

	// A usage limit after another: the first one reported ends the run.
	first := &rt.UsageLimitExceededError{}
	c = counter{}
	abort, _, _ = fanRun(ctx, &f, &c, false, make([]rt.StepResult, 2), result(ok("a", 0, 0), first), func(res *rt.StepResult) error {
		for c.n.Load() == 0 {
			runtime.Gosched()
		}
		return limit
	})
	if abort != first || c.n.Load() != 2 {
		t.Errorf("abort %v cancels %d, want the first usage limit reported", abort, c.n.Load())
	}

	results = make([]rt.StepResult, 2)
	abort, fi, _ = fanRun(ctx, &f, nil, true, results, result(ok("a", 0, 0), context.Canceled), func(*rt.StepResult) error {
		runtime.Goexit()
		return nil
	})
	var ge *rt.GoexitError
	if abort != nil || fi != 1 || results[1].Success || !errors.As(results[1].Err, &ge) || ge.Node != "branch1" {
		t.Errorf("Goexit: abort %v failed %d result %+v, want a *GoexitError failure", abort, fi, results[1])
	}

	gone, stop := context.WithCancel(ctx)
	stop()
	release := make(chan struct{})
	results = make([]rt.StepResult, 2)
	var g Fan
	_, _, cerr = fanRun(gone, &g, nil, true, results, result(ok("a", 0, 0), nil), func(*rt.StepResult) error {
		<-release
		return nil
	})
	if cerr != context.Canceled {
		t.Errorf("caller done: cerr %v", cerr)
	}
	for !g.branches[0].finished.Load() {
		runtime.Gosched()
	}
	var res rt.StepResult
	if err := g.Abandoned(&res, cerr); err != cerr || res.Err != cerr || len(res.Steps) != 1 || res.Steps[0].Name != "a" {
		t.Errorf("Abandoned: %v %+v", err, res)
	}
	close(release)
}

func TestBranches(t *testing.T) {
	results := []rt.StepResult{ok("a", 1, 1), failed("b")}
	var res rt.StepResult
	stop, err := Branches(&res, results, false, nil, 1)
	if !stop || err != nil || res.Success || res.Err != results[1].Err || res.Feedback != `branch "b" failed: b broke` || len(res.Steps) != 2 || res.Cost != 2 || res.Tokens != 1 {
		t.Errorf("failed: %v %v %+v", stop, err, res)
	}
	res = rt.StepResult{}
	if stop, err := Branches(&res, results, false, context.Canceled, -1); !stop || err != context.Canceled || res.Err != context.Canceled || len(res.Steps) != 2 {
		t.Errorf("aborted: %v %v %+v", stop, err, res)
	}
	res = rt.StepResult{}
	if stop, _ := Branches(&res, results[:1], false, nil, -1); stop || len(res.Steps) != 0 || res.Cost != 1 {
		t.Errorf("fast success: %+v", res)
	}
	res = rt.StepResult{}
	if Branches(&res, results[:1], true, nil, -1); len(res.Steps) != 1 {
		t.Errorf("recorded success: %+v", res)
	}
}

func TestJoinFailed(t *testing.T) {
	var res rt.StepResult
	err := errors.New("no")
	JoinFailed(&res, "p", err)
	var je *rt.JoinError
	if !errors.As(res.Err, &je) || je.Parallel != "p" || je.Err != err {
		t.Errorf("join error: %+v", res)
	}
	pe := &rt.PanicError{Step: "p", Value: 1}
	JoinFailed(&res, "p", pe)
	if res.Err != pe {
		t.Errorf("join panic: %v, want the *PanicError itself", res.Err)
	}
}

// element is a Map body over 0..n-1: element fail fails, element abort
// aborts with a usage limit, element exit calls runtime.Goexit.
func element(fail, abort, exit int) MapElement[int] {
	return func(ctx context.Context, i int, res *rt.StepResult) (int, error) {
		switch i {
		case fail:
			*res = failed("body")
			return 0, nil
		case abort:
			return 0, &rt.UsageLimitExceededError{}
		case exit:
			runtime.Goexit()
		}
		*res = ok("body", 1, 1)
		return i * 10, nil
	}
}

func TestMapSeq(t *testing.T) {
	ctx := context.Background()
	outs, results, finished := make([]int, 4), make([]rt.StepResult, 4), make([]bool, 4)
	abort, f := MapSeq(ctx, outs, results, finished, element(-1, -1, -1))
	if abort != nil || f != -1 || outs[3] != 30 || !finished[3] {
		t.Errorf("all succeed: %v %d %v %v", abort, f, outs, finished)
	}
	outs, results, finished = make([]int, 4), make([]rt.StepResult, 4), make([]bool, 4)
	abort, f = MapSeq(ctx, outs, results, finished, element(1, -1, -1))
	if abort != nil || f != 1 || finished[2] {
		t.Errorf("element 1 fails: %v %d %v", abort, f, finished)
	}
	abort, f = MapSeq(ctx, outs, results, make([]bool, 4), element(-1, 2, -1))
	if !IsUsageLimit(abort) || f != -1 {
		t.Errorf("element 2 aborts: %v %d", abort, f)
	}
}

func TestMapWorkers(t *testing.T) {
	ctx := context.Background()
	var track rt.RunGate
	run := func(body MapElement[int], n int) ([]int, []rt.StepResult, []bool, error, int, error) {
		outs, results, finished := make([]int, n), make([]rt.StepResult, n), make([]bool, n)
		mctx, cancel := context.WithCancel(ctx)
		defer cancel()
		abort, f, cerr := MapWorkers(ctx, mctx, cancel, &track, 3, "body", outs, results, finished, body)
		return outs, results, finished, abort, f, cerr
	}
	outs, _, finished, abort, f, cerr := run(element(-1, -1, -1), 20)
	if abort != nil || f != -1 || cerr != nil || outs[19] != 190 || !finished[19] {
		t.Errorf("all succeed: %v %d %v %v", abort, f, cerr, outs)
	}
	_, _, _, abort, f, _ = run(element(4, -1, -1), 20)
	if abort != nil || f != 4 {
		t.Errorf("element 4 fails: abort %v failed %d", abort, f)
	}
	_, _, _, abort, _, _ = run(element(-1, 5, -1), 20)
	if !IsUsageLimit(abort) {
		t.Errorf("element 5 aborts: abort %v", abort)
	}
	var results []rt.StepResult
	_, results, finished, abort, f, _ = run(element(-1, -1, 2), 20)
	var ge *rt.GoexitError
	if abort != nil || f != 2 || !finished[2] || !errors.As(results[2].Err, &ge) || ge.Node != "body" {
		t.Errorf("element 2 exits: abort %v failed %d result %+v", abort, f, results[2])
	}

	gone, stop := context.WithCancel(ctx)
	stop()
	block := make(chan struct{})
	defer close(block)
	outs = make([]int, 3)
	_, _, cerr = MapWorkers(gone, ctx, func() {}, &track, 2, "body", outs, make([]rt.StepResult, 3), make([]bool, 3),
		func(context.Context, int, *rt.StepResult) (int, error) { <-block; return 0, nil })
	if cerr != context.Canceled {
		t.Errorf("caller done: cerr %v", cerr)
	}
}

func TestElements(t *testing.T) {
	results := []rt.StepResult{ok("a", 1, 1), failed("b"), {}}
	finished := []bool{true, true, false}
	var res rt.StepResult
	stop, err := Elements(&res, results, finished, false, nil, 1)
	if !stop || err != nil || res.Err != results[1].Err || res.Feedback != results[1].Feedback || len(res.Steps) != 2 || res.Cost != 2 {
		t.Errorf("failed: %v %v %+v", stop, err, res)
	}
	res = rt.StepResult{}
	if stop, err := Elements(&res, results, finished, false, context.Canceled, -1); !stop || err != context.Canceled || res.Err != err {
		t.Errorf("aborted: %v %v %+v", stop, err, res)
	}
	res = rt.StepResult{}
	if stop, _ := Elements(&res, results[:1], finished[:1], false, nil, -1); stop || len(res.Steps) != 0 || res.Cost != 1 {
		t.Errorf("fast success: %+v", res)
	}
}

func TestGuard(t *testing.T) {
	err := errors.New("no")
	if out, e := Guard("j", func() (int, error) { return 4, err }); out != 4 || e != err {
		t.Errorf("Guard = %v, %v; want f's output and error", out, e)
	}
	out, e := Guard("j", func() (int, error) { panic("boom") })
	var pe *rt.PanicError
	if out != 0 || !errors.As(e, &pe) || pe.Step != "j" || pe.Value != "boom" || len(pe.Stack) == 0 {
		t.Errorf("Guard of a panic = %v, %v; want a *PanicError of j", out, e)
	}
}

func TestSucceed(t *testing.T) {
	var res rt.StepResult
	if out := Succeed(&res, false, 3); out != 3 || !res.Success || res.Output != nil {
		t.Errorf("fast run: %v %+v, want success without the output kept", out, res)
	}
	res = rt.StepResult{}
	if out := Succeed(&res, true, 3); out != 3 || !res.Success || res.Output != 3 {
		t.Errorf("recorded run: %v %+v, want success with the output", out, res)
	}
}

func TestWithFallback(t *testing.T) {
	ran := false
	rescue := func(fb *rt.StepResult, success bool, abort error) func() (int, error) {
		return func() (int, error) {
			ran = true
			*fb = rt.StepResult{Name: "fb", Success: success, Output: 9, Attempts: 1}
			if !success {
				fb.Err, fb.Feedback = errors.New("fb broke"), "fb broke"
			}
			return 9, abort
		}
	}
	var fb rt.StepResult
	res := rt.StepResult{Success: true}
	if out, rescued, abort := WithFallback(&res, &fb, 1, nil, rescue(&fb, true, nil)); out != 1 || rescued || abort != nil || ran {
		t.Errorf("primary succeeded: %v %v %v, ran %v", out, rescued, abort, ran)
	}
	res = rt.StepResult{}
	if _, rescued, abort := WithFallback(&res, &fb, 1, context.Canceled, rescue(&fb, true, nil)); rescued || abort != context.Canceled || ran {
		t.Errorf("primary aborted: %v %v, ran %v", rescued, abort, ran)
	}
	res = failed("p")
	out, rescued, abort := WithFallback(&res, &fb, 0, nil, rescue(&fb, true, nil))
	if out != 9 || !rescued || abort != nil || !res.Success || !res.FallbackTriggered || len(res.Steps) != 1 {
		t.Errorf("rescued: %v %v %v %+v", out, rescued, abort, res)
	}
	res = failed("p")
	out, rescued, abort = WithFallback(&res, &fb, 0, nil, rescue(&fb, false, nil))
	var fe *rt.FallbackError
	if out != 0 || rescued || abort != nil || res.Success || !errors.As(res.Err, &fe) {
		t.Errorf("fallback failed: %v %v %v %+v", out, rescued, abort, res)
	}
	res = failed("p")
	if out, rescued, abort = WithFallback(&res, &fb, 0, nil, rescue(&fb, true, context.Canceled)); out != 0 || rescued || abort != context.Canceled {
		t.Errorf("fallback aborted: %v %v %v", out, rescued, abort)
	}
}
