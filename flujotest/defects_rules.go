package flujotest

import (
	"reflect"
	"testing"

	"github.com/flujo/flujo/runtime"
)

// StatsEngine is an Engine that reports its live counters, as
// OptimizationStats does. Rules that read counters skip other engines.
type StatsEngine interface {
	Engine
	OptimizationStats() runtime.Stats
}

// TestCachedFallbackResultIsCached: a cached step rescued by its fallback
// caches the fallback's output under the step's key. The next run on an
// equal input is a hit like any other (CacheHit, no attempt, no fallback
// triggered, no original error), and neither the step nor its fallback runs.
func TestCachedFallbackResultIsCached(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, cached())
	calls := NewCalls()
	first, err := run(t, e, CachedTagsWithFallback, Job{Name: "x", FailFirst: 1, Calls: calls})
	s1 := only(t, first)
	if err != nil || !s1.Success || !s1.FallbackTriggered || s1.CacheHit {
		t.Fatalf("first run: err %v success %v fallback %v hit %v; want rescued by the fallback", err, s1.Success, s1.FallbackTriggered, s1.CacheHit)
	}
	second, err := run(t, e, CachedTagsWithFallback, Job{Name: "x", FailFirst: 1, Calls: calls})
	s2 := only(t, second)
	if err != nil || !s2.Success || !s2.CacheHit || s2.FallbackTriggered || s2.OriginalError != nil || s2.Attempts != 0 || len(s2.Steps) != 0 {
		t.Errorf("second run: err %v success %v hit %v fallback %v original %v attempts %d steps %d; want a plain hit",
			err, s2.Success, s2.CacheHit, s2.FallbackTriggered, s2.OriginalError, s2.Attempts, len(s2.Steps))
	}
	if want := []string{"x", "spare"}; !reflect.DeepEqual(s2.Output, want) || !reflect.DeepEqual(second.Output, want) {
		t.Errorf("second run output %v, want the fallback's %v", s2.Output, want)
	}
	if calls.Count("tags") != 1 || calls.Count("spare") != 1 {
		t.Errorf("calls: tags %d spare %d; want 1 each", calls.Count("tags"), calls.Count("spare"))
	}
}

// TestErrorPatternsIgnoreStacks: the error classifier keys a panic on its
// type and message, not on the stack it carries, so the same panic raised at
// different depths (or through different entry points) is one pattern.
func TestErrorPatternsIgnoreStacks(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	se, ok := e.(StatsEngine)
	if !ok {
		t.Skip("the engine reports no counters")
	}
	for _, name := range []string{"top", "deep", "top", "deep"} {
		if res, err := run(t, e, PanicAtTwoDepths, Job{Name: name, Calls: NewCalls()}); err == nil || res.Success {
			t.Fatalf("case %s: err %v; want the panic", name, err)
		}
	}
	if got := se.OptimizationStats().Errors.CachedPatterns; got != 1 {
		t.Errorf("classifier patterns %d; want 1 for one panic seen at two depths", got)
	}
}
