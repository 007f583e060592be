package redis_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/contrib/redis"
	"github.com/flujo/flujo/contrib/redis/redistest"
	"github.com/flujo/flujo/runtime"
)

// failFast is how long a call may take when the server is down or asleep:
// the command timeout plus room for a loaded machine. The faults below
// last far longer, so a call that waited for the server would show.
const failFast = commandTimeout + 750*time.Millisecond

// TestKillAndRestart: with the server killed mid-use, calls fail fast and
// are counted as degraded; restarted on the same port, the same Store
// shares again, breaker messages included.
func TestKillAndRestart(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	a, b := newStore(t, cfg), newStore(t, cfg)
	onB := collect(t, b)
	ctx := context.Background()
	cache := a.Shared().Cache
	if err := cache.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	before := a.Stats()
	for i := 0; i < 50; i++ {
		start := time.Now()
		_, _, ok, err := cache.Get(ctx, "k")
		if d := time.Since(start); d > failFast {
			t.Fatalf("Get %d with the server down took %v", i, d)
		}
		if ok || err == nil {
			t.Fatalf("Get %d with the server down: ok %v, err %v; want an error", i, ok, err)
		}
		_, ok, err = a.Shared().Budgets.Reserve(ctx, runtime.SharedBudget{Name: "b", TokenLimit: 1}, runtime.Usage{PromptTokens: 1})
		if ok || err == nil {
			t.Fatalf("Reserve %d with the server down: ok %v, err %v; want an error", i, ok, err)
		}
	}
	st := a.Stats()
	if st.Healthy || st.Degraded-before.Degraded != 100 || st.Calls-before.Calls != 100 || st.LastError == "" {
		t.Fatalf("stats with the server down: %+v (before %+v); want 100 more calls, all degraded, unhealthy, a last error", st, before)
	}
	t.Logf("last error: %s", st.LastError)
	_, _, _, err := cache.Get(ctx, "k")
	if !errors.Is(err, redis.ErrDegraded) {
		t.Errorf("Get while unhealthy: %v; want ErrDegraded", err)
	}

	srv.Restart()
	took := eventually(t, 10*time.Second, "Set after the restart", func() bool {
		return cache.Set(ctx, "k2", []byte("v2"), time.Minute) == nil
	})
	t.Logf("sharing resumed %v after the restart", took)
	// B's own probe finds the server again within its probe interval.
	eventually(t, 10*time.Second, "Get on B after the restart", func() bool {
		got, _, ok, err := b.Shared().Cache.Get(ctx, "k2")
		return string(got) == "v2" && ok && err == nil
	})
	if !a.Stats().Healthy {
		t.Error("A unhealthy after sharing resumed")
	}
	// B subscribes again by itself.
	eventually(t, 10*time.Second, "B hears A after the restart", func() bool {
		a.Shared().Breakers.Publish(runtime.BreakerTransition{Key: "p/s", State: runtime.BreakerHalfOpen})
		select {
		case tr := <-onB.ch:
			return tr.Key == "p/s"
		case <-time.After(100 * time.Millisecond):
			return false
		}
	})
}

// TestDownAtStart: New succeeds with the server down; the store serves
// degraded and connects when the server comes up.
func TestDownAtStart(t *testing.T) {
	srv := redistest.Start(t)
	srv.Stop()
	cfg := config(t, srv)
	s := newStore(t, cfg)
	onS := collect(t, s)
	ctx := context.Background()
	if st := s.Stats(); st.Healthy || st.LastError == "" {
		t.Fatalf("stats with the server down at start: %+v; want unhealthy with a last error", st)
	}
	if _, _, _, err := s.Shared().Cache.Get(ctx, "k"); !errors.Is(err, redis.ErrDegraded) {
		t.Fatalf("Get: %v, want ErrDegraded", err)
	}
	srv.Restart()
	eventually(t, 10*time.Second, "healthy after the server came up", func() bool { return s.Stats().Healthy })
	if err := s.Shared().Cache.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Set: %v", err)
	}
	// The subscription started before the client existed works too.
	other := newStore(t, cfg)
	eventually(t, 10*time.Second, "transition heard", func() bool {
		other.Shared().Breakers.Publish(runtime.BreakerTransition{Key: "p/x", State: runtime.BreakerHalfOpen})
		select {
		case <-onS.ch:
			return true
		case <-time.After(100 * time.Millisecond):
			return false
		}
	})
}

// TestSlowServer: while the server sleeps (DEBUG SLEEP), calls return
// within about the command timeout, then the store recovers.
func TestSlowServer(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, config(t, srv))
	cache := s.Shared().Cache
	ctx := context.Background()
	if err := cache.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	const sleep = 3 * time.Second
	srv.Sleep(sleep)
	time.Sleep(50 * time.Millisecond) // the server is asleep
	asleep := time.Now()
	var slowest time.Duration
	for i := 0; i < 20; i++ {
		start := time.Now()
		_, _, ok, err := cache.Get(ctx, "k")
		d := time.Since(start)
		slowest = max(slowest, d)
		if d > failFast {
			t.Fatalf("Get %d with the server asleep took %v", i, d)
		}
		if ok || err == nil {
			t.Fatalf("Get %d with the server asleep: ok %v, err %v; want an error", i, ok, err)
		}
	}
	t.Logf("slowest call while asleep: %v (command timeout %v)", slowest, commandTimeout)
	if time.Since(asleep) > sleep {
		t.Fatal("the calls took longer than the sleep: they waited for the server")
	}
	if st := s.Stats(); st.Healthy || st.Degraded != 20 {
		t.Fatalf("stats while asleep: %+v; want 20 degraded", st)
	}
	eventually(t, 10*time.Second, "served after the sleep", func() bool {
		got, _, ok, err := cache.Get(ctx, "k")
		return err == nil && ok && string(got) == "v"
	})
}

// TestSlowServerUnderExecutor: an executor bounds each call to the store
// with a context of the command timeout, as the store does, created a
// moment earlier. While the server sleeps, a call that such a deadline ends
// still marks the store unhealthy, so the calls after it fail at once
// instead of each waiting the whole timeout; a caller that gives a call
// far less than the timeout gave up on its own.
func TestSlowServerUnderExecutor(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	cfg.Breaker = false // no background call finds the server slow first
	s := newStore(t, cfg)
	cache := s.Shared().Cache
	get := func(within time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		_, _, _, err := cache.Get(ctx, "k")
		return err
	}
	srv.Sleep(time.Second)
	time.Sleep(50 * time.Millisecond) // the server is asleep
	if err := get(commandTimeout / 5); err == nil || !s.Stats().Healthy {
		t.Fatalf("a call the caller gave a fifth of the timeout: %v, stats %+v; want an error, the store still healthy", err, s.Stats())
	}
	if err := get(commandTimeout * 3 / 4); err == nil || s.Stats().Healthy {
		t.Fatalf("a call given most of the timeout: %v, stats %+v; want an error, the store unhealthy", err, s.Stats())
	}
	eventually(t, 5*time.Second, "healthy after the sleep", func() bool { return s.Stats().Healthy })

	ocfg := runtime.DefaultOptimizationConfig()
	ocfg.EnableCacheOptimization = true
	core, err := flujo.NewExecutorCore(ocfg, flujo.WithShared(s.Shared()))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(context.Background())
	step := flujo.Pipeline("slow", flujo.Step("echo", func(_ context.Context, q string) (string, error) { return q, nil }, flujo.Cache()))
	srv.Sleep(3 * time.Second)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	const runs = 10
	for i := range runs {
		if _, err := core.Execute(context.Background(), step, strconv.Itoa(i)); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if st := s.Stats(); st.Healthy {
			t.Fatalf("after run %d with the server asleep the store is healthy: %+v", i, st)
		}
	}
	t.Logf("%d runs with the server asleep took %v (command timeout %v)", runs, time.Since(start), commandTimeout)
}

// TestCommitSentAgain: a budget commit that does not reach the server
// (down or asleep when the run ends) is sent again when it answers, and
// at Close: the hold is released and what the run spent is charged, not
// held until the lease ends and then forgotten.
func TestCommitSentAgain(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	raw := rawClient(t, srv)
	ctx := context.Background()
	totals := func(name string) map[string]string {
		m, err := raw.Do(ctx, raw.B().Hgetall().Key(cfg.KeyPrefix+"bud:{"+name+":0}").Build()).AsStrMap()
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"held": m["ht"], "spent": m["st"]}
	}
	reserve := func(s *redis.Store, name string) runtime.Reservation {
		r, ok, err := s.Shared().Budgets.Reserve(ctx, runtime.SharedBudget{Name: name, TokenLimit: 100}, runtime.Usage{PromptTokens: 10})
		if !ok || err != nil {
			t.Fatalf("Reserve: %v, %v", ok, err)
		}
		return r
	}

	// The server sleeps through the commit; the store sends it again.
	s := newStore(t, cfg)
	r := reserve(s, "asleep")
	srv.Sleep(time.Second)
	time.Sleep(50 * time.Millisecond)
	if err := r.Commit(ctx, runtime.Usage{PromptTokens: 7}); err == nil {
		t.Fatal("Commit with the server asleep: no error")
	}
	eventually(t, 10*time.Second, "the commit sent again", func() bool {
		got := totals("asleep")
		return got["held"] == "0" && got["spent"] == "7"
	})
	if err := r.Commit(ctx, runtime.Usage{PromptTokens: 7}); err == nil {
		t.Error("Commit after the commit was sent again: no error; want the reservation committed once")
	}

	// The replica stops right after a commit the server, asleep, did not
	// answer: Close waits for the server (its dial timeout) and sends it.
	s2, err := redis.New(ctx, cfg, quiet, redis.WithProbeInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r = reserve(s2, "closing")
	srv.Sleep(600 * time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	if err := r.Commit(ctx, runtime.Usage{PromptTokens: 3}); err == nil {
		t.Fatal("Commit with the server asleep: no error")
	}
	s2.Close()
	if got := totals("closing"); got["held"] != "0" || got["spent"] != "3" {
		t.Fatalf("after Close: %v; want the hold released and the spend charged", got)
	}
}

// TestReserveUnansweredReleased: a reservation whose answer comes too late
// (the server asleep) may have been made all the same; the store releases
// it in the background instead of holding it until its lease ends.
func TestReserveUnansweredReleased(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	s := newStore(t, cfg)
	ctx := context.Background()
	budget := runtime.SharedBudget{Name: "late", TokenLimit: 10}
	// The server knows the script (EVALSHA finds it).
	if r, ok, err := s.Shared().Budgets.Reserve(ctx, runtime.SharedBudget{Name: "warm", TokenLimit: 1}, runtime.Usage{PromptTokens: 1}); !ok || err != nil || r.Commit(ctx, runtime.Usage{}) != nil {
		t.Fatalf("Reserve: %v, %v", ok, err)
	}
	// Queue the reservation behind a sleep: the server makes it when it
	// wakes, after the command timeout.
	srv.Sleep(time.Second)
	time.Sleep(50 * time.Millisecond)
	if _, ok, err := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 10}); ok || err == nil {
		t.Fatalf("Reserve with the server asleep: %v, %v; want an error", ok, err)
	}
	eventually(t, 10*time.Second, "the whole budget free again", func() bool {
		r, ok, err := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 10})
		if ok && err == nil {
			_ = r.Commit(ctx, runtime.Usage{})
		}
		return ok && err == nil
	})
}
