package flujo

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flujo/flujo/internal/sharedtest"
	"github.com/flujo/flujo/runtime"
)

// sharedCore returns an ExecutorCore with caching and breakers on that
// shares s; it is closed when the test ends.
func sharedCore(t *testing.T, s runtime.Shared, mutate func(*runtime.OptimizationConfig)) *ExecutorCore {
	t.Helper()
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableCacheOptimization = true
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := NewExecutorCore(cfg, WithShared(s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

type sharedDoc struct {
	Title string
	Words []string
}

func countedStep(calls *atomic.Int64) Node {
	return Step("summarize", func(_ context.Context, in string) (sharedDoc, error) {
		calls.Add(1)
		return sharedDoc{Title: strings.ToUpper(in), Words: strings.Fields(in)}, nil
	}, Cache())
}

func TestSharedCacheHitOnAnotherReplica(t *testing.T) {
	store := sharedtest.New()
	a, b := sharedCore(t, store.Replica(), nil), sharedCore(t, store.Replica(), nil)
	var calls atomic.Int64
	step := countedStep(&calls)
	ctx := context.Background()
	ra, err := a.Execute(ctx, step, "hello shared world")
	if err != nil || ra.Steps[0].CacheHit {
		t.Fatalf("replica A: err %v, hit %v; want a miss", err, ra.Steps[0].CacheHit)
	}
	rb, err := b.Execute(ctx, step, "hello shared world")
	if err != nil || !rb.Steps[0].CacheHit {
		t.Fatalf("replica B: err %v, hit %v; want a hit of A's result", err, rb.Steps[0].CacheHit)
	}
	got := rb.Output.(sharedDoc)
	if got.Title != "HELLO SHARED WORLD" || len(got.Words) != 3 || calls.Load() != 1 {
		t.Fatalf("B got %+v after %d calls; want A's output after 1 call", got, calls.Load())
	}
	// The hit filled B's own cache: the next lookup does not reach the store.
	gets := store.Gets.Load()
	if rb, _ := b.Execute(ctx, step, "hello shared world"); !rb.Steps[0].CacheHit || store.Gets.Load() != gets {
		t.Fatalf("B's second run: hit %v, store lookups %d -> %d; want a local hit", rb.Steps[0].CacheHit, gets, store.Gets.Load())
	}
	keys := store.Keys()
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "c:summarize/summarize:") {
		t.Fatalf("keys %q; want one c:<pipeline>/<step>:... key", keys)
	}
	sa, sb := a.OptimizationStats().Distributed, b.OptimizationStats().Distributed
	if !sa.Enabled || sa.CacheMisses != 1 || sb.CacheHits != 1 || sa.Degraded+sb.Degraded != 0 || sb.Store != "memory" {
		t.Fatalf("stats A %+v B %+v", sa, sb)
	}
	if st := b.OptimizationStats().Steps["summarize"].Cache; st.Hits != 2 {
		t.Fatalf("B's step cache stats %+v; want 2 hits (one shared, one local)", st)
	}
}

func TestSharedCacheTypeChangeNeverHits(t *testing.T) {
	store := sharedtest.New()
	a, b := sharedCore(t, store.Replica(), nil), sharedCore(t, store.Replica(), nil)
	var calls atomic.Int64
	if _, err := a.Execute(context.Background(), countedStep(&calls), "x y"); err != nil {
		t.Fatal(err)
	}
	type docV2 struct {
		Title string
		Words []string
		Lang  string
	}
	v2 := Step("summarize", func(_ context.Context, in string) (docV2, error) {
		calls.Add(1)
		return docV2{Title: in, Lang: "en"}, nil
	}, Cache())
	res, err := b.Execute(context.Background(), v2, "x y")
	if err != nil || res.Steps[0].CacheHit || calls.Load() != 2 || res.Output.(docV2).Lang != "en" {
		t.Fatalf("err %v hit %v calls %d; want a miss: the output type changed", err, res.Steps[0].CacheHit, calls.Load())
	}
	if n := len(store.Keys()); n != 2 {
		t.Fatalf("%d keys; want one per type fingerprint", n)
	}
}

func TestSharedCacheTTL(t *testing.T) {
	store := sharedtest.New()
	ttl := func(c *runtime.OptimizationConfig) { c.CacheTTLSeconds = 60 }
	a, b := sharedCore(t, store.Replica(), ttl), sharedCore(t, store.Replica(), ttl)
	var calls atomic.Int64
	step := countedStep(&calls)
	if _, err := a.Execute(context.Background(), step, "ttl"); err != nil {
		t.Fatal(err)
	}
	keys := store.Keys()
	if len(keys) != 1 {
		t.Fatalf("keys %q", keys)
	}
	if got := store.TTL(keys[0]); got <= 50*time.Second || got > 60*time.Second {
		t.Fatalf("stored with TTL %v; want the step's 60s", got)
	}
	store.Advance(61 * time.Second)
	res, err := b.Execute(context.Background(), step, "ttl")
	if err != nil || res.Steps[0].CacheHit || calls.Load() != 2 {
		t.Fatalf("after the TTL: err %v hit %v calls %d; want a miss", err, res.Steps[0].CacheHit, calls.Load())
	}
}

// TestSharedCacheL1BoundedByStore: a hit of the shared cache fills the
// local cache for the time the entry has left in the store, not for a
// fresh TTL.
func TestSharedCacheL1BoundedByStore(t *testing.T) {
	store := sharedtest.New()
	ttl := func(c *runtime.OptimizationConfig) { c.CacheTTLSeconds = 60 }
	a := sharedCore(t, store.Replica(), ttl)
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableCacheOptimization, cfg.CacheTTLSeconds = true, 60
	clock := runtime.NewFakeClock(time.Hour)
	b, err := NewExecutorCore(cfg, WithShared(store.Replica()), WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	var calls atomic.Int64
	step := countedStep(&calls)
	if _, err := a.Execute(context.Background(), step, "bounded"); err != nil {
		t.Fatal(err)
	}
	store.Advance(50 * time.Second) // 10 s left in the store
	if res, err := b.Execute(context.Background(), step, "bounded"); err != nil || !res.Steps[0].CacheHit {
		t.Fatalf("B: err %v hit %v; want a shared hit", err, res.Steps[0].CacheHit)
	}
	store.Advance(11 * time.Second)
	clock.Advance(11 * time.Second)
	res, err := b.Execute(context.Background(), step, "bounded")
	if err != nil || res.Steps[0].CacheHit || calls.Load() != 2 {
		t.Fatalf("11 s after the store's entry expired: err %v hit %v calls %d; want a miss (the local copy lived past the store's)", err, res.Steps[0].CacheHit, calls.Load())
	}
}

func TestSharedCacheSingleflight(t *testing.T) {
	store := sharedtest.New()
	c := sharedCore(t, store.Replica(), nil)
	var calls atomic.Int64
	release := make(chan struct{})
	step := Step("slow", func(_ context.Context, in string) (sharedDoc, error) {
		calls.Add(1)
		<-release
		return sharedDoc{Title: in, Words: []string{in}}, nil
	}, Cache())
	const n = 16
	var wg sync.WaitGroup
	outs := make([]sharedDoc, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Execute(context.Background(), step, "same")
			if err != nil {
				t.Error(err)
				return
			}
			outs[i] = res.Output.(sharedDoc)
		}()
	}
	time.Sleep(20 * time.Millisecond) // let the executions pile up on the one in flight
	close(release)
	wg.Wait()
	if calls.Load() != 1 || store.Gets.Load() != 1 {
		t.Fatalf("%d step calls, %d store lookups; want 1 and 1", calls.Load(), store.Gets.Load())
	}
	outs[0].Words[0] = "mutated"
	for i := 1; i < n; i++ {
		if outs[i].Title != "same" || outs[i].Words[0] != "same" {
			t.Fatalf("output %d is %+v; every waiter gets its own copy of the leader's output", i, outs[i])
		}
	}
}

func TestSharedBreakerOpensOnEveryReplica(t *testing.T) {
	store := sharedtest.New()
	brk := func(c *runtime.OptimizationConfig) {
		c.EnableCircuitBreaker = true
		c.CircuitBreakerFailureThreshold = 1
		c.CircuitBreakerRecoveryTimeoutSeconds = 60
	}
	a, b := sharedCore(t, store.Replica(), brk), sharedCore(t, store.Replica(), brk)
	var fail atomic.Bool
	step := Step("upstream", func(_ context.Context, n int) (int, error) {
		if fail.Load() {
			return 0, errors.New("upstream down")
		}
		return n, nil
	}, Retries(0))
	ctx := context.Background()
	if _, err := b.Execute(ctx, step, 1); err != nil { // B has the breaker now
		t.Fatal(err)
	}
	fail.Store(true)
	if _, err := a.Execute(ctx, step, 1); err == nil {
		t.Fatal("A: want the failure that opens its breaker")
	}
	fail.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for b.OptimizationStats().Distributed.BreakerApplied == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	_, err := b.Execute(ctx, step, 1)
	var open *CircuitOpenError
	if !errors.As(err, &open) {
		t.Fatalf("B: err %v; want the breaker that A opened to reject", err)
	}
	if open.RetryAfter < 50*time.Second {
		t.Fatalf("B's breaker opens for %v; want the rest of A's 60s", open.RetryAfter)
	}
	if st := a.OptimizationStats().Distributed; st.BreakerPublished == 0 {
		t.Fatalf("A stats %+v; want the open published", st)
	}
	if st := b.OptimizationStats().Steps["upstream"].CircuitBreaker; st.Failures != 0 {
		t.Fatalf("B's breaker %+v; a remote open counts no failure", st)
	}
}

func TestSharedCloseStopsSubscription(t *testing.T) {
	store := sharedtest.New()
	c, err := NewExecutorCore(runtime.DefaultOptimizationConfig(), WithShared(store.Replica()))
	if err != nil {
		t.Fatal(err)
	}
	if store.Subscribers() != 1 {
		t.Fatalf("%d subscribers; want 1", store.Subscribers())
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if store.Subscribers() != 0 {
		t.Fatalf("%d subscribers after Close; want 0", store.Subscribers())
	}
}

func spendStep() Node {
	return Step("spend", func(_ context.Context, n int) (spent, error) { return spent{tokens: 1}, nil })
}

type spent struct{ tokens int }

func (s spent) Usage() Usage { return Usage{PromptTokens: s.tokens} }

func TestSharedBudgetAdmitsExactlyN(t *testing.T) {
	store := sharedtest.New()
	execs := []*ExecutorCore{sharedCore(t, store.Replica(), nil), sharedCore(t, store.Replica(), nil), sharedCore(t, store.Replica(), nil)}
	const n = 25
	budget := SharedBudget{Name: "tenant-exact", Window: time.Hour, TokenLimit: n, Hold: Usage{PromptTokens: 1}}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for _, c := range execs {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					_, err := c.Execute(context.Background(), spendStep(), 1, WithSharedBudget(budget))
					var ref *BudgetRefusedError
					var ule *UsageLimitExceededError
					switch {
					case err == nil:
						ok.Add(1)
					case errors.As(err, &ref) && errors.As(err, &ule) && strings.Contains(err.Error(), "tenant-exact"):
						refused.Add(1)
					default:
						t.Error(err)
					}
				}
			}()
		}
	}
	wg.Wait()
	if ok.Load() != n || refused.Load() != 120-n {
		t.Fatalf("%d runs admitted, %d refused; want exactly %d admitted", ok.Load(), refused.Load(), n)
	}
}

func TestSharedBudgetValidation(t *testing.T) {
	c := sharedCore(t, sharedtest.New().Replica(), nil)
	ctx := context.Background()
	if _, err := c.Execute(ctx, spendStep(), 1, WithSharedBudget(SharedBudget{Window: time.Hour, TokenLimit: 1})); err == nil || !strings.Contains(err.Error(), "Name is empty") {
		t.Fatalf("err %v; want the empty name named", err)
	}
	if _, err := c.Execute(ctx, spendStep(), 1, WithSharedBudget(SharedBudget{Name: "x", TokenLimit: 1})); err == nil || !strings.Contains(err.Error(), "no hold") {
		t.Fatalf("err %v; want the missing hold named", err)
	}
	// The hold from the run's limits, which the budget's lower hold bounds.
	res, err := c.Execute(ctx, Pipeline("p", spendStep(), Step("again", func(_ context.Context, s spent) (spent, error) { return s, nil })), 1,
		WithSharedBudget(SharedBudget{Name: "hold-bounds", TokenLimit: 10, Hold: Usage{PromptTokens: 1}}), WithUsageLimits(UsageLimits{TotalTokensLimit: 5}))
	var ule *UsageLimitExceededError
	if !errors.As(err, &ule) || res == nil || ule.Limits.TotalTokensLimit != 1 {
		t.Fatalf("err %v; want the run bounded by its hold of 1 token", err)
	}
}

func TestSharedDegradation(t *testing.T) {
	for _, fault := range []sharedtest.Fault{sharedtest.Failing, sharedtest.Hanging} {
		store := sharedtest.New()
		s := store.Replica()
		s.CommandTimeout = 5 * time.Millisecond
		c := sharedCore(t, s, nil)
		store.SetFault(fault)
		var calls atomic.Int64
		step := countedStep(&calls)
		for range 3 {
			if _, err := c.Execute(context.Background(), step, "down"); err != nil {
				t.Fatalf("fault %d: %v; no run fails because the store does", fault, err)
			}
		}
		if _, err := c.Execute(context.Background(), spendStep(), 1, WithSharedBudget(SharedBudget{Name: "degraded", TokenLimit: 5, Hold: Usage{PromptTokens: 1}})); err != nil {
			t.Fatalf("fault %d: budget: %v; want the local budget to take the hold", fault, err)
		}
		st := c.OptimizationStats().Distributed
		if calls.Load() != 1 || st.Degraded < 2 || st.RecentDegraded < 2 || st.Healthy || st.LastError == "" || st.BudgetLocal != 1 {
			t.Fatalf("fault %d: %d calls, stats %+v; want L1 serving, degraded calls counted, a local budget", fault, calls.Load(), st)
		}
		var rec *runtime.Recommendation
		for _, r := range c.PerformanceRecommendations() {
			if r.ID == "distributed-degraded" {
				rec = &r
			}
		}
		if rec == nil || !strings.Contains(rec.Description, "memory") {
			t.Fatalf("fault %d: recommendations lack distributed-degraded naming the store: %+v", fault, rec)
		}
		// Sharing resumes when the store answers again.
		store.SetFault(sharedtest.Healthy)
		if _, err := c.Execute(context.Background(), step, "back"); err != nil {
			t.Fatal(err)
		}
		if !c.OptimizationStats().Distributed.Healthy || len(store.Keys()) != 1 {
			t.Fatalf("fault %d: after recovery stats %+v keys %q", fault, c.OptimizationStats().Distributed, store.Keys())
		}
	}
}

func TestWithSharedValidated(t *testing.T) {
	if _, err := NewExecutorCore(runtime.DefaultOptimizationConfig(), WithShared(runtime.Shared{Cache: sharedtest.New().Replica().Cache, CommandTimeout: -time.Second})); err == nil || !strings.Contains(err.Error(), "WithShared") {
		t.Fatalf("err %v; want a negative CommandTimeout refused", err)
	}
	// A Shared without parts (a store whose configuration turns every
	// part off) shares nothing.
	c, err := NewExecutorCore(runtime.DefaultOptimizationConfig(), WithShared(runtime.Shared{Stats: func() runtime.StatsShared { return runtime.StatsShared{Enabled: true} }}))
	if err != nil {
		t.Fatalf("WithShared without parts: %v; want an executor that shares nothing", err)
	}
	defer c.Close(context.Background())
	if st := c.OptimizationStats().Distributed; st.Enabled {
		t.Fatalf("Distributed = %+v; want sharing off", st)
	}
}

// moodyDoc encodes itself, except when its Mood is "panic".
type moodyDoc struct{ Mood string }

func (d moodyDoc) MarshalJSON() ([]byte, error) {
	if d.Mood == "panic" {
		panic("cannot encode this mood")
	}
	return []byte(`{"Mood":"` + d.Mood + `"}`), nil
}

// TestSharedCacheOutputEncodingPanics: an output whose own MarshalJSON
// panics is not shared (nor, with compression, cached), and the run that
// produced it succeeds: the panic is the codec's error, not the caller's.
func TestSharedCacheOutputEncodingPanics(t *testing.T) {
	for _, compress := range []bool{false, true} {
		store := sharedtest.New()
		core := sharedCore(t, store.Replica(), func(c *runtime.OptimizationConfig) { c.CacheCompression = compress })
		var calls atomic.Int64
		step := Step("mood", func(_ context.Context, in string) (moodyDoc, error) {
			calls.Add(1)
			return moodyDoc{Mood: in}, nil
		}, Cache())
		for range 2 {
			res, err := core.Execute(context.Background(), step, "panic")
			if err != nil || !res.Success || res.Output.(moodyDoc).Mood != "panic" {
				t.Fatalf("compression %v: run = %+v, %v; want the step's output", compress, res, err)
			}
		}
		if keys := store.Keys(); len(keys) != 0 {
			t.Errorf("compression %v: the store holds %q; want nothing for an output that does not encode", compress, keys)
		}
		if want := map[bool]int64{false: 1, true: 2}[compress]; calls.Load() != want {
			t.Errorf("compression %v: %d calls; want %d (cached locally as a value only without compression)", compress, calls.Load(), want)
		}
	}
}
