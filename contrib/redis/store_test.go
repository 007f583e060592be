package redis_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/flujo/flujo/contrib/redis"
	"github.com/flujo/flujo/contrib/redis/redistest"
	"github.com/flujo/flujo/runtime"
)

// commandTimeout is the tests' command timeout: long enough for a loaded
// machine running -race, short beside the faults they cause.
const commandTimeout = 250 * time.Millisecond

var quiet = redis.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

func config(t testing.TB, srv *redistest.Server) runtime.DistributedConfig {
	c := runtime.DefaultDistributedConfig()
	c.Address = srv.Addr
	c.KeyPrefix = "test:" + strings.ReplaceAll(t.Name(), "/", ":") + ":"
	c.CommandTimeoutMs = int(commandTimeout / time.Millisecond)
	return c
}

func newStore(t testing.TB, cfg runtime.DistributedConfig, opts ...redis.Option) *redis.Store {
	t.Helper()
	s, err := redis.New(context.Background(), cfg, append([]redis.Option{quiet}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// rawClient is a client of the test's own, to look at and write keys.
func rawClient(t testing.TB, srv *redistest.Server) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// eventually polls cond every 10 ms until it holds or within passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func TestCacheSharedAcrossStores(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	a, b := newStore(t, cfg).Shared().Cache, newStore(t, cfg).Shared().Cache
	ctx := context.Background()

	if _, _, ok, err := b.Get(ctx, "test:k"); ok || err != nil {
		t.Fatalf("Get before Set: ok %v, err %v; want a miss", ok, err)
	}
	val := []byte("value \x00\xff binary")
	if err := a.Set(ctx, "test:k", val, time.Minute); err != nil {
		t.Fatalf("Set on A: %v", err)
	}
	got, left, ok, err := b.Get(ctx, "test:k")
	if err != nil || !ok || string(got) != string(val) {
		t.Fatalf("Get on B = %q, %v, %v; want %q, true, nil", got, ok, err, val)
	}
	// Get reports the time the entry has left (0: it does not expire).
	if left <= 55*time.Second || left > time.Minute {
		t.Fatalf("Get on B: %v left; want up to the minute it was stored for", left)
	}
	if err := a.Set(ctx, "test:forever", val, 0); err != nil {
		t.Fatal(err)
	}
	if _, left, ok, err := b.Get(ctx, "test:forever"); !ok || err != nil || left != 0 {
		t.Fatalf("Get of an entry without expiry: %v left, %v, %v; want 0, true, nil", left, ok, err)
	}

	// The TTL applies on the server: the entry is gone after it.
	if err := a.Set(ctx, "test:short", val, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	raw := rawClient(t, srv)
	pttl, err := raw.Do(ctx, raw.B().Pttl().Key(cfg.KeyPrefix+"test:short").Build()).AsInt64()
	if err != nil || pttl <= 0 || pttl > 100 {
		t.Fatalf("PTTL = %d, %v; want 1..100 ms", pttl, err)
	}
	eventually(t, 5*time.Second, "entry expired", func() bool {
		_, _, ok, err := b.Get(ctx, "test:short")
		return !ok && err == nil
	})
}

// TestCacheKeyPrefix: entries live behind the store's key_prefix, so that
// services or environments sharing a server never read each other's.
func TestCacheKeyPrefix(t *testing.T) {
	srv := redistest.Start(t)
	prod, staging := config(t, srv), config(t, srv)
	prod.KeyPrefix, staging.KeyPrefix = "shop:prod:", "shop:staging:"
	p, s := newStore(t, prod).Shared().Cache, newStore(t, staging).Shared().Cache
	ctx := context.Background()
	if err := p.Set(ctx, "c:k", []byte("prod"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _, ok, err := s.Get(ctx, "c:k"); ok || err != nil {
		t.Fatalf("staging read %q, %v, %v of prod's entry; want a miss", got, ok, err)
	}
	if err := s.Set(ctx, "c:k", []byte("staging"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _, ok, err := p.Get(ctx, "c:k"); !ok || err != nil || string(got) != "prod" {
		t.Fatalf("prod read %q, %v, %v; want its own entry", got, ok, err)
	}
	raw := rawClient(t, srv)
	keys, err := raw.Do(ctx, raw.B().Keys().Pattern("*").Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if want := []string{"shop:prod:c:k", "shop:staging:c:k"}; !slices.Equal(keys, want) {
		t.Fatalf("keys on the server %q, want %q", keys, want)
	}
}

func TestStatsCountParts(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	cfg.Budgets = false
	s := newStore(t, cfg)
	sh := s.Shared()
	if sh.Cache == nil || sh.Breakers == nil || sh.Budgets != nil || sh.Stats == nil {
		t.Fatalf("Shared with budgets off = %+v; want cache and breakers only", sh)
	}
	ctx := context.Background()
	_ = sh.Cache.Set(ctx, "k", []byte("v"), time.Minute)
	sh.Cache.Get(ctx, "k")
	sh.Cache.Get(ctx, "missing")
	st := sh.Stats()
	want := runtime.StatsShared{Enabled: true, Store: "redis " + srv.Addr, Healthy: true, Calls: 3, CacheHits: 1, CacheMisses: 1}
	if st != want {
		t.Fatalf("Stats = %+v\nwant %+v", st, want)
	}
	if s.String() != want.Store {
		t.Errorf("String = %q, want %q", s.String(), want.Store)
	}
}

func TestFromConfigFile(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	with := filepath.Join(dir, "with.json")
	os.Setenv("FLUJO_TEST_REDIS", srv.Addr)
	t.Cleanup(func() { os.Unsetenv("FLUJO_TEST_REDIS") })
	if err := os.WriteFile(with, []byte(`{"distributed": {"address_env": "FLUJO_TEST_REDIS", "key_prefix": "file:", "cache": false}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := redis.FromConfigFile(context.Background(), with, quiet)
	if err != nil {
		t.Fatalf("FromConfigFile: %v", err)
	}
	defer s.Close()
	if sh := s.Shared(); sh.Cache != nil || sh.Breakers == nil || sh.Budgets == nil || !sh.Stats().Healthy {
		t.Fatalf("Shared = %+v, stats %+v; want breakers and budgets, healthy", sh, sh.Stats())
	}

	without := filepath.Join(dir, "without.json")
	if err := os.WriteFile(without, []byte(`{"optimization": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := redis.FromConfigFile(context.Background(), without); err == nil || !strings.Contains(err.Error(), `no "distributed" section`) {
		t.Fatalf("FromConfigFile without the section: %v; want an error naming it", err)
	}
	if _, err := redis.FromConfigFile(context.Background(), filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("FromConfigFile of a missing file: no error")
	}
}

func TestPasswordNeverShown(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	// The server has no password: authenticating fails, and the error is
	// kept as the last error.
	cfg.Address = "redis://app:s3cr%40t-pw@" + srv.Addr
	s := newStore(t, cfg)
	st := s.Stats()
	if st.Healthy {
		t.Fatal("healthy although authentication must fail")
	}
	for _, shown := range []string{st.Store, st.LastError, s.String()} {
		if strings.Contains(shown, "s3cr") {
			t.Errorf("password shown: %q", shown)
		}
	}
	if want := "redis redis://app:xxxxx@" + srv.Addr; st.Store != want {
		t.Errorf("Store = %q, want %q", st.Store, want)
	}
	_, _, _, err := s.Shared().Cache.Get(context.Background(), "k")
	if !errors.Is(err, redis.ErrDegraded) {
		t.Fatalf("Get on an unauthenticated store: %v, want ErrDegraded", err)
	}

	cfg.Address = "redis://app:s3cr%zz@" + srv.Addr // not a URL
	if _, err := redis.New(context.Background(), cfg); err == nil || strings.Contains(err.Error(), "s3cr") {
		t.Fatalf("New with a bad URL: %v; want an error without the password", err)
	}
}

func TestBreakerTransitionsShared(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	a, b := newStore(t, cfg), newStore(t, cfg)
	onA, onB := collect(t, a), collect(t, b)

	until := time.Now().Add(time.Minute).Truncate(time.Millisecond)
	start := time.Now()
	a.Shared().Breakers.Publish(runtime.BreakerTransition{Key: "p/charge card", State: runtime.BreakerOpen, Until: until})
	got := onB.next(t, time.Second)
	t.Logf("open applied on B after %v", time.Since(start))
	want := runtime.BreakerTransition{Key: "p/charge card", State: runtime.BreakerOpen, Until: until}
	if !got.Until.Equal(want.Until) || got.Key != want.Key || got.State != want.State {
		t.Fatalf("B applied %+v, want %+v", got, want)
	}
	a.Shared().Breakers.Publish(runtime.BreakerTransition{Key: "p/charge card", State: runtime.BreakerClosed})
	if got := onB.next(t, time.Second); got.State != runtime.BreakerClosed || got.Key != "p/charge card" {
		t.Fatalf("B applied %+v, want the close", got)
	}
	// A hears nothing of its own transitions, even at read-back.
	time.Sleep(2 * cfg.ReconcileInterval())
	onA.none(t)
	onB.none(t) // and B applies each open period once
	if st := a.Stats(); st.BreakerPublished != 2 {
		t.Errorf("A published %d, want 2", st.BreakerPublished)
	}
	if st := b.Stats(); st.BreakerApplied != 2 {
		t.Errorf("B applied %d, want 2", st.BreakerApplied)
	}
}

// TestBreakerReadBack: an open breaker recorded without a message (a lost
// one) still reaches every replica at read-back, and a replica that starts
// later learns of it at once.
func TestBreakerReadBack(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	b := newStore(t, cfg)
	onB := collect(t, b)
	time.Sleep(100 * time.Millisecond) // B has read back once

	until := time.Now().Add(time.Minute).UnixMilli()
	raw := rawClient(t, srv)
	if err := raw.Do(context.Background(), raw.B().Zadd().Key(cfg.KeyPrefix+"brk:open").ScoreMember().ScoreMember(float64(until), "p/lost").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got := onB.next(t, time.Second)
	t.Logf("read back on B after %v (interval %v)", time.Since(start), cfg.ReconcileInterval())
	if got.Key != "p/lost" || got.State != runtime.BreakerOpen || got.Until.UnixMilli() != until {
		t.Fatalf("B applied %+v, want p/lost open until %d", got, until)
	}
	onB.none(t)

	c := newStore(t, cfg)
	if got := collect(t, c).next(t, time.Second); got.Key != "p/lost" {
		t.Fatalf("late replica applied %+v, want p/lost", got)
	}
}

// TestBreakerCloseKeepsLaterOpen: a replica's close removes from brk:open
// the open it wrote, never one that another replica wrote since.
func TestBreakerCloseKeepsLaterOpen(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	a, b := newStore(t, cfg), newStore(t, cfg)
	raw, ctx := rawClient(t, srv), context.Background()
	recorded := func() (until int64, ok bool) {
		f, err := raw.Do(ctx, raw.B().Zscore().Key(cfg.KeyPrefix+"brk:open").Member("p/s").Build()).AsFloat64()
		if rueidis.IsRedisNil(err) {
			return 0, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return int64(f), true
	}
	publish := func(s *redis.Store, tr runtime.BreakerTransition) {
		n := s.Stats().BreakerPublished
		s.Shared().Breakers.Publish(tr)
		eventually(t, 2*time.Second, "transition sent", func() bool { return s.Stats().BreakerPublished == n+1 })
	}
	now := time.Now()
	untilA, untilB := now.Add(time.Minute), now.Add(2*time.Minute)
	publish(a, runtime.BreakerTransition{Key: "p/s", State: runtime.BreakerOpen, Until: untilA})
	publish(b, runtime.BreakerTransition{Key: "p/s", State: runtime.BreakerOpen, Until: untilB})
	publish(a, runtime.BreakerTransition{Key: "p/s", State: runtime.BreakerClosed})
	if got, ok := recorded(); !ok || got != untilB.UnixMilli() {
		t.Fatalf("after A's close, brk:open holds p/s until %d (%v); want B's later open, until %d", got, ok, untilB.UnixMilli())
	}
	publish(b, runtime.BreakerTransition{Key: "p/s", State: runtime.BreakerClosed})
	if got, ok := recorded(); ok {
		t.Fatalf("after B's close, brk:open still holds p/s until %d; want it removed", got)
	}
}

// TestBreakerPublishNeverBlocks: transitions queue while the server is
// down and are sent when it is back.
func TestBreakerPublishNeverBlocks(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	a, b := newStore(t, cfg), newStore(t, cfg)
	srv.Stop()
	a.Shared().Cache.Get(context.Background(), "k") // A notices
	start := time.Now()
	for i := 0; i < 10_000; i++ {
		a.Shared().Breakers.Publish(runtime.BreakerTransition{Key: "p/s", State: runtime.BreakerOpen, Until: time.Now().Add(time.Minute)})
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("10000 Publish calls with the server down took %v", d)
	}
	srv.Restart()
	onB := collect(t, b)
	if got := onB.next(t, 10*time.Second); got.Key != "p/s" || got.State != runtime.BreakerOpen {
		t.Fatalf("B applied %+v, want p/s open", got)
	}
}

type collector struct {
	ch chan runtime.BreakerTransition
}

func collect(t testing.TB, s *redis.Store) *collector {
	c := &collector{ch: make(chan runtime.BreakerTransition, 100)}
	stop := s.Shared().Breakers.Subscribe(func(tr runtime.BreakerTransition) { c.ch <- tr })
	t.Cleanup(stop)
	return c
}

func (c *collector) next(t testing.TB, within time.Duration) runtime.BreakerTransition {
	t.Helper()
	select {
	case tr := <-c.ch:
		return tr
	case <-time.After(within):
		t.Fatalf("no transition applied within %v", within)
	}
	panic("unreachable")
}

func (c *collector) none(t testing.TB) {
	t.Helper()
	select {
	case tr := <-c.ch:
		t.Fatalf("unexpected transition applied: %+v", tr)
	default:
	}
}

func TestBudgetAdmitsExactlyN(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	stores := []*redis.Store{newStore(t, cfg), newStore(t, cfg), newStore(t, cfg)}
	for _, tc := range []struct {
		name   string
		budget runtime.SharedBudget
		hold   runtime.Usage
	}{
		{"tokens", runtime.SharedBudget{Name: "tenant-tokens", Window: time.Hour, TokenLimit: 25}, runtime.Usage{PromptTokens: 1}},
		// 25 x 0.1 adds up to 2.5000000000000004: the last one still fits.
		{"cost", runtime.SharedBudget{Name: "tenant-cost", Window: time.Hour, CostLimit: 2.5}, runtime.Usage{Cost: 0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var admitted, refused atomic.Int64
			var wg sync.WaitGroup
			for _, s := range stores {
				for range 20 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, ok, err := s.Shared().Budgets.Reserve(context.Background(), tc.budget, tc.hold)
						switch {
						case err != nil:
							t.Errorf("Reserve: %v", err)
						case ok:
							admitted.Add(1)
						default:
							refused.Add(1)
						}
					}()
				}
			}
			wg.Wait()
			if admitted.Load() != 25 || refused.Load() != 35 {
				t.Fatalf("admitted %d, refused %d of 60; want 25 and 35", admitted.Load(), refused.Load())
			}
		})
	}
	// Runs that reserve and commit a unit each, over and over, until the
	// budget refuses: exactly N are admitted.
	t.Run("commits", func(t *testing.T) {
		budget := runtime.SharedBudget{Name: "tenant-loop", Window: time.Hour, TokenLimit: 100}
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for _, s := range stores {
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						r, ok, err := s.Shared().Budgets.Reserve(context.Background(), budget, runtime.Usage{CompletionTokens: 1})
						if err != nil {
							t.Errorf("Reserve: %v", err)
						}
						if !ok {
							return
						}
						admitted.Add(1)
						if err := r.Commit(context.Background(), runtime.Usage{CompletionTokens: 1}); err != nil {
							t.Errorf("Commit: %v", err)
						}
					}
				}()
			}
		}
		wg.Wait()
		if admitted.Load() != 100 {
			t.Fatalf("admitted %d runs; want 100", admitted.Load())
		}
	})
	var reserved, refusedN uint64
	for _, s := range stores {
		reserved += s.Stats().BudgetReserved
		refusedN += s.Stats().BudgetRefused
	}
	if reserved != 150 || refusedN != 130 {
		t.Errorf("stats: reserved %d, refused %d; want 150, 130", reserved, refusedN)
	}
}

func TestBudgetCommit(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newStore(t, config(t, srv)).Shared().Budgets, newStore(t, config(t, srv)).Shared().Budgets
	ctx := context.Background()
	budget := runtime.SharedBudget{Name: "tenant-42", Window: 24 * time.Hour, CostLimit: 1, TokenLimit: 100}
	reserve := func(bs runtime.SharedBudgets, u runtime.Usage) (runtime.Reservation, bool) {
		t.Helper()
		r, ok, err := bs.Reserve(ctx, budget, u)
		if err != nil {
			t.Fatalf("Reserve %+v: %v", u, err)
		}
		return r, ok
	}
	r1, ok := reserve(a, runtime.Usage{Cost: 0.5, PromptTokens: 30, CompletionTokens: 20})
	if !ok {
		t.Fatal("first hold refused")
	}
	if _, ok := reserve(b, runtime.Usage{Cost: 0.6}); ok {
		t.Fatal("0.5 held + 0.6 admitted under a limit of 1")
	}
	if _, ok := reserve(b, runtime.Usage{PromptTokens: 51}); ok {
		t.Fatal("50 held + 51 tokens admitted under a limit of 100")
	}
	// The run spent less than its hold: the rest is free again.
	if err := r1.Commit(ctx, runtime.Usage{Cost: 0.1, PromptTokens: 5, CompletionTokens: 5}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := r1.Commit(ctx, runtime.Usage{Cost: 0.1}); err == nil {
		t.Fatal("a second Commit of one reservation: no error")
	}
	r2, ok := reserve(b, runtime.Usage{Cost: 0.9, PromptTokens: 90})
	if !ok {
		t.Fatal("0.1 spent + 0.9 refused under a limit of 1")
	}
	if _, ok := reserve(a, runtime.Usage{Cost: 0.01}); ok {
		t.Fatal("admitted past the limit after a commit")
	}
	// A run may spend more than it held (the step that crossed): spent is
	// what it spent.
	if err := r2.Commit(ctx, runtime.Usage{Cost: 0.95}); err != nil {
		t.Fatal(err)
	}
	if _, ok := reserve(a, runtime.Usage{PromptTokens: 1}); ok {
		t.Fatal("admitted with 1.05 spent of a cost limit of 1")
	}
}

func TestBudgetHoldLease(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, config(t, srv), redis.WithHoldLease(300*time.Millisecond))
	ctx := context.Background()
	budget := runtime.SharedBudget{Name: "lease", TokenLimit: 10}
	if _, ok, err := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 10}); !ok || err != nil {
		t.Fatalf("Reserve: %v, %v", ok, err)
	}
	if _, ok, _ := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 1}); ok {
		t.Fatal("admitted past the limit")
	}
	// The first run never commits: its hold is released with its lease.
	eventually(t, 5*time.Second, "hold released", func() bool {
		r, ok, err := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 10})
		if ok {
			_ = r.Commit(ctx, runtime.Usage{PromptTokens: 4})
		}
		return ok && err == nil
	})
	// A commit is charged: 4 of 10 spent.
	eventually(t, 5*time.Second, "second hold released", func() bool {
		_, ok, _ := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 6})
		return ok
	})
	if _, ok, _ := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 1}); ok {
		t.Fatal("admitted past the limit with 4 spent and 6 held")
	}
}

func TestBudgetWindow(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	s := newStore(t, cfg, redis.WithHoldLease(time.Second))
	ctx := context.Background()
	budget := runtime.SharedBudget{Name: "w", Window: time.Second, TokenLimit: 3}
	// Start right after a window begins, so that the test stays in it.
	time.Sleep(time.Until(budget.WindowStart(time.Now()).Add(budget.Window + 20*time.Millisecond)))
	first := budget.WindowStart(time.Now())
	r, ok, err := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 3})
	if !ok || err != nil {
		t.Fatalf("Reserve: %v, %v", ok, err)
	}
	if err := r.Commit(ctx, runtime.Usage{PromptTokens: 3}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 1}); ok && budget.WindowStart(time.Now()).Equal(first) {
		t.Fatal("admitted past the limit in the same window")
	}
	// The window's keys expire a lease after it ends.
	key := cfg.KeyPrefix + "bud:{w:" + strconv.FormatInt(first.Unix(), 10) + "}"
	raw := rawClient(t, srv)
	pttl, err := raw.Do(ctx, raw.B().Pttl().Key(key).Build()).AsInt64()
	if err != nil || pttl <= 0 || pttl > 2000 {
		t.Fatalf("PTTL %s = %d, %v; want 1..2000 ms", key, pttl, err)
	}
	// The next window starts again.
	time.Sleep(time.Until(first.Add(budget.Window)))
	if _, ok, err := s.Shared().Budgets.Reserve(ctx, budget, runtime.Usage{PromptTokens: 3}); !ok || err != nil {
		t.Fatalf("Reserve in the next window: %v, %v", ok, err)
	}
}

func TestBudgetInvalid(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, config(t, srv))
	_, ok, err := s.Shared().Budgets.Reserve(context.Background(), runtime.SharedBudget{Name: "x"}, runtime.Usage{Cost: 1})
	if ok || err == nil || !strings.Contains(err.Error(), "must bound something") {
		t.Fatalf("Reserve of a budget without limits: %v, %v", ok, err)
	}
	_, ok, err = s.Shared().Budgets.Reserve(context.Background(), runtime.SharedBudget{Name: "x", CostLimit: 1}, runtime.Usage{Cost: math.NaN()})
	if ok || err == nil || !strings.Contains(err.Error(), "finite") {
		t.Fatalf("Reserve of a NaN hold: %v, %v", ok, err)
	}
	if s.Stats().Calls != 0 {
		t.Errorf("an invalid budget went to the server")
	}
}
