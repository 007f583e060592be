package flujotest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flujo/flujo"
)

// breakerNeverOpens runs node n times with job under the breaker
// configuration (threshold 2) and fails the test if a run is rejected or
// does not call the step function fn.
func breakerNeverOpens(t *testing.T, e Engine, node flujo.Node, job Job, fn string, n int) {
	t.Helper()
	for i := range n {
		res, err := run(t, e, node, job)
		if err == nil {
			t.Fatalf("run %d succeeded, want the step's failure", i+1)
		}
		if isOpen(err) || only(t, res).Attempts != 1 {
			t.Fatalf("run %d: %v after %d attempts; the breaker counted failures that say nothing about the upstream", i+1, err, only(t, res).Attempts)
		}
	}
	if got := job.Calls.Count(fn); got != n {
		t.Fatalf("%s called %d times in %d runs, want %d", fn, got, n, n)
	}
}

// breakerOpensAfter runs failing runs (each must fail with the step's own
// error) and then expects the next run to be rejected by an open breaker.
func breakerOpensAfter(t *testing.T, e Engine, node flujo.Node, jobs ...Job) {
	t.Helper()
	for i, job := range jobs {
		if _, err := run(t, e, node, job); err == nil || isOpen(err) {
			t.Fatalf("run %d: %v, want the step's own failure", i+1, err)
		}
	}
	res, err := run(t, e, node, jobs[len(jobs)-1])
	if !isOpen(err) || only(t, res).Attempts != 0 {
		t.Errorf("after %d counted failures: %v (attempts %d), want the breaker open", len(jobs), err, only(t, res).Attempts)
	}
}

// TestBreakerIgnoresValidationFailures: a validator's rejection is not a
// breaker failure: any number of them leave the breaker closed.
func TestBreakerIgnoresValidationFailures(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, breakerConfig())
	breakerNeverOpens(t, e, BreakerValidated, Job{FailFirst: 100, Calls: NewCalls()}, "draft", 5)
}

// TestBreakerIgnoresBadInput: errors that declare themselves bad input
// (flujo.BadInput) do not count and are not retried, and they are neutral:
// they do not clear the failures counted before them either.
func TestBreakerIgnoresBadInput(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, breakerConfig())
	calls := NewCalls()
	bad := Job{Name: UpstreamBadInput, Calls: calls}
	breakerNeverOpens(t, e, BreakerUpstream, bad, "upstream", 5)
	_, err := run(t, e, BreakerUpstream, bad)
	var ie *flujo.InputError
	if !errors.As(err, &ie) || !flujo.IsBadInput(err) {
		t.Errorf("error %v (%T), want the step's *flujo.InputError", err, err)
	}
	// One counted failure, bad input in between, one more: open at two.
	down := Job{Name: UpstreamDown, Calls: calls}
	if _, err := run(t, e, BreakerUpstream, down); err == nil || isOpen(err) {
		t.Fatalf("first upstream failure: %v", err)
	}
	for range 3 {
		run(t, e, BreakerUpstream, bad)
	}
	breakerOpensAfter(t, e, BreakerUpstream, down)

	res, err := run(t, e, BadInputRetried, Job{Name: UpstreamBadInput, Calls: NewCalls()})
	if err == nil || only(t, res).Attempts != 1 {
		t.Errorf("bad input with 2 retries: %v after %d attempts, want 1 attempt", err, only(t, res).Attempts)
	}
}

// TestBreakerIgnoresPermanentAndUsageLimitErrors: errors that declare
// themselves permanent and usage-limit aborts do not count.
func TestBreakerIgnoresPermanentAndUsageLimitErrors(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, breakerConfig())
	calls := NewCalls()
	breakerNeverOpens(t, e, BreakerUpstream, Job{Name: UpstreamPermanent, Calls: calls}, "upstream", 3)
	breakerNeverOpens(t, e, BreakerUpstream, Job{Name: UpstreamOverBudget, Calls: NewCalls()}, "upstream", 3)
	// A run over its own limit is aborted after its step succeeded.
	over := Job{Name: "ok", Tokens: 5, Calls: NewCalls()}
	for i := range 3 {
		_, err := run(t, e, BreakerUpstream, over, flujo.WithUsageLimits(flujo.UsageLimits{TotalTokensLimit: 1}))
		var ul *flujo.UsageLimitExceededError
		if !errors.As(err, &ul) {
			t.Fatalf("run %d over its limit: %v, want a usage-limit abort", i+1, err)
		}
	}
	if _, err := run(t, e, BreakerUpstream, Job{Name: "ok", Calls: NewCalls()}); err != nil {
		t.Errorf("after permanent errors and usage-limit aborts: %v, want success", err)
	}
}

// TestBreakerIgnoresCallerCancellation: an attempt cut short because the
// caller cancelled its context never reaches the breaker.
func TestBreakerIgnoresCallerCancellation(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, breakerConfig())
	calls := NewCalls()
	for i := range 4 {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := e.Execute(WithCallerCancel(ctx, cancel), BreakerCancels, Job{Calls: calls})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: %v, want context.Canceled", i+1, err)
		}
	}
	if calls.Count("cancel") != 4 {
		t.Fatalf("step called %d times in 4 runs, want 4", calls.Count("cancel"))
	}
	// A live caller: the step sees no cancellation and succeeds.
	if _, err := run(t, e, BreakerCancels, Job{Calls: calls}); err != nil {
		t.Errorf("after 4 cancelled runs: %v, want the breaker closed and success", err)
	}
}

// TestBreakerCountsTimeoutsAndPanics: per-attempt timeouts and panics say
// the step's upstream is unhealthy, so they count.
func TestBreakerCountsTimeoutsAndPanics(t *testing.T, f EngineFactory) {
	t.Run("timeout", func(t *testing.T) {
		e, _ := engine(t, f, breakerConfig())
		calls := NewCalls()
		breakerOpensAfter(t, e, BreakerTimesOut, Job{Calls: calls}, Job{Calls: calls})
		if calls.Count("block") != 2 {
			t.Errorf("block called %d times, want 2", calls.Count("block"))
		}
	})
	t.Run("panic", func(t *testing.T) {
		e, _ := engine(t, f, breakerConfig())
		calls := NewCalls()
		breakerOpensAfter(t, e, BreakerPanics, Job{Calls: calls}, Job{Calls: calls})
	})
}

// TestBreakerOptionDecides: with BreakerCounts the step's own rule decides,
// both ways: here bad input counts and an upstream failure does not.
func TestBreakerOptionDecides(t *testing.T, f EngineFactory) {
	e, clock := engine(t, f, breakerConfig())
	calls := NewCalls()
	breakerNeverOpens(t, e, BreakerCustom, Job{Name: UpstreamDown, Calls: calls}, "upstream", 4)
	bad := Job{Name: UpstreamBadInput, Calls: calls}
	breakerOpensAfter(t, e, BreakerCustom, bad, bad)
	// The option changes what counts, not the state machine: a probe of
	// what the rule does not count leaves the breaker half-open for another.
	clock.Advance(30 * time.Second)
	if _, err := run(t, e, BreakerCustom, Job{Name: UpstreamDown, Calls: calls}); err == nil || isOpen(err) {
		t.Fatalf("probe: %v, want the step's own failure", err)
	}
	if _, err := run(t, e, BreakerCustom, Job{Name: "ok", Calls: calls}); err != nil {
		t.Errorf("after a neutral probe: %v, want a second probe to run and close the breaker", err)
	}
}

// TestBreakerRulePanicFailsTheStep: a BreakerCounts rule is user code; a
// panic there fails the attempt with a *flujo.PanicError, as one in the
// step function does, and counts against the breaker as such a panic does.
// It does not escape the run, from a Parallel branch's goroutine neither.
func TestBreakerRulePanicFailsTheStep(t *testing.T, f EngineFactory) {
	for _, tc := range []struct {
		name string
		node flujo.Node
	}{{"step", BreakerRulePanics}, {"parallel branch", BreakerRulePanicsFan}} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := engine(t, f, breakerConfig())
			calls := NewCalls()
			for i := range 2 {
				res, err := run(t, e, tc.node, Job{Name: UpstreamDown, Calls: calls})
				var p *flujo.PanicError
				if !errors.As(err, &p) || p.Value != ErrRulePanicked || p.Step != "upstream" || len(p.Stack) == 0 || res.Success {
					t.Fatalf("run %d: %v, want the step failed by the rule's *PanicError", i+1, err)
				}
			}
			if _, err := run(t, e, tc.node, Job{Name: UpstreamDown, Calls: calls}); !isOpen(err) {
				t.Errorf("after 2 failures whose rule panicked: %v, want the breaker open", err)
			}
			if calls.Count("upstream") != 2 {
				t.Errorf("upstream called %d times, want 2", calls.Count("upstream"))
			}
		})
	}
}
