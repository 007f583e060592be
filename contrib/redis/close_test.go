package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/contrib/redis"
	"github.com/flujo/flujo/contrib/redis/redistest"
	"github.com/flujo/flujo/runtime"
)

// TestCloseSendsTheOpenJustMade opens a breaker and closes its executor and
// store at once, as a replica that exits right after: the open reaches the
// server (Close waits for the transition the send loop is sending), and
// another replica hears of it.
func TestCloseSendsTheOpenJustMade(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	cfg := runtime.DefaultDistributedConfig()
	cfg.Address = srv.Addr
	cfg.KeyPrefix = "close-sends:"
	oc := runtime.DefaultOptimizationConfig()
	oc.CircuitBreakerFailureThreshold = 2
	for round := range 5 {
		s, err := redis.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c, err := flujo.NewExecutorCore(oc, flujo.WithShared(s.Shared()))
		if err != nil {
			t.Fatal(err)
		}
		failing.Store(true)
		for range 2 {
			_, _ = c.Execute(ctx, guarded, "q")
		}
		_ = c.Close(ctx)
		s.Close()

		other, err := redis.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan runtime.BreakerTransition, 1)
		stop := other.Shared().Breakers.Subscribe(func(tr runtime.BreakerTransition) {
			select {
			case got <- tr:
			default:
			}
		})
		select {
		case tr := <-got:
			if tr.Key != "svc-guarded/upstream" || tr.State != runtime.BreakerOpen {
				t.Errorf("round %d: heard %+v; want svc-guarded/upstream open", round, tr)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("round %d: the open made just before Close never reached the server", round)
		}
		stop()
		other.Close()
	}
}

// TestStatsAfterClose: a closed store does not claim health.
func TestStatsAfterClose(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, config(t, srv))
	if !s.Stats().Healthy {
		t.Fatal("not healthy with the server up")
	}
	s.Close()
	if st := s.Stats(); st.Healthy || st.LastError != redis.ErrClosed.Error() {
		t.Fatalf("Stats after Close = %+v; want Healthy false, LastError %q", st, redis.ErrClosed)
	}
}
