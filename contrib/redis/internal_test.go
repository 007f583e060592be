package redis

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/flujo/flujo/contrib/redis/redistest"
	"github.com/flujo/flujo/runtime"
)

func testStore(t *testing.T, srv *redistest.Server) *Store {
	cfg := runtime.DefaultDistributedConfig()
	cfg.Address = srv.Addr
	cfg.KeyPrefix = "internal:" + t.Name() + ":"
	cfg.CommandTimeoutMs = 250
	s, err := New(context.Background(), cfg, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestCommitAppliedOnce: a commit sent again (its answer lost, say) is not
// charged twice.
func TestCommitAppliedOnce(t *testing.T) {
	s := testStore(t, redistest.Start(t))
	ctx := context.Background()
	budget := runtime.SharedBudget{Name: "once", TokenLimit: 10}
	r, ok, err := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 5})
	if !ok || err != nil {
		t.Fatalf("Reserve: %v, %v", ok, err)
	}
	for i := 0; i < 3; i++ {
		r.(*reservation).done.Store(false) // as if the answer had been lost
		if err := r.Commit(ctx, runtime.Usage{PromptTokens: 4}); err != nil {
			t.Fatalf("Commit %d: %v", i, err)
		}
	}
	// 4 spent, not 12: 6 more fit, 7 do not.
	if _, ok, _ := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 7}); ok {
		t.Fatal("7 admitted: the commit was charged more than once")
	}
	if _, ok, _ := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 6}); !ok {
		t.Fatal("6 refused with 4 spent of 10")
	}
}

func TestTransitionMessage(t *testing.T) {
	until := time.UnixMilli(1_700_000_000_123)
	for _, tr := range []runtime.BreakerTransition{
		{Key: "pipeline/step with spaces", State: runtime.BreakerOpen, Until: until},
		{Key: "p/s", State: runtime.BreakerClosed},
		{Key: "p/s", State: runtime.BreakerHalfOpen},
	} {
		u := "0"
		if tr.State == runtime.BreakerOpen {
			u = "1700000000123"
		}
		id, got, ok := decodeTransition(encodeTransition("abc", tr.State, u, tr.Key))
		if !ok || id != "abc" || got.Key != tr.Key || got.State != tr.State || !got.Until.Equal(tr.Until) {
			t.Errorf("round trip of %+v: %q, %+v, %v", tr, id, got, ok)
		}
	}
	for _, bad := range []string{"", "2 abc 1 0 k", "1 abc 9 0 k", "1 abc x 0 k", "1 abc 1 y k", "1 abc 1 0"} {
		if _, _, ok := decodeTransition(bad); ok {
			t.Errorf("decodeTransition(%q) accepted", bad)
		}
	}
}

func TestCallsAfterClose(t *testing.T) {
	s := testStore(t, redistest.Start(t))
	stop := s.Shared().Breakers.Subscribe(func(runtime.BreakerTransition) {})
	s.Close()
	stop()
	s.Close() // twice is fine
	if _, _, _, err := s.Shared().Cache.Get(context.Background(), "k"); err != ErrClosed {
		t.Fatalf("Get after Close: %v, want ErrClosed", err)
	}
	s.Shared().Breakers.Publish(runtime.BreakerTransition{Key: "k", State: runtime.BreakerClosed}) // does not block
	s.Shared().Breakers.Subscribe(func(runtime.BreakerTransition) {})()
}
