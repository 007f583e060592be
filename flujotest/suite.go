package flujotest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/runtime"
)

// Usage is flujo.Usage, for the steps' outputs.
type Usage = flujo.Usage

// Engine runs declarations. The ExecutorCore is one; an adapter over
// generated executors is another.
type Engine interface {
	Execute(ctx context.Context, node flujo.Node, input any, opts ...flujo.ExecOption) (*flujo.PipelineResult, error)
}

// EngineFactory returns a new engine configured by cfg that reads time from
// clock. It closes the engine when the test ends (t.Cleanup).
type EngineFactory func(t testing.TB, cfg runtime.OptimizationConfig, clock runtime.Clock) Engine

// Rule is one rule of the semantics and the test that proves it.
type Rule struct {
	Name string
	Test func(t *testing.T, newEngine EngineFactory)
}

// Rules lists the rules in the order docs/semantics.md gives them.
func Rules() []Rule {
	return []Rule{
		{"AttemptsAreRetriesPlusOne", TestAttemptsAreRetriesPlusOne},
		{"DefaultRetriesIsOne", TestDefaultRetriesIsOne},
		{"FailureFeedback", TestFailureFeedback},
		{"ValidationFailureIsAFailedAttempt", TestValidationFailureIsAFailedAttempt},
		{"PanicBecomesFailedResult", TestPanicBecomesFailedResult},
		{"ErrorPatternsIgnoreStacks", TestErrorPatternsIgnoreStacks},
		{"GoexitReleasesPermit", TestGoexitReleasesPermit},
		{"TimeoutPerAttempt", TestTimeoutPerAttempt},
		{"CancellationStopsBackoff", TestCancellationStopsBackoff},
		{"CancellationStopsParallel", TestCancellationStopsParallel},
		{"FallbackMetadata", TestFallbackMetadata},
		{"FallbackFailureFeedback", TestFallbackFailureFeedback},
		{"FallbackChainCap", TestFallbackChainCap},
		{"FallbackLoopDetected", TestFallbackLoopDetected},
		{"CacheHitMarked", TestCacheHitMarked},
		{"CacheHitIsMutationSafe", TestCacheHitIsMutationSafe},
		{"CacheStoresOnlySuccesses", TestCacheStoresOnlySuccesses},
		{"CacheOffByConfig", TestCacheOffByConfig},
		{"CacheTTL", TestCacheTTL},
		{"CacheCompressionKeepsValues", TestCacheCompressionKeepsValues},
		{"CachedFallbackResultIsCached", TestCachedFallbackResultIsCached},
		{"CacheKeyPanicFailsTheStep", TestCacheKeyPanicFailsTheStep},
		{"LoopExitCondition", TestLoopExitCondition},
		{"LoopMaxLoops", TestLoopMaxLoops},
		{"BranchKeyRecorded", TestBranchKeyRecorded},
		{"BranchDefault", TestBranchDefault},
		{"ParallelMergeUpdate", TestParallelMergeUpdate},
		{"ParallelErrorOnConflict", TestParallelErrorOnConflict},
		{"ParallelConflictOnlyWhenBothWrite", TestParallelConflictOnlyWhenBothWrite},
		{"ParallelKeepFirst", TestParallelKeepFirst},
		{"ParallelNoMerge", TestParallelNoMerge},
		{"ParallelPropagate", TestParallelPropagate},
		{"ParallelIgnore", TestParallelIgnore},
		{"ParallelJoinErrorNamesJoin", TestParallelJoinErrorNamesJoin},
		{"ParallelFailureStateRule", TestParallelFailureStateRule},
		{"StateAttemptIsolation", TestStateAttemptIsolation},
		{"MapKeepsOrder", TestMapKeepsOrder},
		{"StepHistory", TestStepHistory},
		{"UsageReported", TestUsageReported},
		{"UsageLimitPartialResult", TestUsageLimitPartialResult},
		{"UsageBudgetSharedByParallel", TestUsageBudgetSharedByParallel},
		{"UsageWithinLimitNeverAborts", TestUsageWithinLimitNeverAborts},
		{"UsageBreachCancelsSiblings", TestUsageBreachCancelsSiblings},
		{"UsageChargedForRejectedOutputs", TestUsageChargedForRejectedOutputs},
		{"UsageChargedForFallback", TestUsageChargedForFallback},
		{"UsageLimitsValidated", TestUsageLimitsValidated},
		{"BreakerOpens", TestBreakerOpens},
		{"BreakerHalfOpenCloses", TestBreakerHalfOpenCloses},
		{"BreakerHalfOpenReopens", TestBreakerHalfOpenReopens},
		{"BreakerIgnoresValidationFailures", TestBreakerIgnoresValidationFailures},
		{"BreakerIgnoresBadInput", TestBreakerIgnoresBadInput},
		{"BreakerIgnoresPermanentAndUsageLimitErrors", TestBreakerIgnoresPermanentAndUsageLimitErrors},
		{"BreakerIgnoresCallerCancellation", TestBreakerIgnoresCallerCancellation},
		{"BreakerCountsTimeoutsAndPanics", TestBreakerCountsTimeoutsAndPanics},
		{"BreakerRulePanicFailsTheStep", TestBreakerRulePanicFailsTheStep},
		{"BreakerOptionDecides", TestBreakerOptionDecides},
		{"IOBoundBurstRunsConcurrently", TestIOBoundBurstRunsConcurrently},
		{"LimiterRejectsPastFullQueue", TestLimiterRejectsPastFullQueue},
	}
}

// RunSemantics runs every rule as a subtest against engines from newEngine.
func RunSemantics(t *testing.T, newEngine EngineFactory) {
	for _, r := range Rules() {
		t.Run(r.Name, func(t *testing.T) { r.Test(t, newEngine) })
	}
}

func defaults() runtime.OptimizationConfig { return runtime.DefaultOptimizationConfig() }

func cached() runtime.OptimizationConfig {
	c := runtime.DefaultOptimizationConfig()
	c.EnableCacheOptimization = true
	return c
}

func engine(t *testing.T, f EngineFactory, cfg runtime.OptimizationConfig) (Engine, *runtime.FakeClock) {
	clock := runtime.NewFakeClock(time.Hour)
	return f(t, cfg, clock), clock
}

func run(t *testing.T, e Engine, n flujo.Node, in any, opts ...flujo.ExecOption) (*flujo.PipelineResult, error) {
	t.Helper()
	res, err := e.Execute(context.Background(), n, in, opts...)
	if res == nil {
		t.Fatalf("Execute returned no result (err %v)", err)
	}
	return res, err
}

func only(t *testing.T, res *flujo.PipelineResult) flujo.StepResult {
	t.Helper()
	if len(res.Steps) != 1 {
		t.Fatalf("got %d step results, want 1", len(res.Steps))
	}
	return res.Steps[0]
}

// TestAttemptsAreRetriesPlusOne: a step makes at most Retries+1 attempts and
// stops at the first success.
func TestAttemptsAreRetriesPlusOne(t *testing.T, f EngineFactory) {
	for _, tc := range []struct {
		failFirst, attempts int
		success             bool
	}{{0, 1, true}, {2, 3, true}, {3, 4, true}, {4, 4, false}, {9, 4, false}} {
		e, _ := engine(t, f, defaults())
		calls := NewCalls()
		res, _ := run(t, e, FlakyRetries3, Job{FailFirst: tc.failFirst, Calls: calls})
		s := only(t, res)
		if s.Attempts != tc.attempts || s.Success != tc.success || calls.Count("flaky") != tc.attempts {
			t.Errorf("FailFirst %d: attempts %d, success %v, calls %d; want %d, %v, %d",
				tc.failFirst, s.Attempts, s.Success, calls.Count("flaky"), tc.attempts, tc.success, tc.attempts)
		}
	}
}

// TestDefaultRetriesIsOne: without Retries a step makes two attempts.
func TestDefaultRetriesIsOne(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	calls := NewCalls()
	res, err := run(t, e, FlakyDefault, Job{FailFirst: 5, Calls: calls})
	if s := only(t, res); s.Attempts != 2 || calls.Count("flaky") != 2 || s.Success || err == nil {
		t.Errorf("attempts %d, calls %d, success %v, err %v; want 2 failed attempts", s.Attempts, calls.Count("flaky"), s.Success, err)
	}
}

// TestFailureFeedback: the feedback of a final failure names the error's
// type and message.
func TestFailureFeedback(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, FailOnce, Job{Calls: NewCalls()})
	s := only(t, res)
	const want = "Agent execution failed with errors.errorString: boom"
	if s.Feedback != want {
		t.Errorf("feedback %q, want %q", s.Feedback, want)
	}
	if !errors.Is(err, ErrBoom) || !errors.Is(s.Err, ErrBoom) || res.Success {
		t.Errorf("err %v, step err %v: want ErrBoom", err, s.Err)
	}
	var se *flujo.StepError
	if !errors.As(err, &se) || strings.Join(se.Path, "/") != "fail" {
		t.Errorf("err %v: want a *StepError for \"fail\"", err)
	}
}

// TestValidationFailureIsAFailedAttempt: a rejected output fails the attempt,
// is retried, and a final rejection says "Validation failed: ...".
func TestValidationFailureIsAFailedAttempt(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, _ := run(t, e, Validated, Job{FailFirst: 2, Calls: NewCalls()})
	if s := only(t, res); !s.Success || s.Attempts != 3 || s.Output.(Job).Name != "final" {
		t.Errorf("success %v attempts %d: want success on attempt 3", s.Success, s.Attempts)
	}
	res, _ = run(t, e, Validated, Job{FailFirst: 5, Calls: NewCalls()})
	s := only(t, res)
	const want = `Validation failed: name is "draft", want "final"`
	if s.Success || s.Attempts != 3 || s.Feedback != want {
		t.Errorf("success %v attempts %d feedback %q; want 3 failed attempts, %q", s.Success, s.Attempts, s.Feedback, want)
	}
	var v *flujo.ValidationFailedError
	if !errors.As(s.Err, &v) {
		t.Errorf("err %v: want *ValidationFailedError", s.Err)
	}
}

// TestPanicBecomesFailedResult: a panicking step fails with a *PanicError
// that carries the stack.
func TestPanicBecomesFailedResult(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, Panics, Job{Calls: NewCalls()})
	var p *flujo.PanicError
	if !errors.As(err, &p) || p.Value != "kaboom" || !strings.Contains(string(p.Stack), "Panic") {
		t.Fatalf("err %v: want a *PanicError with the stack", err)
	}
	if s := only(t, res); s.Success || !strings.HasPrefix(s.Feedback, "Agent execution failed with flujo.PanicError: ") {
		t.Errorf("feedback %q", s.Feedback)
	}
}

// TestTimeoutPerAttempt: every attempt gets its own Timeout; an overrun is a
// failed attempt with a *StepTimeoutError.
func TestTimeoutPerAttempt(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	calls := NewCalls()
	res, err := run(t, e, TimesOut, Job{Calls: calls})
	var te *flujo.StepTimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v: want *StepTimeoutError", err)
	}
	if s := only(t, res); s.Attempts != 2 || calls.Count("block") != 2 {
		t.Errorf("attempts %d calls %d, want 2", s.Attempts, calls.Count("block"))
	}
}

// TestCancellationStopsBackoff: cancelling the caller's context ends a
// backoff wait at once.
func TestCancellationStopsBackoff(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Execute(ctx, BackoffLong, Job{Calls: NewCalls()})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

// TestCancellationStopsParallel: cancelling the caller's context ends a
// Parallel waiting for its branches.
func TestCancellationStopsParallel(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	ctx, cancel := context.WithCancel(context.Background())
	calls := NewCalls()
	done := make(chan error, 1)
	go func() {
		_, err := e.Execute(ctx, ParallelBlocks, Job{Calls: calls})
		done <- err
	}()
	for calls.Count("block") == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

// TestFallbackMetadata: a successful fallback marks the result, keeps the
// original error and adds up attempts.
func TestFallbackMetadata(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, WithFallback, Job{Calls: NewCalls()})
	s := only(t, res)
	if err != nil || !s.Success || !s.FallbackTriggered || !errors.Is(s.OriginalError, ErrBoom) {
		t.Fatalf("err %v success %v triggered %v original %v", err, s.Success, s.FallbackTriggered, s.OriginalError)
	}
	if s.Attempts != 3 || s.Output.(Job).Name != "rescued" || s.Name != "fail" {
		t.Errorf("attempts %d output %v name %q; want 2+1 attempts, the fallback's output, the primary's name", s.Attempts, s.Output, s.Name)
	}
}

// TestFallbackFailureFeedback: when the fallback fails too, the feedback
// gives both errors.
func TestFallbackFailureFeedback(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, WithFailedFallback, Job{Calls: NewCalls()})
	s := only(t, res)
	const want = "Original error: Agent execution failed with errors.errorString: boom; " +
		"Fallback error: Agent execution failed with errors.errorString: fallback broke"
	if s.Success || s.Feedback != want || !s.FallbackTriggered || !errors.Is(err, ErrBoom) {
		t.Errorf("success %v feedback %q err %v; want %q", s.Success, s.Feedback, err, want)
	}
}

func declarationError(f func() flujo.Node) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err, _ = v.(error)
		}
	}()
	f()
	return nil
}

// TestFallbackChainCap: a chain of MaxFallbackDepth fallbacks runs to its
// end; a longer one is refused when declared.
func TestFallbackChainCap(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, FallbackChain(flujo.MaxFallbackDepth), Job{Calls: NewCalls()})
	if s := only(t, res); err != nil || s.Output.(Job).Name != "rescued" || s.Attempts != flujo.MaxFallbackDepth+1 {
		t.Errorf("err %v attempts %d: want the end of the chain to rescue", err, s.Attempts)
	}
	err = declarationError(func() flujo.Node { return FallbackChain(flujo.MaxFallbackDepth + 1) })
	if err == nil || !strings.Contains(err.Error(), "deep; at most 10 allowed") {
		t.Errorf("declaring 11 fallbacks: %v", err)
	}
}

// TestFallbackLoopDetected: a fallback chain leading back to a node of the
// chain is refused when declared.
func TestFallbackLoopDetected(t *testing.T, f EngineFactory) {
	err := declarationError(func() flujo.Node {
		a := flujo.Step("a", Fail)
		b := flujo.Step("b", Fail, flujo.Fallback(a))
		return a.With(flujo.Fallback(b))
	})
	if err == nil || !strings.Contains(err.Error(), "fallback loop: a -> b -> a") {
		t.Errorf("got %v, want a fallback loop error", err)
	}
}

// TestCacheHitMarked: a second run on an equal input is a hit: marked, no
// attempt, same output, step not called.
func TestCacheHitMarked(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, cached())
	calls := NewCalls()
	first, _ := run(t, e, CachedTags, Job{Name: "x", Calls: calls})
	second, _ := run(t, e, CachedTags, Job{Name: "x", Calls: calls})
	s1, s2 := only(t, first), only(t, second)
	if s1.CacheHit || !s2.CacheHit || s2.Attempts != 0 || calls.Count("tags") != 1 || !reflect.DeepEqual(s1.Output, s2.Output) {
		t.Errorf("hits %v,%v attempts %d calls %d outputs %v %v", s1.CacheHit, s2.CacheHit, s2.Attempts, calls.Count("tags"), s1.Output, s2.Output)
	}
	third, _ := run(t, e, CachedTags, Job{Name: "y", Calls: calls})
	if only(t, third).CacheHit {
		t.Error("a different input hit the cache")
	}
}

// TestCacheHitIsMutationSafe: mutating an output, fresh or from a hit, never
// changes what later hits return.
func TestCacheHitIsMutationSafe(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, cached())
	calls := NewCalls()
	first, _ := run(t, e, CachedTags, Job{Name: "x", Calls: calls})
	first.Output.([]string)[0] = "mutated"
	second, _ := run(t, e, CachedTags, Job{Name: "x", Calls: calls})
	second.Output.([]string)[1] = "mutated"
	third, _ := run(t, e, CachedTags, Job{Name: "x", Calls: calls})
	if got := third.Output.([]string); !only(t, third).CacheHit || !reflect.DeepEqual(got, []string{"x", "tagged"}) {
		t.Errorf("third output %v, want a hit with [x tagged]", got)
	}
	shared, _ := run(t, e, CachedTagsShared, Job{Name: "s", Calls: calls})
	again, _ := run(t, e, CachedTagsShared, Job{Name: "s", Calls: calls})
	if &shared.Output.([]string)[0] != &again.Output.([]string)[0] {
		t.Error("ImmutableOutput: a hit should return the stored value itself")
	}
}

// TestCacheStoresOnlySuccesses: a failed run leaves nothing in the cache.
func TestCacheStoresOnlySuccesses(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, cached())
	calls := NewCalls()
	failed, _ := run(t, e, CachedTags, Job{Name: "x", FailFirst: 1, Calls: calls})
	ok, _ := run(t, e, CachedTags, Job{Name: "x", FailFirst: 1, Calls: calls})
	hit, _ := run(t, e, CachedTags, Job{Name: "x", FailFirst: 1, Calls: calls})
	if failed.Success || !ok.Success || only(t, ok).CacheHit || !only(t, hit).CacheHit || calls.Count("tags") != 2 {
		t.Errorf("runs: %v %v %v, calls %d", failed.Success, only(t, ok).CacheHit, only(t, hit).CacheHit, calls.Count("tags"))
	}
}

// TestCacheOffByConfig: with enable_cache_optimization false, Cache() steps
// run every time.
func TestCacheOffByConfig(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	calls := NewCalls()
	for range 3 {
		res, _ := run(t, e, CachedTags, Job{Name: "x", Calls: calls})
		if only(t, res).CacheHit {
			t.Fatal("hit with caching off")
		}
	}
	if calls.Count("tags") != 3 {
		t.Errorf("calls %d, want 3", calls.Count("tags"))
	}
}

// TestCacheTTL: an entry expires after its time to live.
func TestCacheTTL(t *testing.T, f EngineFactory) {
	e, clock := engine(t, f, cached())
	calls := NewCalls()
	run(t, e, CachedTagsTTL, Job{Name: "x", Calls: calls})
	clock.Advance(time.Minute - time.Nanosecond)
	if res, _ := run(t, e, CachedTagsTTL, Job{Name: "x", Calls: calls}); !only(t, res).CacheHit {
		t.Error("miss before the TTL")
	}
	clock.Advance(time.Nanosecond)
	if res, _ := run(t, e, CachedTagsTTL, Job{Name: "x", Calls: calls}); only(t, res).CacheHit {
		t.Error("hit after the TTL")
	}
}

// TestCacheCompressionKeepsValues: with cache_compression, a hit of a step
// whose output JSON does not carry whole (an unexported field, an
// interface) is the value the step returned, as without compression: such
// outputs are stored as values, not encoded.
func TestCacheCompressionKeepsValues(t *testing.T, f EngineFactory) {
	cfg := cached()
	cfg.CacheCompression, cfg.EnableAlgorithmOptimization = true, false // as flujogen's "packed" variant
	e, _ := engine(t, f, cfg)
	calls := NewCalls()
	run(t, e, CachedQuote, Job{Name: "x", Calls: calls})
	res, _ := run(t, e, CachedQuote, Job{Name: "x", Calls: calls})
	if q, ok := res.Output.(Quote); !only(t, res).CacheHit || !ok || q.Currency() != "EUR" || !reflect.DeepEqual(q.Items, []string{"x"}) {
		t.Errorf("quote hit %v output %#v; want a hit of [x] in EUR", only(t, res).CacheHit, res.Output)
	}
	res.Output.(Quote).Items[0] = "mutated"
	if again, _ := run(t, e, CachedQuote, Job{Name: "x", Calls: calls}); !reflect.DeepEqual(again.Output.(Quote).Items, []string{"x"}) {
		t.Errorf("a mutated hit changed the cached quote: %v", again.Output)
	}
	run(t, e, CachedBox, Job{Name: "y", Calls: calls})
	res, _ = run(t, e, CachedBox, Job{Name: "y", Calls: calls})
	if got, ok := res.Output.([]string); !only(t, res).CacheHit || !ok || !reflect.DeepEqual(got, []string{"y", "boxed"}) {
		t.Errorf("box hit %v output %#v; want a hit of []string{y boxed}", only(t, res).CacheHit, res.Output)
	}
	if calls.Count("quote") != 1 || calls.Count("box") != 1 {
		t.Errorf("steps called quote %d, box %d times; want once each", calls.Count("quote"), calls.Count("box"))
	}
}

// TestLoopExitCondition: the loop stops at the first body output that meets
// the exit condition and records one result per iteration.
func TestLoopExitCondition(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, CountTo3, 0)
	s := only(t, res)
	if err != nil || res.Output != 3 || s.Attempts != 3 || len(s.Steps) != 3 {
		t.Errorf("err %v output %v iterations %d/%d; want 3", err, res.Output, s.Attempts, len(s.Steps))
	}
}

// TestLoopMaxLoops: a loop whose exit condition never holds fails after
// MaxLoops iterations, 5 by default.
func TestLoopMaxLoops(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	for _, tc := range []struct {
		node flujo.Node
		max  int
	}{{CountForever, flujo.DefaultMaxLoops}, {CountForever2, 2}} {
		res, err := run(t, e, tc.node, 0)
		var ml *flujo.MaxLoopsError
		if s := only(t, res); !errors.As(err, &ml) || ml.MaxLoops != tc.max || s.Attempts != tc.max {
			t.Errorf("err %v iterations %d; want MaxLoopsError after %d", err, s.Attempts, tc.max)
		}
	}
}

// TestBranchKeyRecorded: the chooser's key selects the case and is recorded.
func TestBranchKeyRecorded(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, RouteNoDefault, Job{Name: "lower"})
	s := only(t, res)
	if err != nil || s.BranchKey != "lower" || res.Output.(Job).Name != "lower+lower" || s.Steps[0].Name != "lower" {
		t.Errorf("err %v key %q output %v", err, s.BranchKey, res.Output)
	}
	res, err = run(t, e, RouteNoDefault, Job{Name: "sideways"})
	var nb *flujo.NoBranchError
	if !errors.As(err, &nb) || only(t, res).BranchKey != "sideways" {
		t.Errorf("unknown key without default: %v", err)
	}
}

// TestBranchDefault: a key without a case runs the Default node.
func TestBranchDefault(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, RouteWithDefault, Job{Name: "sideways"})
	s := only(t, res)
	if err != nil || s.BranchKey != "sideways" || res.Output.(Job).Name != "sideways+other" {
		t.Errorf("err %v key %q output %v", err, s.BranchKey, res.Output)
	}
}

func runMerge(t *testing.T, f EngineFactory, m flujo.MergeStrategy) (*State, *flujo.PipelineResult, error) {
	e, _ := engine(t, f, defaults())
	st := &State{A: "orig", B: "orig", Log: []string{"kept"}}
	res, err := run(t, e, ParallelMerge(m), Job{Name: "j", Calls: NewCalls()}, flujo.WithState(st))
	if res.FinalState != any(st) {
		t.Errorf("FinalState is not the state passed in")
	}
	return st, res, err
}

// TestParallelMergeUpdate: written fields are copied back in branch order,
// later branches winning.
func TestParallelMergeUpdate(t *testing.T, f EngineFactory) {
	st, res, err := runMerge(t, f, flujo.MergeUpdate)
	if err != nil || st.A != "a2" || st.B != "b" || !reflect.DeepEqual(st.Log, []string{"kept"}) || res.Output.(Job).Name != "j|j|j" {
		t.Errorf("err %v state %+v", err, st)
	}
}

// TestParallelErrorOnConflict: two branches writing one field fail the
// Parallel and leave the state alone.
func TestParallelErrorOnConflict(t *testing.T, f EngineFactory) {
	st, _, err := runMerge(t, f, flujo.ErrorOnConflict)
	var mc *flujo.MergeConflictError
	if !errors.As(err, &mc) || mc.Field != "flujotest.State.A" || mc.Branches != [2]string{"p1", "a2"} {
		t.Fatalf("err %v, want a conflict on A between p1 and a2", err)
	}
	if st.A != "orig" || st.B != "orig" {
		t.Errorf("state changed: %+v", st)
	}
}

// TestParallelConflictOnlyWhenBothWrite: under ErrorOnConflict, branches
// that may both write a field conflict only on a run in which both changed
// it: one writer merges, two fail the Parallel with the state untouched.
func TestParallelConflictOnlyWhenBothWrite(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	for _, tc := range []struct {
		name, want string
		conflict   bool
	}{{"x", "x", false}, {"y", "y", false}, {"none", "orig", false}, {"xy", "orig", true}} {
		st := &State{A: "orig", B: "orig"}
		res, err := run(t, e, MaybeConflict, Job{Name: tc.name, Calls: NewCalls()}, flujo.WithState(st))
		var mc *flujo.MergeConflictError
		switch {
		case tc.conflict && (!errors.As(err, &mc) || mc.Parallel != "maybe" || mc.Field != "flujotest.State.A" || mc.Branches != [2]string{"x", "y"}):
			t.Errorf("%s: err %v, want a conflict on A between x and y", tc.name, err)
		case tc.conflict && (res.Success || only(t, res).Feedback != mc.Error()):
			t.Errorf("%s: result %+v, want a failed Parallel whose feedback is the conflict", tc.name, only(t, res))
		case !tc.conflict && err != nil:
			t.Errorf("%s: err %v, want success", tc.name, err)
		}
		if st.A != tc.want || st.B != "orig" {
			t.Errorf("%s: state %+v, want A %q", tc.name, st, tc.want)
		}
	}
}

// TestParallelKeepFirst: a field written by several branches keeps the first
// branch's value.
func TestParallelKeepFirst(t *testing.T, f EngineFactory) {
	st, _, err := runMerge(t, f, flujo.KeepFirst)
	if err != nil || st.A != "a1" || st.B != "b" {
		t.Errorf("err %v state %+v", err, st)
	}
}

// TestParallelNoMerge: branch writes are discarded.
func TestParallelNoMerge(t *testing.T, f EngineFactory) {
	st, _, err := runMerge(t, f, flujo.NoMerge)
	if err != nil || st.A != "orig" || st.B != "orig" {
		t.Errorf("err %v state %+v", err, st)
	}
}

// TestParallelPropagate: a failed branch fails the Parallel by default.
func TestParallelPropagate(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, ParallelPropagate, Job{Name: "j", Calls: NewCalls()})
	s := only(t, res)
	if !errors.Is(err, ErrBoom) || s.Success || !strings.HasPrefix(s.Feedback, `branch "fail" failed: `) {
		t.Errorf("err %v feedback %q", err, s.Feedback)
	}
}

// TestParallelIgnore: with Ignore, a failed branch gives the join its zero
// value and the Parallel succeeds.
func TestParallelIgnore(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, ParallelIgnore, Job{Name: "j", Calls: NewCalls()})
	s := only(t, res)
	if err != nil || !s.Success || res.Output.(Job).Name != "j|" || s.Steps[1].Success {
		t.Errorf("err %v output %v", err, res.Output)
	}
}

// TestStateAttemptIsolation: a failed attempt's state writes are discarded;
// a successful attempt's are kept.
func TestStateAttemptIsolation(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	st := &State{}
	_, err := run(t, e, StateRetry, Job{FailFirst: 2, Calls: NewCalls()}, flujo.WithState(st))
	if err != nil || !reflect.DeepEqual(st.Log, []string{"attempt 3"}) {
		t.Errorf("err %v log %q, want only the successful attempt's write", err, st.Log)
	}
}

// TestMapKeepsOrder: a Map returns outputs in input order at any
// concurrency, and the first failing element (in input order) fails it.
func TestMapKeepsOrder(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	var jobs []Job
	for i := range 20 {
		jobs = append(jobs, Job{Name: itoa(i), Calls: NewCalls()})
	}
	res, err := run(t, e, MapEcho, jobs)
	out, _ := res.Output.([]Job)
	if err != nil || len(out) != len(jobs) {
		t.Fatalf("err %v len %d", err, len(out))
	}
	for i := range out {
		if out[i].Name != jobs[i].Name {
			t.Fatalf("output %d is %q", i, out[i].Name)
		}
	}
	jobs = []Job{{Calls: NewCalls()}, {FailFirst: 1, Calls: NewCalls()}, {Calls: NewCalls()}}
	res, err = run(t, e, MapFlakyInOrder, jobs)
	if err == nil || len(only(t, res).Steps) != 2 {
		t.Errorf("err %v: want failure at element 2 and element 3 not run", err)
	}
}

// TestStepHistory: a pipeline result lists its steps in execution order,
// nested composites with their children.
func TestStepHistory(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, _ := run(t, e, History, Job{Calls: NewCalls()})
	var names []string
	for _, s := range res.Steps {
		names = append(names, s.Name)
		for _, c := range s.Steps {
			names = append(names, c.Name)
		}
	}
	if got := strings.Join(names, ","); got != "first,inner,second,third" {
		t.Errorf("history %s", got)
	}
	if s, ok := res.Step("third"); !ok || !s.Success {
		t.Error("Step(\"third\") not found")
	}
}

// TestUsageReported: outputs implementing Usage charge the step and the run.
func TestUsageReported(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, Spend3, Job{Cost: 0.5, Tokens: 10, Calls: NewCalls()})
	if err != nil || res.TotalCost != 1.5 || res.TotalTokens != 30 || res.Steps[0].Cost != 0.5 || res.Steps[0].Tokens != 10 {
		t.Errorf("err %v cost %v tokens %d", err, res.TotalCost, res.TotalTokens)
	}
}

// TestUsageLimitPartialResult: going above a limit aborts the run with a
// *UsageLimitExceededError carrying the steps run so far.
func TestUsageLimitPartialResult(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	calls := NewCalls()
	res, err := run(t, e, Spend3, Job{Cost: 1, Tokens: 10, Calls: calls}, flujo.WithUsageLimits(flujo.UsageLimits{TotalCostLimit: 1.5}))
	var ul *flujo.UsageLimitExceededError
	if !errors.As(err, &ul) || ul.Limit != "total_cost_limit" || ul.Partial != res || ul.Cost != 2 {
		t.Fatalf("err %v, want cost limit exceeded", err)
	}
	if len(res.Steps) != 2 || calls.Count("echo") != 2 || res.Success || res.TotalCost != 2 {
		t.Errorf("partial steps %d calls %d cost %v", len(res.Steps), calls.Count("echo"), res.TotalCost)
	}
	_, err = run(t, e, Spend3, Job{Cost: 1, Tokens: 10, Calls: calls}, flujo.WithUsageLimits(flujo.UsageLimits{TotalTokensLimit: 25}))
	if !errors.As(err, &ul) || ul.Limit != "total_tokens_limit" || ul.Tokens != 30 {
		t.Errorf("err %v, want tokens limit exceeded", err)
	}
}

func breakerConfig() runtime.OptimizationConfig {
	c := runtime.DefaultOptimizationConfig()
	c.CircuitBreakerFailureThreshold = 2
	c.CircuitBreakerRecoveryTimeoutSeconds = 30
	return c
}

// TestBreakerOpens: circuit_breaker_failure_threshold consecutive failures
// open the step's breaker; open, it rejects at once with a typed error.
func TestBreakerOpens(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, breakerConfig())
	calls := NewCalls()
	for range 2 {
		run(t, e, BreakerFail, Job{Calls: calls})
	}
	res, err := run(t, e, BreakerFail, Job{Calls: calls})
	var co *flujo.CircuitOpenError
	if !errors.As(err, &co) || only(t, res).Attempts != 0 || calls.Count("fail") != 2 {
		t.Errorf("err %v attempts %d calls %d; want rejection without a call", err, only(t, res).Attempts, calls.Count("fail"))
	}
}

// TestBreakerHalfOpenCloses: after the recovery timeout a probe goes
// through; its success closes the breaker.
func TestBreakerHalfOpenCloses(t *testing.T, f EngineFactory) {
	e, clock := engine(t, f, breakerConfig())
	calls := NewCalls()
	job := Job{FailFirst: 2, Calls: calls}
	for range 2 {
		run(t, e, BreakerFlaky, job)
	}
	clock.Advance(29 * time.Second)
	if _, err := run(t, e, BreakerFlaky, job); !isOpen(err) {
		t.Fatalf("before recovery: %v, want open", err)
	}
	clock.Advance(time.Second)
	if _, err := run(t, e, BreakerFlaky, job); err != nil {
		t.Fatalf("probe: %v, want success", err)
	}
	job.FailFirst = 4 // call 4 fails, call 5 succeeds: a closed breaker lets both through
	if _, err := run(t, e, BreakerFlaky, job); err == nil || isOpen(err) {
		t.Fatalf("after close: %v, want the step's own failure", err)
	}
	if _, err := run(t, e, BreakerFlaky, job); err != nil {
		t.Errorf("one failure must not reopen a closed breaker (threshold 2): %v", err)
	}
}

// TestBreakerHalfOpenReopens: a failed probe opens the breaker again for a
// full recovery timeout.
func TestBreakerHalfOpenReopens(t *testing.T, f EngineFactory) {
	e, clock := engine(t, f, breakerConfig())
	calls := NewCalls()
	for range 2 {
		run(t, e, BreakerFail, Job{Calls: calls})
	}
	clock.Advance(30 * time.Second)
	if _, err := run(t, e, BreakerFail, Job{Calls: calls}); err == nil || isOpen(err) || calls.Count("fail") != 3 {
		t.Fatalf("probe: %v calls %d, want the probe to run and fail", err, calls.Count("fail"))
	}
	clock.Advance(29 * time.Second)
	if _, err := run(t, e, BreakerFail, Job{Calls: calls}); !isOpen(err) {
		t.Errorf("after a failed probe: %v, want open", err)
	}
}

func isOpen(err error) bool {
	var co *flujo.CircuitOpenError
	return errors.As(err, &co)
}
