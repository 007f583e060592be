package flujotest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/internal/sharedtest"
	"github.com/flujo/flujo/runtime"
)

// SharedEngineFactory returns a new engine configured by cfg that reads
// time from clock and takes opts besides (flujo.WithShared). It closes the
// engine when the test ends.
type SharedEngineFactory func(t testing.TB, cfg runtime.OptimizationConfig, clock runtime.Clock, opts ...flujo.CoreOption) Engine

// SharedRule is a rule of sharing across replicas: its test builds two
// engines, two replicas of one in-memory store.
type SharedRule struct {
	Name string
	Test func(t *testing.T, newEngine SharedEngineFactory)
}

// SharedRules lists the rules of sharing across replicas, in the order
// docs/semantics.md gives them.
func SharedRules() []SharedRule {
	return []SharedRule{
		{"SharedCacheHitOnOtherReplica", TestSharedCacheHitOnOtherReplica},
		{"SharedBreakerOpensOtherReplica", TestSharedBreakerOpensOtherReplica},
		{"SharedKeyPanicFailsTheStep", TestSharedKeyPanicFailsTheStep},
	}
}

// RunSharedSemantics runs every SharedRule against the engines newEngine
// builds.
func RunSharedSemantics(t *testing.T, newEngine SharedEngineFactory) {
	for _, r := range SharedRules() {
		t.Run(r.Name, func(t *testing.T) { r.Test(t, newEngine) })
	}
}

// replicas returns two engines of cfg sharing one store.
func replicas(t *testing.T, f SharedEngineFactory, cfg runtime.OptimizationConfig) (a, b Engine, store *sharedtest.Store) {
	store = sharedtest.New()
	clock := runtime.NewFakeClock(time.Hour)
	return f(t, cfg, clock, flujo.WithShared(store.Replica())), f(t, cfg, clock, flujo.WithShared(store.Replica())), store
}

// TestSharedCacheHitOnOtherReplica: a result one replica computed is a
// cache hit on another, which does not call the step.
func TestSharedCacheHitOnOtherReplica(t *testing.T, f SharedEngineFactory) {
	a, b, store := replicas(t, f, cached())
	calls := NewCalls()
	first, err := run(t, a, CachedTags, Job{Name: "x", Calls: calls})
	if err != nil || only(t, first).CacheHit {
		t.Fatalf("replica A: %v, hit %v; want a miss", err, only(t, first).CacheHit)
	}
	second, err := run(t, b, CachedTags, Job{Name: "x", Calls: calls})
	if err != nil || !only(t, second).CacheHit {
		t.Fatalf("replica B: %v, hit %v; want a hit of A's result", err, only(t, second).CacheHit)
	}
	if got := second.Output.([]string); !slices.Equal(got, []string{"x", "tagged"}) || calls.Count("tags") != 1 {
		t.Fatalf("B's output %q after %d calls; want A's after 1", got, calls.Count("tags"))
	}
	if n := len(store.Keys()); n != 1 {
		t.Fatalf("%d shared entries; want 1", n)
	}
}

// TestSharedBreakerOpensOtherReplica: a breaker that opens on one replica
// rejects on another.
func TestSharedBreakerOpensOtherReplica(t *testing.T, f SharedEngineFactory) {
	cfg := runtime.DefaultOptimizationConfig()
	cfg.CircuitBreakerFailureThreshold = 2
	cfg.CircuitBreakerRecoveryTimeoutSeconds = 30
	a, b, _ := replicas(t, f, cfg)
	// B runs once, so that it has the breaker; one failure keeps it closed.
	if res, _ := run(t, b, BreakerFail, Job{Calls: NewCalls()}); errors.As(only(t, res).Err, new(*flujo.CircuitOpenError)) {
		t.Fatal("B's breaker is open before A failed")
	}
	for range 2 {
		_, _ = run(t, a, BreakerFail, Job{Calls: NewCalls()})
	}
	// B's own breaker counted one failure: only A's open can open it.
	stats, ok := b.(interface{ OptimizationStats() runtime.Stats })
	if !ok {
		t.Skip("the engine reports no stats")
	}
	deadline := time.Now().Add(5 * time.Second)
	for stats.OptimizationStats().Distributed.BreakerApplied == 0 {
		if time.Now().After(deadline) {
			t.Fatal("B did not hear of A's open within 5s")
		}
		time.Sleep(time.Millisecond)
	}
	res, _ := run(t, b, BreakerFail, Job{Calls: NewCalls()})
	if !errors.As(only(t, res).Err, new(*flujo.CircuitOpenError)) {
		t.Fatalf("B: %v; want the breaker A opened to reject", only(t, res).Err)
	}
}

// TestSharedKeyPanicFailsTheStep: with a shared cache, the input's JSON is
// its shared key; a panic of its own MarshalJSON there fails the step with a
// *flujo.PanicError and no attempt, as one while its local key is computed
// does, and leaves the shared cache usable.
func TestSharedKeyPanicFailsTheStep(t *testing.T, f SharedEngineFactory) {
	a, b, _ := replicas(t, f, cached())
	calls := NewCalls()
	res, err := run(t, a, CachedKeyPanics, Query{Text: "q", JSONPanics: true, Calls: calls})
	var p *flujo.PanicError
	if !errors.As(err, &p) || p.Value != ErrKeyPanicked || p.Step != "answer" || len(p.Stack) == 0 || res.Success {
		t.Fatalf("%v, want the step failed by the shared key's *PanicError", err)
	}
	if calls.Count("answer") != 0 || only(t, res).Attempts != 0 {
		t.Errorf("answer called %d times (%d attempts), want none", calls.Count("answer"), only(t, res).Attempts)
	}
	if _, err := run(t, a, CachedKeyPanics, Query{Text: "q", Calls: calls}); err != nil {
		t.Fatalf("replica A, a keyable input: %v", err)
	}
	if res, err := run(t, b, CachedKeyPanics, Query{Text: "q", Calls: calls}); err != nil || !only(t, res).CacheHit || calls.Count("answer") != 1 {
		t.Errorf("replica B: %v after %d calls; want a hit of A's result", err, calls.Count("answer"))
	}
}
