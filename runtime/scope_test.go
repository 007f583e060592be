package runtime

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func newTestScopePool(t *testing.T) *ScopePool {
	t.Helper()
	p, err := NewScopePool(8, 1)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// scopeClosedNow reports whether ch is closed, without waiting.
func scopeClosedNow(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestNewScopePoolRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct {
		capacity  int
		threshold float64
	}{{0, 0.5}, {-1, 0.5}, {4, 1.5}, {4, -0.1}} {
		if _, err := NewScopePool(tc.capacity, tc.threshold); err == nil {
			t.Errorf("NewScopePool(%d, %v): no error", tc.capacity, tc.threshold)
		}
	}
}

func TestScopeCancelIsVisible(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, tc := range []struct {
		name      string
		doneFirst bool // call Done before Cancel
	}{{"lazy done", false}, {"done made first", true}} {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestScopePool(t)
			s := p.Get(context.Background())
			if err := ContextErr(s); err != nil {
				t.Fatalf("ContextErr before Cancel = %v", err)
			}
			if tc.doneFirst && scopeClosedNow(s.Done()) {
				t.Fatal("Done closed before Cancel")
			}
			s.Cancel()
			s.Cancel() // a second call changes nothing
			if err := ContextErr(s); !errors.Is(err, context.Canceled) {
				t.Errorf("ContextErr = %v, want context.Canceled", err)
			}
			if err := s.Err(); !errors.Is(err, context.Canceled) {
				t.Errorf("Err = %v, want context.Canceled", err)
			}
			if !scopeClosedNow(s.Done()) {
				t.Error("Done not closed after Cancel")
			}
			if c := context.Cause(s); !errors.Is(c, context.Canceled) {
				t.Errorf("Cause = %v, want context.Canceled", c)
			}
			p.Put(s)
		})
	}
}

func TestScopeParentCancelPropagates(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cause := errors.New("caller gave up")
	for _, tc := range []struct {
		name      string
		doneFirst bool
	}{{"without Done", false}, {"with Done", true}} {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestScopePool(t)
			parent, cancel := context.WithCancelCause(context.Background())
			s := p.Get(parent)
			var done <-chan struct{}
			if tc.doneFirst {
				done = s.Done()
			}
			if err := ContextErr(s); err != nil {
				t.Fatalf("ContextErr before the parent's cancel = %v", err)
			}
			cancel(cause)
			if err := ContextErr(s); !errors.Is(err, context.Canceled) {
				t.Errorf("ContextErr = %v, want context.Canceled", err)
			}
			if err := s.Err(); !errors.Is(err, context.Canceled) {
				t.Errorf("Err = %v, want context.Canceled", err)
			}
			if done == nil {
				done = s.Done()
			}
			<-done // closed by the parent: a hang fails the test by its timeout
			if c := context.Cause(s); c != cause {
				t.Errorf("Cause = %v, want the parent's cause %v", c, cause)
			}
			// Cancelling afterwards keeps the parent's error.
			s.Cancel()
			if err := s.Err(); !errors.Is(err, context.Canceled) {
				t.Errorf("Err after Cancel = %v, want context.Canceled", err)
			}
			p.Put(s)
		})
	}
}

func TestScopeKeepsParentErrorWhenParentWasFirst(t *testing.T) {
	p := newTestScopePool(t)
	parent, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	s := p.Get(parent)
	s.Cancel()
	for name, err := range map[string]error{"ContextErr": ContextErr(s), "Err": s.Err()} {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s = %v, want the parent's context.DeadlineExceeded", name, err)
		}
	}
	<-s.Done()
	if c := context.Cause(s); !errors.Is(c, context.DeadlineExceeded) {
		t.Errorf("Cause = %v, want context.DeadlineExceeded", c)
	}
	p.Put(s)
}

func TestScopeErrIsStableOnceSet(t *testing.T) {
	p := newTestScopePool(t)
	parent, cancel := context.WithCancelCause(context.Background())
	s := p.Get(parent)
	s.Cancel()
	cancel(errors.New("later"))
	if err := s.Err(); err != context.Canceled {
		t.Errorf("Err = %v, want the scope's own context.Canceled", err)
	}
	if c := context.Cause(s); c != context.Canceled {
		t.Errorf("Cause = %v, want context.Canceled", c)
	}
	p.Put(s)
}

type scopeKey struct{}

func TestScopeDelegatesValueAndDeadline(t *testing.T) {
	p := newTestScopePool(t)
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), scopeKey{}, "v"), deadline)
	defer cancel()
	s := p.Get(parent)
	if got := s.Value(scopeKey{}); got != "v" {
		t.Errorf("Value = %v, want v", got)
	}
	if d, ok := s.Deadline(); !ok || !d.Equal(deadline) {
		t.Errorf("Deadline = %v, %v; want %v, true", d, ok, deadline)
	}
	s.Cancel()
	if got := s.Value(scopeKey{}); got != "v" {
		t.Errorf("Value after Cancel = %v, want v", got)
	}
	p.Put(s)
	bg := p.Get(context.Background())
	if d, ok := bg.Deadline(); ok || !d.IsZero() {
		t.Errorf("Deadline under Background = %v, %v; want none", d, ok)
	}
	p.Put(bg)
}

func TestScopeAfterFuncAndDerivedContexts(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := newTestScopePool(t)
	s := p.Get(context.Background())
	ran := make(chan struct{})
	context.AfterFunc(s, func() { close(ran) })
	stopped := false
	stop := context.AfterFunc(s, func() { stopped = true })
	if !stop() {
		t.Error("stop of an AfterFunc before Cancel = false, want true")
	}
	child, cancelChild := context.WithCancel(s)
	defer cancelChild()
	timed, cancelTimed := context.WithTimeout(s, time.Hour)
	defer cancelTimed()
	s.Cancel()
	<-ran
	<-child.Done()
	<-timed.Done()
	if !errors.Is(child.Err(), context.Canceled) || !errors.Is(timed.Err(), context.Canceled) {
		t.Errorf("derived errors = %v, %v; want context.Canceled", child.Err(), timed.Err())
	}
	if stopped {
		t.Error("a stopped AfterFunc ran")
	}
	p.Put(s)
}

func TestScopeUnobservedIsReused(t *testing.T) {
	p := newTestScopePool(t)
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := p.Get(parent)
	_ = ContextErr(s)
	if ch := ContextDone(s); scopeClosedNow(ch) {
		t.Fatal("ContextDone closed before Cancel")
	}
	s.Cancel()
	p.Put(s)
	again := p.Get(context.Background())
	if again != s {
		t.Fatal("an unobserved scope was not reused")
	}
	if err := ContextErr(again); err != nil {
		t.Errorf("reused scope: ContextErr = %v, want nil", err)
	}
	if scopeClosedNow(ContextDone(again)) {
		t.Error("reused scope: Done closed")
	}
	p.Put(again)
}

func TestScopeObservedIsNeverReused(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	looks := map[string]func(context.Context){
		"Err":      func(c context.Context) { _ = c.Err() },
		"Done":     func(c context.Context) { _ = c.Done() },
		"Value":    func(c context.Context) { _ = c.Value(scopeKey{}) },
		"Deadline": func(c context.Context) { _, _ = c.Deadline() },
		"WithCancel": func(c context.Context) {
			_, cancel := context.WithCancel(c)
			defer cancel()
		},
	}
	for name, look := range looks {
		t.Run(name, func(t *testing.T) {
			p := newTestScopePool(t)
			s := p.Get(context.Background())
			look(s)
			// A goroutine that keeps the scope past the run.
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-s.Done()
			}()
			p.Put(s)
			wg.Wait()
			for range 2 * p.pool.Capacity() {
				if got := p.Get(context.Background()); got == s {
					t.Fatal("an observed scope was handed out again")
				}
			}
			if err := s.Err(); !errors.Is(err, context.Canceled) {
				t.Errorf("a kept scope: Err = %v, want context.Canceled", err)
			}
		})
	}
}

func TestScopeLookedAtWhileIdle(t *testing.T) {
	p := newTestScopePool(t)
	s := p.Get(context.WithValue(context.Background(), scopeKey{}, "v"))
	p.Put(s)
	// A holder that never looked during the run looks now.
	if err := s.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("idle Err = %v, want context.Canceled", err)
	}
	if !scopeClosedNow(s.Done()) {
		t.Error("idle Done not closed")
	}
	if v := s.Value(scopeKey{}); v != nil {
		t.Errorf("idle Value = %v, want nil", v)
	}
	if got := p.Get(context.Background()); got == s {
		t.Fatal("a scope looked at while idle was handed out again")
	}
	if err := s.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err after the next Get = %v, want context.Canceled", err)
	}
}

func TestScopeNested(t *testing.T) {
	p := newTestScopePool(t)
	outer := p.Get(context.Background())
	inner := p.Get(outer)
	if err := ContextErr(inner); err != nil {
		t.Fatalf("ContextErr = %v before any cancel", err)
	}
	outer.Cancel()
	if err := ContextErr(inner); !errors.Is(err, context.Canceled) {
		t.Errorf("inner ContextErr = %v after the outer's Cancel, want context.Canceled", err)
	}
	p.Put(inner)
	p.Put(outer)
	// Neither was looked at: both come back.
	a, b := p.Get(context.Background()), p.Get(context.Background())
	if (a != outer && a != inner) || (b != outer && b != inner) {
		t.Fatal("unobserved nested scopes were not reused")
	}
	p.Put(a)
	p.Put(b)

	// A look at the inner scope reads through to the outer one, so the
	// outer one is not reused either.
	outer = p.Get(context.Background())
	inner = p.Get(outer)
	_ = inner.Err()
	p.Put(inner)
	p.Put(outer)
	for range 2 * p.pool.Capacity() {
		if got := p.Get(context.Background()); got == outer || got == inner {
			t.Fatal("a scope seen through a nested scope was handed out again")
		}
	}
}

func TestScopeAbandonKeepsAncestorsOutOfReuse(t *testing.T) {
	p := newTestScopePool(t)
	grand := p.Get(context.WithValue(context.Background(), scopeKey{}, "v"))
	outer := p.Get(grand)
	inner := p.Get(outer)
	// The run of outer returns while a goroutine still holds inner.
	outer.Abandon()
	p.Put(grand)
	for range 2 * p.pool.Capacity() {
		if got := p.Get(context.Background()); got == grand || got == outer {
			t.Fatal("a scope reachable from an abandoned one was handed out again")
		}
	}
	if err := inner.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("inner Err = %v, want context.Canceled", err)
	}
	if v := inner.Value(scopeKey{}); v != "v" {
		t.Errorf("inner Value = %v, want the value of its own run", v)
	}
	p.Put(inner)
}

func TestScopeConcurrentCancelAndLooks(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := newTestScopePool(t)
	for range 50 {
		parent, cancel := context.WithCancel(context.Background())
		s := p.Get(parent)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch g % 4 {
				case 0:
					s.Cancel()
				case 1:
					<-s.Done()
				case 2:
					for s.Err() == nil {
						<-s.Done()
					}
				case 3:
					if g == 3 {
						cancel()
					}
					for ContextErr(s) == nil {
						<-s.Done()
					}
				}
			}()
		}
		wg.Wait()
		if err := s.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Err = %v, want context.Canceled", err)
		}
		p.Put(s)
		cancel()
	}
}

func TestScopeZeroAllocs(t *testing.T) {
	p := newTestScopePool(t)
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, tc := range []struct {
		name   string
		parent context.Context
	}{{"background", context.Background()}, {"cancellable parent", cancellable}} {
		t.Run(tc.name, func(t *testing.T) {
			p.Put(p.Get(tc.parent))
			allocs := testing.AllocsPerRun(100, func() {
				s := p.Get(tc.parent)
				if ContextErr(s) != nil {
					t.Fatal("scope cancelled at Get")
				}
				s.Cancel()
				if ContextErr(s) == nil {
					t.Fatal("scope not cancelled by Cancel")
				}
				p.Put(s)
			})
			if allocs != 0 {
				t.Errorf("Get+ContextErr+Cancel+Put = %v allocs per run, want 0", allocs)
			}
		})
	}
}

func BenchmarkScope(b *testing.B) {
	p, err := NewScopePool(64, 1)
	if err != nil {
		b.Fatal(err)
	}
	parent := context.Background()
	b.Run("scope", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := p.Get(parent)
			_ = ContextErr(s)
			s.Cancel()
			p.Put(s)
		}
	})
	b.Run("context.WithCancel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, cancel := context.WithCancel(parent)
			_ = c.Err()
			cancel()
		}
	})
}
