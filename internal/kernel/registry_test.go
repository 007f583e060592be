package kernel

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flujo/flujo/runtime"
)

// TestPartsRegisterSteps: registered steps get their slot, counters, the
// default breaker rule and, with enable_circuit_breaker, a breaker of the
// configuration's settings unless they have their own; ImportConfig renews
// the breakers whose settings it changes and keeps the others as they are.
func TestPartsRegisterSteps(t *testing.T) {
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableCircuitBreaker = true
	cfg.CircuitBreakerFailureThreshold = 4
	counts := func(error) bool { return true }
	p := NewParts(cfg, Deps{Clock: runtime.NewFakeClock(0), Sink: &runtime.MemorySink{}, Name: "TestExecutor"}, counts)
	a := Step[int, int]{Leaf: &Leaf[int, int]{Name: "a", Pure: func(i int) int { return i }}, Core: Core{Attempts: 1}}
	b := Step[int, int]{Leaf: &Leaf[int, int]{Name: "b", Pure: func(i int) int { return i }}, Core: Core{Attempts: 1}}
	b.Breaker = p.Breaker("b", 7, 5*time.Second, OwnThreshold)
	s, err := p.Services(Deps{}, nil, &a, &b)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if a.Slot != 0 || b.Slot != 1 || a.Counters == nil || b.Counters == nil || a.Counters == b.Counters {
		t.Errorf("slots %d, %d; counters %p, %p: want 0, 1 and two distinct counters", a.Slot, b.Slot, a.Counters, b.Counters)
	}
	if a.BreakerCounts == nil || a.Breaker == nil || a.Breaker == b.Breaker {
		t.Fatalf("step a: breaker rule %v, breaker %p (b's %p): want the default rule and a breaker of its own", a.BreakerCounts != nil, a.Breaker, b.Breaker)
	}
	if ta, tb := opensAfter(a.Breaker), opensAfter(b.Breaker); ta != 4 || tb != 7 {
		t.Errorf("breakers open after %d, %d failures; want 4 (configuration), 7 (own)", ta, tb)
	}
	if err := s.ImportConfig([]byte(`{"circuit_breaker_failure_threshold": 9}`), "json"); err != nil {
		t.Fatal(err)
	}
	// a's breaker is renewed: closed, with the new threshold. b runs with
	// the settings it had (its own threshold, the configuration's unchanged
	// recovery timeout), so its breaker is kept as it was: open.
	if ta, tb := opensAfter(a.Breaker), opensAfter(b.Breaker); ta != 9 || tb != 0 {
		t.Errorf("after ImportConfig: a opens after %d failures, b after %d; want 9 (renewed), 0 (kept, still open)", ta, tb)
	}
	a.Counters.Successes.Add(2)
	st := s.Stats()
	if got := st.Steps["a"].Execution.Count; got != 2 {
		t.Errorf("stats of a: %d executions, want 2", got)
	}
	if _, ok := st.Steps["b"]; !ok {
		t.Error("stats have no entry for b")
	}
}

// opensAfter returns how many consecutive failures open b.
func opensAfter(b *runtime.Breaker) int {
	for i := 0; i < 100; i++ {
		p := b.Allow()
		if !p.Admitted() {
			return i
		}
		b.RecordFailure(p)
	}
	return -1
}

// TestPartsReportBreakerErrors: an invalid compiled-in breaker setting is
// the error of Services.
func TestPartsReportBreakerErrors(t *testing.T) {
	p := NewParts(runtime.DefaultOptimizationConfig(), Deps{Clock: runtime.NewFakeClock(0)}, func(error) bool { return true })
	a := Step[int, int]{Leaf: &Leaf[int, int]{Name: "a"}, Core: Core{Attempts: 1}}
	a.Breaker = p.Breaker("a", 0, time.Second, OwnThreshold)
	if _, err := p.Services(Deps{}, nil, &a); err == nil || errors.Is(err, ErrClosed) {
		t.Errorf("Services with a breaker threshold of 0: err %v, want the breaker's error", err)
	}
}
