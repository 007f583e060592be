package flujo

import (
	"context"
	"errors"
	"runtime/debug"
	"time"

	"github.com/flujo/flujo/internal/runrules"
	"github.com/flujo/flujo/runtime"
)

// execRun is one run: the executor, the configuration in force when it
// started and the analysis of its declaration.
type execRun struct {
	core *ExecutorCore
	eng  *engine
	tree *treeInfo
}

// frame is what a node runs with besides its input: the state it may read
// and write (a *S, or nil) and the budget it charges (nil without limits).
type frame struct {
	state  any
	budget *runtime.Budget
}

// exec runs n on in and writes how it ran to *res. A non-nil abort error
// (a usage limit exceeded, or ctx done) ends the whole run: no fallback,
// retry or failure policy applies to it. Results are written in place, not
// returned, because they are large and copying them is most of the cost of
// a short run.
func (r execRun) exec(ctx context.Context, n Node, in any, fr frame, res *StepResult) error {
	b := n.base()
	var abort error
	l, leaf := n.(*leafNode)
	var set runtime.StepSettings
	if leaf {
		info := r.tree.nodes[b]
		set = info.settings(b, &r.eng.cfg)
		abort = r.leaf(ctx, l, info, &set, in, fr, res)
	} else {
		abort = r.composite(ctx, n, in, fr, res)
	}
	if abort == nil && !res.Success && b.set.fallback != nil {
		abort = r.fallback(ctx, b, in, fr, res)
		if leaf && abort == nil && res.Success && set.Cache {
			r.cacheFallback(l, set.CacheTTL, in, res.Output)
		}
	}
	return abort
}

// cacheFallback stores out, the output of the fallback that rescued the
// cached leaf n, under n's key for in: the next run on an equal input is a
// hit, and neither the primary nor the fallback runs again.
func (r execRun) cacheFallback(n *leafNode, ttl time.Duration, in, out any) {
	if r.eng.cache == nil || r.eng.cache.paused.Load() {
		return
	}
	key, ok := r.eng.cache.key(r.tree.nodes[&n.nodeBase].fingerprint, in)
	if !ok {
		return
	}
	if c := r.eng.cache.forStep(n, ttl); c != nil {
		// An output the codec cannot encode is simply not cached.
		_ = c.set(key, r.cacheIn(n, out))
	}
}

// composite runs a composite node under its Timeout and checks its output
// with its validators.
func (r execRun) composite(ctx context.Context, n Node, in any, fr frame, res *StepResult) error {
	b := n.base()
	// A plain Pipeline's latency is the sum of its steps': two clock
	// readings fewer on the shortest path.
	timed := n.(Node).base().kind != kindPipeline || b.set.timeout > 0 || len(b.set.validators) > 0
	var start int64
	if timed {
		start = r.core.clock.Nanotime()
	}
	cctx := ctx
	if b.set.timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, b.set.timeout)
		defer cancel()
	}
	var abort error
	switch n := n.(type) {
	case *pipelineNode:
		abort = r.pipeline(cctx, n, in, fr, res)
	case *parallelNode:
		abort = r.parallel(cctx, n, in, fr, res)
	case *loopNode:
		abort = r.loop(cctx, n, in, fr, res)
	case *branchNode:
		abort = r.branch(cctx, n, in, fr, res)
	case *mapNode:
		abort = r.mapEach(cctx, n, in, fr, res)
	}
	if abort != nil && cctx != ctx && ctx.Err() == nil && cctx.Err() != nil && !isUsageLimit(abort) {
		// The node's own deadline passed: a failure of this node, not an
		// abort of the run.
		abort = nil
		res.Success, res.Output = false, nil
		res.Err = &StepTimeoutError{Step: b.name, Timeout: b.set.timeout}
		res.Feedback = failureFeedback(res.Err)
	}
	if abort == nil && res.Success {
		for _, v := range b.set.validators {
			if err := v(res.Output); err != nil {
				res.Success, res.Output = false, nil
				res.Err = &ValidationFailedError{Step: b.name, Err: err}
				res.Feedback = failureFeedback(res.Err)
				break
			}
		}
	}
	if timed {
		res.Latency = time.Duration(r.core.clock.Nanotime() - start)
	}
	return abort
}

func isUsageLimit(err error) bool {
	var u *UsageLimitExceededError
	return errors.As(err, &u)
}

// fallback runs b's fallback after b failed with the result in *res.
func (r execRun) fallback(ctx context.Context, b *nodeBase, in any, fr frame, res *StepResult) error {
	var fb StepResult
	abort := r.exec(ctx, b.set.fallback, in, fr, &fb)
	primary := *res
	res.FallbackTriggered = true
	res.OriginalError = primary.Err
	res.Attempts += fb.Attempts
	res.Cost += fb.Cost
	res.Tokens += fb.Tokens
	res.Latency += fb.Latency
	res.Steps = append(res.Steps[:len(res.Steps):len(res.Steps)], fb)
	if abort != nil {
		return abort
	}
	if fb.Success {
		res.Success, res.Output, res.Err, res.Feedback = true, fb.Output, nil, ""
		return nil
	}
	res.Err = &FallbackError{Original: primary.Err, Fallback: fb.Err}
	res.Feedback = fallbackFeedback(primary.Feedback, fb.Feedback)
	return nil
}

// leaf runs a Step, StepS or Func, analysed in info, with its effective
// settings set: cache lookup, then attempts under the circuit breaker with
// backoff between them, each validated.
func (r execRun) leaf(ctx context.Context, n *leafNode, info *nodeInfo, set *runtime.StepSettings, in any, fr frame, res *StepResult) error {
	clock := r.core.clock
	start := clock.Nanotime()
	*res = StepResult{Name: n.name}

	srt := info.step
	var key uint64
	var cache stepCache
	if r.eng.cache != nil && set.Cache {
		if k, ok := r.eng.cache.key(info.fingerprint, in); ok {
			key, cache = k, r.eng.cache.forStep(n, set.CacheTTL)
		}
		if cache != nil {
			if v, ok := cache.get(key); ok {
				res.Success, res.CacheHit = true, true
				res.Output = r.cacheOut(n, v)
				srt.cacheHits.Add(1)
				r.finishAt(srt, res, start, start, start, 0, nil, runtime.OutcomeSuccess)
				return nil
			}
			srt.cacheMisses.Add(1)
		}
	}

	var br *runtime.Breaker
	if r.eng.breakers != nil {
		br = srt.breaker(r.eng.breakers, set.BreakerFailureThreshold, set.BreakerRecoveryTimeout)
	}
	cl := r.eng.classifier
	lim := r.eng.limiter
	var brFrom uint8
	if br != nil {
		brFrom = uint8(br.State())
	}
	var served int64 // when the last attempt's permit was granted
	var out any
	var err, prev, breach error
	attempts := set.Attempts
	for attempt := 1; attempt <= attempts; attempt++ {
		if attempt > 1 {
			if cl != nil && !cl.RetryableIn(ctx, err) {
				break // declared or learned permanent
			}
			if d := n.set.backoff.Delay(attempt-1, 0); d > 0 {
				if e := r.core.sleep(ctx, d); e != nil {
					return r.aborted(srt, res, start, e)
				}
			}
			prev = err
		}
		if e := ctx.Err(); e != nil {
			return r.aborted(srt, res, start, e)
		}
		var permit runtime.BreakerPermit
		if br != nil {
			if permit = br.Allow(); !permit.Admitted() {
				err = br.Rejection(permit)
				break
			}
		}
		waited, e := lim.AcquireWaited(ctx)
		if e != nil {
			if e != runtime.ErrLimiterRejected {
				return r.aborted(srt, res, start, e)
			}
			// The queue is full: a rejected attempt, not an upstream
			// failure, so a half-open probe's slot goes back.
			if br != nil {
				br.RecordNeutral(permit)
			}
			err = &runtime.ConcurrencyLimitError{Step: n.name, Limit: lim.Limit()}
			break
		}
		if served = start; lim.Adaptive() && (waited || attempt > 1) {
			served = r.core.clock.Nanotime()
		}
		res.Attempts = attempt
		out, err = r.attemptHeld(ctx, n, set.Timeout, in, fr, lim)
		if err == nil {
			// Every output is charged, one a validator rejects too.
			if u, ok := out.(UsageReporter); ok {
				usage := u.Usage()
				res.Cost += usage.Cost
				res.Tokens += usage.Tokens()
				breach = runtime.ChargeUsage(fr.budget, usage)
			}
			for _, v := range n.set.validators {
				if verr := v(out); verr != nil {
					err = &ValidationFailedError{Step: n.name, Err: verr}
					break
				}
			}
		}
		if ctx.Err() != nil && err != nil {
			// The caller gave up; the failure says nothing about the step,
			// so neither the breaker nor the classifier hears of it.
			return r.aborted(srt, res, start, ctx.Err())
		}
		if br != nil {
			switch {
			case err == nil:
				br.RecordSuccess(permit)
			case n.set.breakerCounts(err):
				br.RecordFailure(permit)
			default:
				br.RecordNeutral(permit)
			}
		}
		if cl != nil {
			cl.Observe(err)
			if prev != nil {
				cl.ObserveRecovery(prev, err == nil)
			}
		}
		if err == nil || breach != nil {
			break
		}
	}
	if err != nil {
		res.Err = err
		res.Feedback = failureFeedback(err)
		r.finish(srt, res, start, served, brFrom, br, runrules.OutcomeOf(err))
		return breach
	}
	res.Success, res.Output = true, out
	if cache != nil && !r.eng.cache.paused.Load() {
		// An output the codec cannot encode is simply not cached.
		_ = cache.set(key, r.cacheIn(n, out))
	}
	r.finish(srt, res, start, served, brFrom, br, runtime.OutcomeSuccess)
	return breach
}

// finish sets the latency of a leaf's result and reports the execution to
// the step's counters, the monitor, the adaptive limiter and telemetry.
func (r execRun) finish(srt *stepRuntime, res *StepResult, start, served int64, brFrom uint8, br *runtime.Breaker, outcome runtime.Outcome) {
	r.finishAt(srt, res, start, r.core.clock.Nanotime(), served, brFrom, br, outcome)
}

// finishAt is finish with the end of the execution read already: a cache
// hit ends where it starts, since the lookup is not timed. served is when
// the last attempt's permit was granted: the adaptive limiter's sample is
// the service time from there, without the wait for the permit.
func (r execRun) finishAt(srt *stepRuntime, res *StepResult, start, end, served int64, brFrom uint8, br *runtime.Breaker, outcome runtime.Outcome) {
	res.Latency = time.Duration(end - start)
	// A cancelled execution says nothing about the step: only telemetry
	// hears of it.
	if outcome != runtime.OutcomeCanceled {
		srt.record(res, r.eng.slowNs)
		if m := r.eng.monitor; m != nil {
			srt.monitor(m).Record(end-start, res.Success)
		}
		// Only an execution that held a permit is a sample: a cache hit, a
		// breaker or limiter rejection took no service time.
		if res.Attempts > 0 && !res.CacheHit {
			r.eng.limiter.Observe(end-served, runtime.LimiterDrop(outcome))
		}
	}
	if t := r.eng.telemetry; t != nil {
		ev := runtime.Event{Step: res.Name, Start: start, End: end, Attempts: int32(res.Attempts), Outcome: outcome, CacheHit: res.CacheHit}
		if br != nil {
			ev.BreakerFrom, ev.BreakerTo = brFrom, uint8(br.State())
		}
		t.Record(ev)
	}
}

// aborted finishes the result of a leaf whose run was aborted.
func (r execRun) aborted(srt *stepRuntime, res *StepResult, start int64, err error) error {
	res.Err = err
	res.Feedback = failureFeedback(err)
	r.finish(srt, res, start, start, 0, nil, runtime.OutcomeCanceled)
	return err
}

// cacheIn is the value stored for out: a deep copy, so the caller may
// mutate the output it received without changing the cache.
func (r execRun) cacheIn(n *leafNode, out any) any {
	if n.set.immutable || r.eng.cache.encoded {
		return out
	}
	return r.core.plans.deepCopy(out)
}

// cacheOut is the value a hit returns: a deep copy, so the caller may
// mutate it without changing the cache.
func (r execRun) cacheOut(n *leafNode, v any) any {
	if n.set.immutable || r.eng.cache.encoded {
		return v
	}
	return r.core.plans.deepCopy(v)
}

// attemptHeld is attempt holding a permit of lim, released however the
// attempt ends: a step that calls runtime.Goexit must not take it along.
func (r execRun) attemptHeld(ctx context.Context, n *leafNode, timeout time.Duration, in any, fr frame, lim *runtime.Limiter) (any, error) {
	defer lim.Release()
	return r.attempt(ctx, n, timeout, in, fr)
}

// attempt calls the step function once. A StepS works on a private copy of
// the state, written back only when the call succeeds. With a Timeout, the
// call runs in its own goroutine and is abandoned when it overruns.
func (r execRun) attempt(ctx context.Context, n *leafNode, timeout time.Duration, in any, fr frame) (any, error) {
	var work any
	if n.kind == kindStepS {
		work = r.core.plans.newCopy(fr.state)
	}
	var out any
	var err error
	if timeout <= 0 {
		out, err = call(ctx, n, in, work)
	} else {
		out, err = r.attemptTimeout(ctx, n, timeout, in, work)
	}
	if err == nil && work != nil {
		r.core.plans.copyInto(fr.state, work)
	}
	return out, err
}

type attemptResult struct {
	out any
	err error
}

func (r execRun) attemptTimeout(ctx context.Context, n *leafNode, timeout time.Duration, in any, work any) (any, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan attemptResult, 1)
	r.core.goTracked(func() {
		exited := true
		defer func() {
			if exited {
				done <- attemptResult{nil, &GoexitError{Node: n.name}}
			}
		}()
		out, err := call(actx, n, in, work)
		exited = false
		done <- attemptResult{out, err}
	})
	select {
	case a := <-done:
		if a.err != nil && actx.Err() != nil && ctx.Err() == nil {
			return nil, &StepTimeoutError{Step: n.name, Timeout: timeout}
		}
		return a.out, a.err
	case <-actx.Done():
		select {
		case a := <-done:
			if a.err == nil {
				return a.out, nil
			}
		default:
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &StepTimeoutError{Step: n.name, Timeout: timeout}
	}
}

// call runs the step function, turning a panic into a *PanicError.
func call(ctx context.Context, n *leafNode, in any, st any) (out any, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, &PanicError{Step: n.name, Value: v, Stack: debug.Stack()}
		}
	}()
	return n.call(ctx, in, st)
}
