package kernel

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo/runtime"
)

// Env is what the executions of one configuration share: the clock and the
// executor-wide components. An executor builds one per configuration in
// force and never changes it; a run reads it once.
type Env struct {
	// Clock measures latencies.
	Clock runtime.Clock
	// Limiter bounds concurrent attempts; nil means no bound.
	Limiter *runtime.Limiter
	// Classifier learns which errors never recover from the failed
	// attempts and the retries after them (a success on the first attempt
	// is not reported to it); nil means every failure but a cancellation is
	// retried.
	Classifier *runtime.ErrorClassifier
	// Telemetry records one event per execution; nil when off.
	Telemetry *runtime.Telemetry
	// SlowNs holds slow_execution_threshold_ms in nanoseconds.
	SlowNs *atomic.Int64
	// Untimed skips the clock when nothing needs a step's latency: no
	// monitor, no telemetry, no adaptive limiter. Latencies are then 0,
	// except in recorded runs, whose results report them.
	Untimed bool
	// Sleep waits between attempts; nil means runtime.Sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// Track counts the goroutines of attempts under a Timeout, so that
	// Close can wait for them.
	Track *runtime.RunGate
	// CachePaused, when set and true, stops the caches' admission of new
	// results (memory pressure).
	CachePaused *atomic.Bool
	// Monitors are the steps' monitor handles by Step.Slot, for steps
	// whose Monitor is nil: an executor that keeps its steps across
	// configurations finds the handles of the monitor in force here.
	Monitors []*runtime.StepMonitor
	// CompressShared compresses the values stored in the shared cache
	// (cache_compression).
	CompressShared bool
}

// Frame is what a run gives each execution besides its input.
type Frame struct {
	// State is the run's *S, or nil.
	State any
	// Budget is the run's usage budget; nil without limits.
	Budget *runtime.Budget
	// Record asks for outputs in results: ExecuteResult records them,
	// Execute does not.
	Record bool
	// sharedLead marks the execution that leads a shared cache lookup: it
	// skips the local lookup, made already.
	sharedLead bool
}

// Cache is a step's result cache as an execution uses it.
type Cache[In, Out any] interface {
	// Get returns the output stored for in under key.
	Get(key uint64, in In) (Out, bool)
	// Set stores out for in under key; it fails when the value cannot be
	// encoded, and the output is then simply not cached.
	Set(key uint64, in In, out Out) error
	// SetFor is Set for an entry that lives at most ttl (a copy of a
	// shared cache's entry that expires sooner).
	SetFor(key uint64, in In, out Out, ttl time.Duration) error
}

// Leaf is a leaf step's behaviour, fixed by its declaration: the function
// it calls and what is done with the outputs.
type Leaf[In, Out any] struct {
	// Name is the step's declared name.
	Name string
	// Call calls the step function once. work is the private copy of the
	// state that Fork made, or nil for a step that takes none.
	Call func(ctx context.Context, in In, work any) (Out, error)
	// Plain and Pure, when set, are the step function of a Step or a Func
	// itself, called directly in place of Call; such a step takes no state
	// (Fork, Join and Attempt are nil).
	Plain func(ctx context.Context, in In) (Out, error)
	Pure  func(in In) Out
	// Fork and Join give a StepS its private copy of the run's state and
	// write it back when the attempt succeeds; nil for other steps.
	Fork func(state any) any
	Join func(state, work any)
	// Attempt, when set, makes an attempt without a Timeout in place of
	// Fork, Call and Join: a StepS that copies the state on its own stack
	// and writes it back when the call succeeds, allocating nothing.
	Attempt func(ctx context.Context, in In, state any) (Out, error)
	// Backoff spaces the attempts.
	Backoff runtime.Backoff
	// Validators check every output; the first error fails the attempt.
	Validators []func(Out) error
	// Usage returns what an output cost; nil when outputs report none.
	Usage func(Out) runtime.Usage
	// BreakerCounts reports whether an error counts against the circuit
	// breaker.
	BreakerCounts func(error) bool
	// Key returns the cache key of an input. An error means the input has
	// none: the step then runs uncached, unless the error is a
	// *runtime.PanicError (a panic of the input's own Hash64, MarshalJSON or
	// MarshalText method, user code), which fails the step without an
	// attempt. Nil when the step is not cached.
	Key func(In) (uint64, error)
	// CopyOut returns a copy of an output that shares nothing mutable with
	// it, for outputs stored in and served from the cache; nil when the
	// outputs are immutable or stored encoded.
	CopyOut func(Out) Out
}

// Step is a leaf step as the configuration in force runs it: its behaviour,
// its effective settings and its components.
//
// The compiler instantiates Step's code once per distinct shape of In and
// Out, and a package of generated executors has as many as it has types:
// only what handles values of those types is generic. The rest of an
// execution's rules (attempts, backoff, breaker, limiter, classifier,
// counters, monitor, telemetry) are methods of execution, over the step's
// Core, compiled once.
type Step[In, Out any] struct {
	_ [0]func() // not comparable: no equality function per instantiation
	*Leaf[In, Out]
	Core
	// Cache holds the step's results; nil when it is not cached.
	Cache Cache[In, Out]
	// Shared is the step's use of the shared cache, behind Cache; nil when
	// results are not shared.
	Shared *SharedStep[In, Out]
}

// Core is the part of a Step that does not depend on its types: its
// effective settings and components.
type Core struct {
	// Attempts is 1 + retries.
	Attempts int
	// Timeout bounds each attempt; 0 means none.
	Timeout time.Duration
	// Breaker guards the step; nil when breakers are off.
	Breaker *runtime.Breaker
	// Monitor records the step's latencies; nil when monitoring is off or
	// when the handle is Env.Monitors[Slot].
	Monitor *runtime.StepMonitor
	// Slot is the step's index in Env.Monitors.
	Slot int
	// Counters count the step's executions; they outlive configurations.
	Counters *StepCounters
}

// Run executes the step on in and writes how it went to *res, which must
// be a zero StepResult: every caller passes a fresh one, and Run sets only
// the fields that differ from zero. A non-nil error aborts the whole run
// (the context is done, or a usage limit was exceeded by this step's
// output); the step's own failure is in res.
func (s *Step[In, Out]) Run(ctx context.Context, env *Env, in In, fr Frame, res *runtime.StepResult) (Out, error) {
	var zero Out
	x := execution{c: &s.Core, env: env}
	x.begin(res, s.Name, !env.Untimed || fr.Record)

	var key uint64
	cached := false
	if s.Cache != nil && s.Key != nil {
		var kerr error
		key, kerr = s.Key(in)
		if cached = kerr == nil; !cached {
			if p, ok := kerr.(*runtime.PanicError); ok {
				return zero, x.keyPanicked(res, p)
			}
		} else if !fr.sharedLead {
			if v, ok := s.Cache.Get(key, in); ok {
				return s.cacheHit(fr, res, v, &x, false), nil
			}
			if s.Shared != nil {
				return s.runShared(ctx, env, in, fr, res, key, &x)
			}
			s.Counters.CacheMisses.Add(1)
		}
	}

	x.watch()
	var out Out
	for attempt := 1; attempt <= s.Attempts; attempt++ {
		proceed, abort := x.next(ctx, res, &s.Backoff, s.Name, attempt)
		if abort != nil {
			return zero, abort
		}
		if !proceed {
			break
		}
		if s.Timeout <= 0 {
			out, x.err = attemptDirect(s, ctx, env.Limiter, in, fr.State)
		} else {
			out, x.err = attemptTimed(s, ctx, env, in, fr.State)
		}
		if x.err == nil && (s.Usage != nil || len(s.Validators) > 0) {
			x.err = judge(s.Leaf, &x, res, out, fr.Budget)
		}
		if x.err == nil {
			break // settled as the execution finishes
		}
		done, abort := x.settle(ctx, res, s.BreakerCounts)
		if abort != nil {
			return zero, abort
		}
		if done {
			break
		}
	}
	if x.err != nil {
		return zero, x.failed(res)
	}
	res.Success = true
	if fr.Record {
		res.Output = out
	}
	if cached && (env.CachePaused == nil || !env.CachePaused.Load()) {
		s.store(key, in, out)
	}
	x.finishAt(res, x.now(), x.served, x.brFrom, runtime.OutcomeSuccess)
	return out, x.breach
}

// CacheFallback stores out, the output of the fallback that rescued the
// step, under the step's key for in: the next execution on an equal input
// is a hit, and neither the step nor its fallback runs again.
func (s *Step[In, Out]) CacheFallback(env *Env, in In, out Out) {
	if s.Cache == nil || s.Key == nil || (env.CachePaused != nil && env.CachePaused.Load()) {
		return
	}
	if key, err := s.Key(in); err == nil {
		s.store(key, in, out)
	}
}

// store caches out; an output the codec cannot encode is simply not cached.
func (s *Step[In, Out]) store(key uint64, in In, out Out) {
	if s.CopyOut != nil {
		out = s.CopyOut(out)
	}
	_ = s.Cache.Set(key, in, out)
}

// execution is the state of one execution of a leaf step that does not
// depend on the step's types: Step.Run keeps it on its stack and leaves it
// every rule that needs no value of In or Out. It holds no pointer to the
// result: escape analysis does not tell a struct's fields apart, and the
// errors it holds go to the heap, where the caller's result must not.
type execution struct {
	c   *Core
	env *Env
	// start is when the execution started; 0 when it is not timed.
	start int64
	// served is when the last attempt's permit was granted.
	served int64
	timed  bool
	// brFrom is the breaker's state before the attempts, for telemetry,
	// which reports the breaker's transition.
	brFrom uint8
	// permit is the breaker's permit of the current attempt.
	permit runtime.BreakerPermit
	// err is the current attempt's failure, prev the one before it, breach
	// the usage limit an output exceeded.
	err, prev, breach error
}

// begin starts the execution of the step named name, timed or not.
func (x *execution) begin(res *runtime.StepResult, name string, timed bool) {
	x.timed = timed
	if timed {
		x.start = x.env.Clock.Nanotime()
	}
	res.Name = name
}

// hit finishes an execution served from the cache.
func (x *execution) hit(res *runtime.StepResult) {
	x.finishAt(res, x.start, x.start, 0, runtime.OutcomeSuccess)
}

// watch notes the breaker's state before the attempts, when telemetry
// reports its transitions.
func (x *execution) watch() {
	if x.c.Breaker != nil && x.env.Telemetry != nil {
		x.brFrom = uint8(x.c.Breaker.State())
	}
}

// next prepares attempt number attempt of the step named name: after a
// failure, asks the classifier whether to retry and waits backoff's delay;
// then takes the breaker's permit and the limiter's. proceed is false when
// the attempts end here (x.err says why); abort is the run's abort.
func (x *execution) next(ctx context.Context, res *runtime.StepResult, backoff *runtime.Backoff, name string, attempt int) (proceed bool, abort error) {
	env := x.env
	if attempt > 1 {
		if cl := env.Classifier; cl != nil && !cl.RetryableIn(ctx, x.err) {
			return false, nil // declared or learned permanent
		}
		if d := backoff.Delay(attempt-1, 0); d > 0 {
			if e := env.sleep(ctx, d); e != nil {
				return false, x.aborted(res, e)
			}
		}
		x.prev = x.err
	}
	// runtime.ContextErr, not ctx.Err: the executor's own look does not
	// mark a pooled CancelScope observed, so the scope is reused.
	if e := runtime.ContextErr(ctx); e != nil {
		return false, x.aborted(res, e)
	}
	br := x.c.Breaker
	x.permit = 0
	if br != nil {
		if x.permit = br.Allow(); !x.permit.Admitted() {
			x.err = br.Rejection(x.permit)
			return false, nil
		}
	}
	x.served = x.start
	if lim := env.Limiter; lim != nil {
		waited, e := lim.AcquireWaited(ctx)
		if e != nil {
			if e != runtime.ErrLimiterRejected {
				return false, x.aborted(res, e)
			}
			// The queue is full: a rejected attempt, not an upstream
			// failure, so a half-open probe's slot goes back.
			if br != nil {
				br.RecordNeutral(x.permit)
			}
			x.err = &runtime.ConcurrencyLimitError{Step: name, Limit: lim.Limit()}
			return false, nil
		}
		if lim.Adaptive() && (waited || attempt > 1) {
			x.served = env.Clock.Nanotime()
		}
	}
	res.Attempts = attempt
	return true, nil
}

// judge charges out, an output of l's step function, and runs l's
// validators on it: every output is charged, one a validator rejects too.
// The output's Usage method and the validators are user code: a panic
// there fails the attempt with a *runtime.PanicError, as one in the step
// function does, instead of ending the caller's goroutine (or, on a
// goroutine of a Parallel branch, the process).
func judge[In, Out any](l *Leaf[In, Out], x *execution, res *runtime.StepResult, out Out, b *runtime.Budget) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &runtime.PanicError{Step: l.Name, Value: v, Stack: debug.Stack()}
		}
	}()
	if l.Usage != nil {
		x.charge(res, l.Usage(out), b)
	}
	for _, v := range l.Validators {
		if verr := v(out); verr != nil {
			return &runtime.ValidationFailedError{Step: l.Name, Err: verr}
		}
	}
	return nil
}

// UsageOf is the usage out reports: what its Usage method returns, or none
// when its dynamic value has no such method, nil included. It is the usage
// of a leaf whose output type is an interface, in both engines; a leaf
// whose output type is concrete calls its Usage method, if it has one,
// directly.
func UsageOf[Out any](out Out) runtime.Usage {
	if u, ok := any(out).(runtime.UsageReporter); ok {
		return u.Usage()
	}
	return runtime.Usage{}
}

// charge adds u, what an output cost, to the result and to the run's
// budget.
func (x *execution) charge(res *runtime.StepResult, u runtime.Usage, b *runtime.Budget) {
	res.Cost += u.Cost
	res.Tokens += u.Tokens()
	x.breach = runtime.ChargeUsage(b, u)
}

// settle reports how a failed attempt went (x.err) to the breaker, by
// counts, and the classifier. done is true when the attempts end with it;
// abort is the run's abort. A success is settled by finishAt.
func (x *execution) settle(ctx context.Context, res *runtime.StepResult, counts func(error) bool) (done bool, abort error) {
	err := x.err
	if err != nil && runtime.ContextErr(ctx) != nil {
		// The caller gave up; the failure says nothing about the step, so
		// neither the breaker nor the classifier hears of it.
		return true, x.aborted(res, runtime.ContextErr(ctx))
	}
	if br := x.c.Breaker; br != nil {
		switch {
		case err == nil:
			br.RecordSuccess(x.permit)
		case countsSafely(counts, res.Name, &x.err):
			br.RecordFailure(x.permit)
		default:
			br.RecordNeutral(x.permit)
		}
		err = x.err
	}
	// The classifier learns from failures and recoveries; a success
	// without a failure before it teaches it nothing.
	if cl := x.env.Classifier; cl != nil && (err != nil || x.prev != nil) {
		if err != nil {
			cl.Observe(err)
		}
		if x.prev != nil {
			cl.ObserveRecovery(x.prev, err == nil)
		}
	}
	return err == nil || x.breach != nil, nil
}

// countsSafely reports whether counts, a step's BreakerCounts rule, counts
// *err, a failed attempt of the step named step, against its breaker. The
// rule is user code: when it panics, the panic becomes the attempt's
// failure, a *runtime.PanicError that replaces *err, as one in the step
// function does, and counts as such a panic does by default. Only failed
// attempts of a step with a breaker call it: the deferred recover costs
// the hot path nothing.
func countsSafely(counts func(error) bool, step string, err *error) (counted bool) {
	defer func() {
		if v := recover(); v != nil {
			*err = &runtime.PanicError{Step: step, Value: v, Stack: debug.Stack()}
			counted = true
		}
	}()
	return counts(*err)
}

// keyPanicked fails an execution whose input's cache key could not be
// computed because user code panicked (see Leaf.Key): the step fails with
// p, named after it, without an attempt.
func (x *execution) keyPanicked(res *runtime.StepResult, p *runtime.PanicError) error {
	if p.Step == "" {
		p.Step = res.Name
	}
	x.err = p
	return x.failed(res)
}

// KeyPanic is deferred by a cache key function that calls user code (an
// input's Hash64, MarshalJSON or MarshalText method): it turns a panic
// there into the key's error, a *runtime.PanicError that fails the step
// (see Leaf.Key). A key function that calls none defers nothing.
func KeyPanic(err *error) {
	if v := recover(); v != nil {
		*err = KeyPanicError(v)
	}
}

// KeyPanicError is the key's error when computing it panicked with v (see
// KeyPanic, which a deferred function of another package cannot call:
// recover works only in the deferred function itself).
func KeyPanicError(v any) error {
	return &runtime.PanicError{Value: v, Stack: debug.Stack()}
}

// failed finishes an execution whose attempts failed with x.err; it
// returns the run's abort, a usage limit's.
func (x *execution) failed(res *runtime.StepResult) error {
	res.Err = x.err
	res.Feedback = runtime.FailureFeedback(x.err)
	x.finishAt(res, x.now(), x.served, x.brFrom, OutcomeOf(x.err))
	return x.breach
}

// aborted finishes the result of an execution whose run was aborted by
// err, and returns err.
func (x *execution) aborted(res *runtime.StepResult, err error) error {
	res.Err = err
	res.Feedback = runtime.FailureFeedback(err)
	x.finishAt(res, x.now(), x.start, 0, runtime.OutcomeCanceled)
	return err
}

// now reads the clock when the execution is timed; else 0.
func (x *execution) now() int64 {
	if !x.timed {
		return 0
	}
	return x.env.Clock.Nanotime()
}

// finishAt ends the execution at end: it settles a successful attempt
// (see settle), sets the latency of the result and reports the execution to the step's counters, the monitor, the
// adaptive limiter and telemetry. A cache hit ends where it starts, since
// the lookup is not timed. served is when the last attempt's permit was
// granted: the adaptive limiter's sample is the service time from there,
// without the wait for the permit.
func (x *execution) finishAt(res *runtime.StepResult, end, served int64, brFrom uint8, outcome runtime.Outcome) {
	c, env, start := x.c, x.env, x.start
	if outcome == runtime.OutcomeSuccess && !res.CacheHit {
		// The successful last attempt is settled here, with the breaker
		// and the classifier (which learns from a recovery): the hot path
		// of a step that succeeds at once makes one call after the step
		// function's.
		if br := c.Breaker; br != nil {
			br.RecordSuccess(x.permit)
		}
		if cl := env.Classifier; cl != nil && x.prev != nil {
			cl.ObserveRecovery(x.prev, true)
		}
	}
	res.Latency = time.Duration(end - start)
	// A cancelled execution says nothing about the step: only telemetry
	// hears of it.
	if outcome != runtime.OutcomeCanceled {
		m := c.Monitor
		if ms := env.Monitors; m == nil && ms != nil {
			m = ms[c.Slot]
		}
		if m != nil {
			m.Record(end-start, res.Success)
		}
		c.Counters.Record(res, env.SlowNs, m != nil)
		// Only an execution that held a permit is a sample: a cache hit, a
		// breaker or limiter rejection took no service time.
		if l := env.Limiter; l != nil && l.Adaptive() && res.Attempts > 0 && !res.CacheHit {
			l.Observe(end-served, runtime.LimiterDrop(outcome))
		}
	}
	if t := env.Telemetry; t != nil {
		ev := runtime.Event{Step: res.Name, Start: start, End: end, Attempts: int32(res.Attempts), Outcome: outcome, CacheHit: res.CacheHit}
		if c.Breaker != nil && !res.CacheHit {
			ev.BreakerFrom, ev.BreakerTo = brFrom, uint8(c.Breaker.State())
		}
		t.Record(ev)
	}
}

// attemptDirect makes an attempt of s without a Timeout on the caller's
// goroutine, holding a permit of lim (nil for none) that it releases however
// the attempt ends: Attempt in place, or Fork, Call and Join. A panic of the
// step function becomes a *runtime.PanicError; one of Fork or Join goes on,
// as under a Timeout. One deferred call releases the permit and recovers;
// it calls recover only when the step function did not return.
//
// A function rather than a method of Step: the compiler then makes no
// method wrapper of it for each instantiation.
func attemptDirect[In, Out any](s *Step[In, Out], ctx context.Context, lim *runtime.Limiter, in In, state any) (out Out, err error) {
	calling := false // in the step function: a panic there is the step's failure
	// A panic in the step function leaves out as it was, zero.
	defer released(lim, s.Name, &calling, &err)
	switch {
	case s.Plain != nil:
		calling = true
		out, err = s.Plain(ctx, in)
		calling = false
		return out, err
	case s.Pure != nil:
		calling = true
		out = s.Pure(in)
		calling = false
		return out, nil
	case s.Attempt != nil:
		calling = true
		out, err = s.Attempt(ctx, in, state)
		calling = false
		return out, err
	}
	var work any
	if s.Fork != nil {
		work = s.Fork(state)
	}
	calling = true
	out, err = invoke(s.Leaf, ctx, in, work)
	calling = false
	if err == nil && s.Join != nil {
		s.Join(state, work)
	}
	return out, err
}

// released is attemptDirect's deferred call: it releases lim's permit (nil
// for none) and, when *calling says the step named step was in its
// function, turns a panic into the attempt's *runtime.PanicError.
func released(lim *runtime.Limiter, step string, calling *bool, err *error) {
	if lim != nil {
		lim.Release()
	}
	if *calling {
		if v := recover(); v != nil {
			*err = &runtime.PanicError{Step: step, Value: v, Stack: debug.Stack()}
		}
	}
}

// attemptTimed makes an attempt of s under its Timeout, holding a permit
// of the limiter, released however the attempt ends: a step that calls
// runtime.Goexit must not take it along. The call runs in its own
// goroutine and is abandoned when it overruns. A StepS works on a private
// copy of the state, written back only when the call succeeds.
func attemptTimed[In, Out any](s *Step[In, Out], ctx context.Context, env *Env, in In, state any) (Out, error) {
	if env.Limiter != nil {
		defer env.Limiter.Release()
	}
	var work any
	if s.Fork != nil {
		work = s.Fork(state)
	}
	box := new(Out) // written by the call's goroutine, read once it is done
	err := env.timed(ctx, s.Name, s.Timeout, func(actx context.Context) error {
		out, err := invoke(s.Leaf, actx, in, work)
		*box = out
		return err
	})
	if err != nil {
		var zero Out
		return zero, err
	}
	if s.Join != nil {
		s.Join(state, work)
	}
	return *box, nil
}

// timed runs call, an attempt of the step named step, in its own goroutine
// under timeout: a panic becomes a *runtime.PanicError, a runtime.Goexit a
// *runtime.GoexitError, an overrun a *runtime.StepTimeoutError, and the
// call is then abandoned. It returns once the call has returned (its
// error) or was abandoned.
func (env *Env) timed(ctx context.Context, step string, timeout time.Duration, call func(context.Context) error) error {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	if env.Track != nil {
		env.Track.EnterChild()
	}
	go func() {
		if env.Track != nil {
			defer env.Track.ExitChild()
		}
		exited := true
		defer func() {
			if exited {
				done <- &runtime.GoexitError{Node: step}
			}
		}()
		err := guarded(actx, step, call)
		exited = false
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil && actx.Err() != nil && ctx.Err() == nil {
			return &runtime.StepTimeoutError{Step: step, Timeout: timeout}
		}
		return err
	case <-actx.Done():
		select {
		case err := <-done:
			if err == nil {
				return nil
			}
		default:
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &runtime.StepTimeoutError{Step: step, Timeout: timeout}
	}
}

// guarded calls call, turning a panic into a *runtime.PanicError of the
// step named step.
func guarded(ctx context.Context, step string, call func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &runtime.PanicError{Step: step, Value: v, Stack: debug.Stack()}
		}
	}()
	return call(ctx)
}

// invoke calls l's step function once: Plain or Pure when set, else Call.
func invoke[In, Out any](l *Leaf[In, Out], ctx context.Context, in In, work any) (Out, error) {
	switch {
	case l.Plain != nil:
		return l.Plain(ctx, in)
	case l.Pure != nil:
		return l.Pure(in), nil
	}
	return l.Call(ctx, in, work)
}

func (env *Env) sleep(ctx context.Context, d time.Duration) error {
	if env.Sleep != nil {
		return env.Sleep(ctx, d)
	}
	return runtime.Sleep(ctx, d)
}

// OutcomeOf classifies how an execution that ended with err went, for
// telemetry and the adaptive limiter: success for nil, rejected for a
// *runtime.CircuitOpenError or a *runtime.ConcurrencyLimitError, timeout for
// a *runtime.StepTimeoutError, else failure.
func OutcomeOf(err error) runtime.Outcome {
	if err == nil {
		return runtime.OutcomeSuccess
	}
	var co *runtime.CircuitOpenError
	var te *runtime.StepTimeoutError
	var ce *runtime.ConcurrencyLimitError
	switch {
	case errors.As(err, &co), errors.As(err, &ce):
		return runtime.OutcomeRejected
	case errors.As(err, &te):
		return runtime.OutcomeTimeout
	}
	return runtime.OutcomeFailure
}

// Fallback folds fb, the result of a node's fallback, into *res, the
// result of the failed primary: the attempts, usage and latency add up, fb
// becomes the last of res.Steps, and when fb succeeded its output is the
// node's. aborted says the fallback's run was aborted: res is then only
// marked as having run its fallback.
func Fallback(res *runtime.StepResult, fb runtime.StepResult, aborted bool) {
	primary := res.Err
	res.FallbackTriggered = true
	res.OriginalError = primary
	res.Attempts += fb.Attempts
	res.Cost += fb.Cost
	res.Tokens += fb.Tokens
	res.Latency += fb.Latency
	res.Steps = append(res.Steps[:len(res.Steps):len(res.Steps)], fb)
	if aborted {
		return
	}
	if fb.Success {
		res.Success, res.Output, res.Err, res.Feedback = true, fb.Output, nil, ""
		return
	}
	res.Err = &runtime.FallbackError{Original: primary, Fallback: fb.Err}
	res.Feedback = runtime.FallbackFeedback(res.Feedback, fb.Feedback)
}

// UnkeyedCache is a cache whose keys identify inputs on their own: the
// input is not stored to check them.
type UnkeyedCache[In, Out any] struct{ C *runtime.ResultCache[Out] }

// TTL returns how long entries live.
func (u UnkeyedCache[In, Out]) TTL() time.Duration { return u.C.TTL() }

// Get returns the output stored under key.
func (u UnkeyedCache[In, Out]) Get(key uint64, _ In) (Out, bool) { return u.C.Get(key) }

// Set stores out under key.
func (u UnkeyedCache[In, Out]) Set(key uint64, _ In, out Out) error { return u.C.Set(key, out) }

// SetFor stores out under key for at most ttl.
func (u UnkeyedCache[In, Out]) SetFor(key uint64, _ In, out Out, ttl time.Duration) error {
	return u.C.SetFor(key, out, ttl)
}

// JSONKey is the cache key of in for the step whose cache fingerprint is
// fingerprint, without enable_algorithm_optimization: a SHA-256 of both as
// JSON. It fails when in does not encode, and the step then runs uncached;
// a panic of in's own MarshalJSON or MarshalText method is a
// *runtime.PanicError, which fails the step (see Leaf.Key).
func JSONKey(fingerprint string, in any) (key uint64, err error) {
	defer KeyPanic(&err)
	data, err := json.Marshal(struct {
		Step  string `json:"step"`
		Input any    `json:"input"`
	}{fingerprint, in})
	if err != nil {
		return 0, err
	}
	sum := sha256.Sum256(data)
	return binary.LittleEndian.Uint64(sum[:8]), nil
}

// marshalInput is in's JSON, its shared cache key: a panic of in's own
// MarshalJSON or MarshalText method is a *runtime.PanicError, which fails
// the step (see Leaf.Key).
func marshalInput(in any) (data []byte, err error) {
	defer KeyPanic(&err)
	return json.Marshal(in)
}

// IsUsageLimit reports whether err is a usage limit's abort.
func IsUsageLimit(err error) bool {
	var u *runtime.UsageLimitExceededError
	return errors.As(err, &u)
}
