package flujotest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flujo/flujo"
)

// The declarations of the breaker-classification rules. Every step makes
// one attempt per run, so each run reports one outcome to the breaker.
var (
	// BreakerValidated's output is rejected by its validator while the job's
	// FailFirst lasts.
	BreakerValidated = flujo.Step("draft", Draft, flujo.Retries(0), flujo.Validate(MustBeFinal))
	// BreakerUpstream fails as the job's Name says (see Upstream).
	BreakerUpstream = flujo.Step("upstream", Upstream, flujo.Retries(0))
	// BadInputRetried would retry twice, but bad input is not retried.
	BadInputRetried = flujo.Step("upstream", Upstream, flujo.Retries(2))
	// BreakerTimesOut overruns its timeout on every attempt.
	BreakerTimesOut = flujo.Step("block", Block, flujo.Retries(0), flujo.Timeout(5*time.Millisecond))
	// BreakerPanics panics on every attempt.
	BreakerPanics = flujo.Step("panic", Panic, flujo.Retries(0))
	// BreakerCancels cancels its caller's context while it runs.
	BreakerCancels = flujo.Step("cancel", CancelCaller, flujo.Retries(0))
	// BreakerCustom counts bad input, and only bad input, toward its breaker.
	BreakerCustom = flujo.Step("upstream", Upstream, flujo.Retries(0), flujo.BreakerCounts(CountsOnlyBadInput))
	// BreakerRulePanics's BreakerCounts rule panics on every failure.
	BreakerRulePanics = flujo.Step("upstream", Upstream, flujo.Retries(0), flujo.BreakerCounts(CountsPanics))
	// BreakerRulePanicsFan runs BreakerRulePanics's step as a Parallel
	// branch, on a goroutine of its own, beside Echo.
	BreakerRulePanicsFan = flujo.Parallel("fan", JoinFirst,
		flujo.Step("upstream", Upstream, flujo.Retries(0), flujo.BreakerCounts(CountsPanics)), flujo.Step("echo", Echo, flujo.Retries(0)))
)

// ErrRulePanicked is what CountsPanics panics with.
var ErrRulePanicked = errors.New("breaker rule panicked")

// CountsPanics is a BreakerCounts rule that panics with ErrRulePanicked.
func CountsPanics(error) bool { panic(ErrRulePanicked) }

// JoinFirst joins two jobs into the first.
func JoinFirst(a, _ Job) Job { return a }

// The job names Upstream fails on.
const (
	// UpstreamDown fails with ErrBoom, as an unhealthy upstream would.
	UpstreamDown = "down"
	// UpstreamBadInput fails with flujo.BadInput.
	UpstreamBadInput = "bad"
	// UpstreamPermanent fails with an error that declares itself permanent.
	UpstreamPermanent = "permanent"
	// UpstreamOverBudget fails with a usage-limit abort, as a step that runs
	// a pipeline of its own under limits would.
	UpstreamOverBudget = "overbudget"
)

// ErrNoSuchRecord is the permanent error of Upstream.
var ErrNoSuchRecord error = permanentError{"no such record"}

type permanentError struct{ msg string }

func (e permanentError) Error() string   { return e.msg }
func (e permanentError) Permanent() bool { return true }

// Upstream fails as the job's name says (UpstreamDown, UpstreamBadInput,
// UpstreamPermanent, UpstreamOverBudget) and succeeds for any other name.
func Upstream(_ context.Context, j Job) (Job, error) {
	j.Calls.inc("upstream")
	switch j.Name {
	case UpstreamDown:
		return Job{}, ErrBoom
	case UpstreamBadInput:
		return Job{}, flujo.BadInput(errors.New("question is empty"))
	case UpstreamPermanent:
		return Job{}, fmt.Errorf("lookup: %w", ErrNoSuchRecord)
	case UpstreamOverBudget:
		return Job{}, fmt.Errorf("sub-run: %w", &flujo.UsageLimitExceededError{Limit: "total_tokens_limit", Limits: flujo.UsageLimits{TotalTokensLimit: 1}, Tokens: 2})
	}
	return j, nil
}

// CountsOnlyBadInput is a BreakerCounts rule that counts bad input and
// nothing else.
func CountsOnlyBadInput(err error) bool { return flujo.IsBadInput(err) }

type callerCancelKey struct{}

// WithCallerCancel returns ctx carrying cancel, which CancelCaller calls.
func WithCallerCancel(ctx context.Context, cancel context.CancelFunc) context.Context {
	return context.WithValue(ctx, callerCancelKey{}, cancel)
}

// CancelCaller cancels the caller's context, if it carries a cancel
// function (see WithCallerCancel), and fails with the context's error, as a
// step whose caller gave up does; without one it returns its input.
func CancelCaller(ctx context.Context, j Job) (Job, error) {
	j.Calls.inc("cancel")
	cancel, ok := ctx.Value(callerCancelKey{}).(context.CancelFunc)
	if !ok {
		return j, nil
	}
	cancel()
	<-ctx.Done()
	return Job{}, ctx.Err()
}
