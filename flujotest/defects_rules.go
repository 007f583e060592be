package flujotest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/flujo/flujo"
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

// TestGoexitReleasesPermit: a step that calls runtime.Goexit (as t.Fatal
// does) gives back its concurrency permit. On the caller's goroutine it ends
// that goroutine, as Goexit does, and later runs go on; on a goroutine the
// executor started for it (a Timeout, a Parallel branch, a concurrent Map
// element) it fails the attempt, branch or element with a *GoexitError, and
// the run returns.
func TestGoexitReleasesPermit(t *testing.T, f EngineFactory) {
	cfg := defaults()
	one := 1
	cfg.MaxConcurrentExecutions = &one
	inFlight := func(t *testing.T, e Engine) {
		t.Helper()
		if se, ok := e.(StatsEngine); ok {
			if n := se.OptimizationStats().Concurrency.Level; n != 0 {
				t.Fatalf("%d concurrency permits still held after the runs ended", n)
			}
		}
	}
	t.Run("caller goroutine", func(t *testing.T) {
		e, _ := engine(t, f, cfg)
		calls := NewCalls()
		for range 2 {
			returned := false
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = e.Execute(context.Background(), GoexitStep, Job{Name: "exit", Calls: calls})
				returned = true
			}()
			<-done
			if returned {
				t.Fatal("Execute returned from a step that called runtime.Goexit on its goroutine")
			}
			inFlight(t, e)
		}
		if res, err := run(t, e, GoexitStep, Job{Name: "stay", Calls: calls}); err != nil || !res.Success || calls.Count("exit") != 3 {
			t.Errorf("run after two Goexits: err %v, %d calls; want success, 3 calls", err, calls.Count("exit"))
		}
	})
	for _, tc := range []struct {
		name string
		node flujo.Node
		in   any
		// failed is the result that fails with the *GoexitError.
		failed func(res *flujo.PipelineResult) flujo.StepResult
	}{
		{"timeout", GoexitTimed, Job{Name: "exit", Calls: NewCalls()}, func(res *flujo.PipelineResult) flujo.StepResult { return res.Steps[0] }},
		{"parallel", GoexitParallel, Job{Name: "exit", Calls: NewCalls()}, firstFailedChild},
		{"map", GoexitMap, []Job{{Name: "a", Calls: NewCalls()}, {Name: "exit", Calls: NewCalls()}, {Name: "b", Calls: NewCalls()}}, goexitChild},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := engine(t, f, cfg)
			for range 2 {
				res, err := run(t, e, tc.node, tc.in)
				inFlight(t, e)
				var ge *flujo.GoexitError
				if res.Success || !errors.As(err, &ge) || ge.Node != "exit" {
					t.Fatalf("success %v err %v; want a failed run with a *GoexitError of \"exit\"", res.Success, err)
				}
				if s := tc.failed(res); s.Success || !errors.As(s.Err, &ge) || s.Name != "exit" {
					t.Errorf("result %q: success %v err %v; want failed with a *GoexitError", s.Name, s.Success, s.Err)
				}
			}
			inFlight(t, e)
		})
	}
}

// firstFailedChild returns the first failed result among the children of
// res's only step, or that step when none failed.
func firstFailedChild(res *flujo.PipelineResult) flujo.StepResult {
	top := res.Steps[0]
	for _, s := range top.Steps {
		if !s.Success {
			return s
		}
	}
	return top
}

// goexitChild returns the child that failed with a *GoexitError: in a
// concurrent Map, a sibling that the failure cancelled before it began may
// come first, failed with the cancellation.
func goexitChild(res *flujo.PipelineResult) flujo.StepResult {
	top := res.Steps[0]
	var ge *flujo.GoexitError
	for _, s := range top.Steps {
		if !s.Success && errors.As(s.Err, &ge) {
			return s
		}
	}
	return top
}
