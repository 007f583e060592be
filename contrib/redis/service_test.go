package redis_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/contrib/redis"
	"github.com/flujo/flujo/contrib/redis/redistest"
	"github.com/flujo/flujo/runtime"
)

// The service the replica processes of TestServiceReplicas run: three
// pipelines on an ExecutorCore that shares its cache, breakers and budgets
// through the replica's Store.

// upstreamCalls counts the calls of the cached step in this process.
var upstreamCalls atomic.Int64

// failing makes the guarded step fail in this process.
var failing atomic.Bool

// answer is an output that costs one token.
type answer struct{ Text string }

// Usage implements flujo.UsageReporter.
func (answer) Usage() flujo.Usage { return flujo.Usage{PromptTokens: 1} }

var (
	lookup = flujo.Pipeline("svc-lookup", flujo.Step("expensive", func(_ context.Context, q string) (string, error) {
		upstreamCalls.Add(1)
		return strings.ToUpper(q), nil
	}, flujo.Cache()))
	guarded = flujo.Pipeline("svc-guarded", flujo.Step("upstream", func(_ context.Context, q string) (string, error) {
		if failing.Load() {
			return "", errors.New("upstream down")
		}
		return q, nil
	}, flujo.Retries(0)))
	spend = flujo.Pipeline("svc-spend", flujo.Step("model", func(_ context.Context, q string) (answer, error) {
		return answer{q}, nil
	}, flujo.Retries(0)))
)

// serviceMain runs the service as the replica do names.
func serviceMain(s *redis.Store, do string) int {
	ctx := context.Background()
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableCacheOptimization = true
	cfg.CircuitBreakerFailureThreshold = 2
	core, err := flujo.NewExecutorCore(cfg, flujo.WithShared(s.Shared()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer core.Close(ctx)
	switch do {
	case "svc-cache":
		res, err := core.Execute(ctx, lookup, "question")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("output=%v hit=%v calls=%d\n", res.Output, res.Steps[0].CacheHit, upstreamCalls.Load())
	case "svc-breaker-open":
		failing.Store(true)
		for i := 0; i < 10; i++ {
			_, err := core.Execute(ctx, guarded, "q")
			var co *flujo.CircuitOpenError
			if errors.As(err, &co) {
				break
			}
		}
		fmt.Println("opened", time.Now().UnixNano())
	case "svc-breaker-wait":
		// The breaker exists once the step has run.
		if _, err := core.Execute(ctx, guarded, "warm"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("ready")
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			_, err := core.Execute(ctx, guarded, "q")
			var co *flujo.CircuitOpenError
			if errors.As(err, &co) {
				fmt.Println("rejected", time.Now().UnixNano())
				return 0
			}
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Fprintln(os.Stderr, "the breaker did not open within 20 s")
		return 1
	case "svc-budget":
		<-waitStdin() // start together
		budget := flujo.SharedBudget{Name: "tenant-7", Window: time.Hour, TokenLimit: 100, Hold: flujo.Usage{PromptTokens: 1}}
		var admitted, refused atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					_, err := core.Execute(ctx, spend, "q", flujo.WithSharedBudget(budget))
					var refusal *flujo.BudgetRefusedError
					switch {
					case err == nil:
						admitted.Add(1)
					case errors.As(err, &refusal):
						refused.Add(1)
						return
					default:
						fmt.Fprintln(os.Stderr, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		st := core.OptimizationStats().Distributed
		fmt.Println("admitted", admitted.Load(), "local", st.BudgetLocal)
	default:
		fmt.Fprintln(os.Stderr, "unknown", replicaEnv, do)
		return 2
	}
	return 0
}

// TestServiceReplicas runs three OS processes of one small service, each an
// ExecutorCore sharing through its own Store, against one server: a result
// computed on A is a hit on B without calling the step; a breaker opened on
// A rejects on B and C within one second; a shared budget of 100 tokens
// admits exactly 100 runs across the three under concurrent load.
func TestServiceReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	srv := redistest.Start(t)

	if l := startReplica(t, srv, "svc-cache").line(t); l != "output=QUESTION hit=false calls=1" {
		t.Fatalf("A: %s, want a miss that calls the step", l)
	}
	if l := startReplica(t, srv, "svc-cache").line(t); l != "output=QUESTION hit=true calls=0" {
		t.Fatalf("B: %s, want a hit from A's result without a call", l)
	}

	b, c := startReplica(t, srv, "svc-breaker-wait"), startReplica(t, srv, "svc-breaker-wait")
	for _, r := range []*replica{b, c} {
		if l := r.line(t); l != "ready" {
			t.Fatalf("breaker replica: %s", l)
		}
	}
	var opened int64
	if _, err := fmt.Sscanf(startReplica(t, srv, "svc-breaker-open").line(t), "opened %d", &opened); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*replica{"B": b, "C": c} {
		f := strings.Fields(r.line(t))
		if len(f) != 2 || f[0] != "rejected" {
			t.Fatalf("%s: %v, want a rejection", name, f)
		}
		at, _ := strconv.ParseInt(f[1], 10, 64)
		d := time.Duration(at - opened)
		t.Logf("%s rejected %v after A's breaker opened", name, d)
		if d > time.Second {
			t.Errorf("%s rejected %v after A's breaker opened; want within 1 s", name, d)
		}
	}

	var reps []*replica
	for range 3 {
		reps = append(reps, startReplica(t, srv, "svc-budget"))
	}
	time.Sleep(200 * time.Millisecond) // connected
	for _, r := range reps {
		r.stdin.Close()
	}
	total := 0
	for i, r := range reps {
		var n, local int
		if _, err := fmt.Sscanf(r.line(t), "admitted %d local %d", &n, &local); err != nil {
			t.Fatal(err)
		}
		if local != 0 {
			t.Errorf("replica %d reserved %d times on a local budget: the server was up", i, local)
		}
		t.Logf("replica %d admitted %d runs", i, n)
		total += n
	}
	if total != 100 {
		t.Fatalf("the replicas admitted %d runs; want exactly 100", total)
	}
}

// TestBreakerOpenBeforeStepRan: an ExecutorCore builds a step's breaker
// when the step first runs. A replica that heard of an open breaker before
// that (by message, or by reading the open breakers back when it started)
// still rejects the step's first call while the open period lasts.
func TestBreakerOpenBeforeStepRan(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	ocfg := runtime.DefaultOptimizationConfig()
	ocfg.CircuitBreakerFailureThreshold = 1
	ocfg.CircuitBreakerRecoveryTimeoutSeconds = 60
	var calls atomic.Int64
	p := flujo.Pipeline("late-breaker", flujo.Step("upstream", func(_ context.Context, q string) (string, error) {
		calls.Add(1)
		if q == "fail" {
			return "", errors.New("upstream down")
		}
		return q, nil
	}, flujo.Retries(0)))
	replica := func() (*flujo.ExecutorCore, *redis.Store) {
		s := newStore(t, cfg)
		c, err := flujo.NewExecutorCore(ocfg, flujo.WithShared(s.Shared()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c, s
	}
	a, _ := replica()
	b, bs := replica() // running when A's breaker opens, the step not run yet
	if _, err := a.Execute(context.Background(), p, "fail"); err == nil {
		t.Fatal("A: the failing call succeeded")
	}
	eventually(t, 2*time.Second, "B heard of A's open", func() bool { return bs.Stats().BreakerApplied > 0 })
	c, cs := replica() // started while A's breaker is open
	eventually(t, 2*time.Second, "C read A's open back", func() bool { return cs.Stats().BreakerApplied > 0 })

	before := calls.Load()
	for name, r := range map[string]*flujo.ExecutorCore{"B": b, "C": c} {
		_, err := r.Execute(context.Background(), p, "ok")
		var co *flujo.CircuitOpenError
		if !errors.As(err, &co) {
			t.Errorf("%s: first call of the step: %v; want a *CircuitOpenError (A's breaker is open)", name, err)
		}
	}
	if n := calls.Load() - before; n != 0 {
		t.Errorf("the upstream was called %d times while the breaker was open fleet-wide", n)
	}
}

// tenantQuery is an input whose tenant JSON does not encode.
type tenantQuery struct {
	Q      string
	tenant string
}

// price is the output a step declares as an interface.
type price struct{ Cents int }

func (p price) String() string { return strconv.Itoa(p.Cents) + "c" }

// TestSharedCacheOnlyWhatJSONCarries: the shared cache identifies an input
// by its JSON encoding and hands out an output decoded from JSON. A step
// whose inputs JSON cannot tell apart (a field it leaves out) or whose
// output JSON cannot rebuild (an interface) is cached on each replica only:
// one tenant never gets another's result, and a hit has the type the step
// returned.
func TestSharedCacheOnlyWhatJSONCarries(t *testing.T) {
	srv := redistest.Start(t)
	cfg := config(t, srv)
	ocfg := runtime.DefaultOptimizationConfig()
	ocfg.EnableCacheOptimization = true
	answer := flujo.Pipeline("tenants", flujo.Step("answer", func(_ context.Context, q tenantQuery) (string, error) {
		return q.Q + " for " + q.tenant, nil
	}, flujo.Cache()))
	var priced atomic.Int64
	stringer := flujo.Pipeline("stringer",
		flujo.Step("price", func(_ context.Context, n int) (fmt.Stringer, error) {
			priced.Add(1)
			return price{n * 150}, nil
		}, flujo.Cache()),
		flujo.Step("show", func(_ context.Context, s fmt.Stringer) (string, error) { return s.String(), nil }))
	anyOut := flujo.Pipeline("any", flujo.Step("price", func(_ context.Context, n int) (any, error) {
		return price{n}, nil
	}, flujo.Cache()), flujo.Step("kind", func(_ context.Context, v any) (string, error) { return fmt.Sprintf("%T", v), nil }))
	anyIn := flujo.Pipeline("any-in", flujo.Step("kind", func(_ context.Context, v any) (string, error) {
		return fmt.Sprintf("%T", v), nil
	}, flujo.Cache()))
	// JSON writes every invalid UTF-8 byte as U+FFFD.
	quote := flujo.Pipeline("utf8", flujo.Step("quote", func(_ context.Context, s string) (string, error) {
		return strconv.Quote(s), nil
	}, flujo.Cache()))

	replica := func() *flujo.ExecutorCore {
		c, err := flujo.NewExecutorCore(ocfg, flujo.WithShared(newStore(t, cfg).Shared()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	a, b := replica(), replica()
	ctx := context.Background()
	for _, run := range []struct {
		node       flujo.Node
		ina, inb   any
		outa, outb string
	}{
		{answer, tenantQuery{"q", "acme"}, tenantQuery{"q", "globex"}, "q for acme", "q for globex"},
		{stringer, 3, 3, "450c", "450c"},
		{anyOut, 3, 3, "redis_test.price", "redis_test.price"},
		{anyIn, 3, 3.0, "int", "float64"},
		{quote, "a\xff", "a\xfe", `"a\xff"`, `"a\xfe"`},
	} {
		outa, _, err := flujo.Run[string](ctx, a, run.node, run.ina)
		if err != nil || outa != run.outa {
			t.Fatalf("%s on A: %q, %v; want %q", run.node.Name(), outa, err, run.outa)
		}
		outb, res, err := flujo.Run[string](ctx, b, run.node, run.inb)
		if err != nil || outb != run.outb {
			t.Errorf("%s on B: %q, %v; want %q", run.node.Name(), outb, err, run.outb)
			continue
		}
		if res.Steps[0].CacheHit {
			t.Errorf("%s on B: a hit of the shared cache; want the step run on B", run.node.Name())
		}
	}
	if n := priced.Load(); n != 2 {
		t.Errorf("the Stringer step ran %d times, want once per replica", n)
	}
	raw := rawClient(t, srv)
	keys, err := raw.Do(ctx, raw.B().Keys().Pattern(cfg.KeyPrefix+"c:*").Build()).AsStrSlice()
	if err != nil || len(keys) != 0 {
		t.Errorf("entries on the server %q, %v; want none", keys, err)
	}
}

// TestNothingShared: a distributed section that turns every part off needs
// no address, and the documented start-up code (a store from the file,
// given to the executor) builds an executor that shares nothing.
func TestNothingShared(t *testing.T) {
	path := t.TempDir() + "/flujo.json"
	if err := os.WriteFile(path, []byte(`{"optimization": {"enable_cache_optimization": true},
  "distributed": {"cache": false, "breaker": false, "budgets": false}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := redis.FromConfigFile(ctx, path, quiet)
	if err != nil {
		t.Fatalf("FromConfigFile: %v; want a store that shares nothing", err)
	}
	defer store.Close()
	if sh := store.Shared(); sh.Cache != nil || sh.Breakers != nil || sh.Budgets != nil {
		t.Fatalf("Shared = %+v; want no part", sh)
	}
	if st := store.Stats(); st.Enabled || st.Calls != 0 {
		t.Errorf("Stats = %+v; want sharing off and no call", st)
	}
	core, err := flujo.NewExecutorCoreFromFile(path, flujo.WithShared(store.Shared()))
	if err != nil {
		t.Fatalf("NewExecutorCoreFromFile: %v", err)
	}
	defer core.Close(ctx)
	if _, err := core.Execute(ctx, lookup, "q", flujo.WithSharedBudget(flujo.SharedBudget{Name: "off", TokenLimit: 1, Hold: flujo.Usage{PromptTokens: 1}})); err != nil {
		t.Fatal(err)
	}
	if st := core.OptimizationStats().Distributed; st.Enabled {
		t.Errorf("executor stats %+v; want sharing off", st)
	}
	store.Close() // twice is fine
}
