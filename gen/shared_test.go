package gen

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/flujotest"
	"github.com/flujo/flujo/gen/testdata/equiv/breaker"
	"github.com/flujo/flujo/gen/testdata/equiv/cached"
	"github.com/flujo/flujo/gen/testdata/equiv/packed"
	"github.com/flujo/flujo/gen/testdata/stalecheck"
	"github.com/flujo/flujo/internal/sharedtest"
	"github.com/flujo/flujo/runtime"
)

// TestSharedCacheAcrossEngines runs a generated executor and an
// ExecutorCore of the same pipeline and configuration as two replicas of
// one shared store: what one computes, the other hits.
func TestSharedCacheAcrossEngines(t *testing.T) {
	ctx := context.Background()
	for _, v := range []struct {
		name string
		gen  func(...flujo.CoreOption) (interface {
			ExecuteResult(context.Context, flujotest.Job, ...flujo.ExecOption) (*flujo.PipelineResult, error)
			Close(context.Context) error
		}, error)
	}{
		{"cached", func(o ...flujo.CoreOption) (interface {
			ExecuteResult(context.Context, flujotest.Job, ...flujo.ExecOption) (*flujo.PipelineResult, error)
			Close(context.Context) error
		}, error) {
			return cached.NewCachedTagsExecutor(o...)
		}},
		{"packed", func(o ...flujo.CoreOption) (interface {
			ExecuteResult(context.Context, flujotest.Job, ...flujo.ExecOption) (*flujo.PipelineResult, error)
			Close(context.Context) error
		}, error) {
			return packed.NewCachedTagsExecutor(o...)
		}},
	} {
		t.Run(v.name, func(t *testing.T) {
			store := sharedtest.New()
			g, err := v.gen(flujo.WithShared(store.Replica()))
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close(ctx)
			core, err := flujo.NewExecutorCore(equivVariants()[v.name], flujo.WithShared(store.Replica()))
			if err != nil {
				t.Fatal(err)
			}
			defer core.Close(ctx)
			calls := flujotest.NewCalls()
			// The generated executor fills, the ExecutorCore hits.
			first, err := g.ExecuteResult(ctx, flujotest.Job{Name: "x", Calls: calls})
			if err != nil || first.Steps[0].CacheHit {
				t.Fatalf("generated: %v, hit %v", err, first.Steps[0].CacheHit)
			}
			second, err := core.Execute(ctx, flujotest.CachedTags, flujotest.Job{Name: "x", Calls: calls})
			if err != nil || !second.Steps[0].CacheHit || !slices.Equal(second.Output.([]string), []string{"x", "tagged"}) {
				t.Fatalf("ExecutorCore: %v, %+v; want a hit of the generated executor's result", err, second.Steps[0])
			}
			// And the other way round.
			third, err := core.Execute(ctx, flujotest.CachedTags, flujotest.Job{Name: "y", Calls: calls})
			if err != nil || third.Steps[0].CacheHit {
				t.Fatalf("ExecutorCore: %v, hit %v", err, third.Steps[0].CacheHit)
			}
			fourth, err := g.ExecuteResult(ctx, flujotest.Job{Name: "y", Calls: calls})
			if err != nil || !fourth.Steps[0].CacheHit || !slices.Equal(fourth.Output.([]string), []string{"y", "tagged"}) {
				t.Fatalf("generated: %v, %+v; want a hit of the ExecutorCore's result", err, fourth.Steps[0])
			}
			if n := len(store.Keys()); n != 2 {
				t.Fatalf("%d keys %q; want one per input, shared by both engines", n, store.Keys())
			}
		})
	}
}

// TestSharedBreakerAcrossEngines opens a generated executor's breaker and
// sees the ExecutorCore's of the same step reject.
func TestSharedBreakerAcrossEngines(t *testing.T) {
	ctx := context.Background()
	store := sharedtest.New()
	g, err := breaker.NewBreakerFailExecutor(flujo.WithShared(store.Replica()))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(ctx)
	core, err := flujo.NewExecutorCore(equivVariants()["breaker"], flujo.WithShared(store.Replica()))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(ctx)
	upstream := flujo.Step("fail", func(_ context.Context, j flujotest.Job) (flujotest.Job, error) { return j, nil }, flujo.Retries(0))
	if _, err := core.Execute(ctx, upstream, flujotest.Job{}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the breaker variant's threshold
		_, _ = g.Execute(ctx, flujotest.Job{Calls: flujotest.NewCalls()})
	}
	deadline := time.Now().Add(5 * time.Second)
	for core.OptimizationStats().Distributed.BreakerApplied == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	_, err = core.Execute(ctx, upstream, flujotest.Job{})
	var open *flujo.CircuitOpenError
	if !errors.As(err, &open) {
		t.Fatalf("ExecutorCore: %v; want the breaker the generated executor opened", err)
	}
}

// TestSharedUncachedPathAllocatesNothing: sharing adds nothing to a step
// that is not cached.
func TestSharedUncachedPathAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	e, err := stalecheck.NewDoublerExecutor(flujo.WithShared(sharedtest.New().Replica()))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if allocs := testing.AllocsPerRun(100, func() { e.Execute(ctx, 3) }); allocs != 0 {
		t.Errorf("Execute allocates %v times per run with sharing on, want 0", allocs)
	}
	if st := e.OptimizationStats().Distributed; !st.Enabled || st.Calls != 0 {
		t.Errorf("stats %+v; want sharing on and no call to the store", st)
	}
}

// TestSharedBudgetGenerated: a generated executor's recorded runs reserve
// on the shared budget as the ExecutorCore's do.
func TestSharedBudgetGenerated(t *testing.T) {
	ctx := context.Background()
	store := sharedtest.New()
	g, err := cached.NewCachedTagsExecutor(flujo.WithShared(store.Replica()))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(ctx)
	for i, hold := range []float64{0.5, 0.5, 1.5} {
		want := hold <= 1
		b := runtime.SharedBudget{Name: "gen-budget", CostLimit: 1, Hold: runtime.Usage{Cost: hold}}
		_, err := g.ExecuteResult(ctx, flujotest.Job{Name: string(rune('a' + i)), Calls: flujotest.NewCalls()}, flujo.WithSharedBudget(b))
		var ref *flujo.BudgetRefusedError
		if ok := err == nil; ok != want || (!ok && !errors.As(err, &ref)) {
			t.Fatalf("run %d: %v; want admitted %v", i, err, want)
		}
	}
	if st := g.OptimizationStats().Distributed; st.BudgetReserved != 2 || st.BudgetRefused != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestDistributedNotWired: a configuration file whose distributed section
// shares something, given to an executor without flujo.WithShared, makes
// both engines recommend "distributed-not-wired" and warn once when built;
// with WithShared, neither does.
func TestDistributedNotWired(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flujo.json")
	if err := os.WriteFile(path, []byte(`{"distributed": {"address": "127.0.0.1:6379", "budgets": false}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	type executor interface {
		PerformanceRecommendations() []runtime.Recommendation
		Close(context.Context) error
	}
	engines := map[string]func(...flujo.CoreOption) (executor, error){
		"generated": func(o ...flujo.CoreOption) (executor, error) {
			return stalecheck.NewDoublerExecutor(append([]flujo.CoreOption{flujo.WithConfigFile(path)}, o...)...)
		},
		"core": func(o ...flujo.CoreOption) (executor, error) { return flujo.NewExecutorCoreFromFile(path, o...) },
	}
	for name, build := range engines {
		for _, shared := range []bool{false, true} {
			var log bytes.Buffer
			opts := []flujo.CoreOption{flujo.WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn})))}
			if shared {
				opts = append(opts, flujo.WithShared(sharedtest.New().Replica()))
			}
			e, err := build(opts...)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var got []string
			for _, r := range e.PerformanceRecommendations() {
				if r.ID == "distributed-not-wired" {
					got = append(got, r.Description)
				}
			}
			warned := strings.Count(log.String(), "flujo.WithShared(store.Shared())")
			e.Close(ctx)
			switch {
			case shared && (len(got) != 0 || warned != 0):
				t.Errorf("%s with WithShared: recommended %q, warned %d times; want neither", name, got, warned)
			case !shared && (len(got) != 1 || !strings.Contains(got[0], "flujo.WithShared(store.Shared())") || warned != 1):
				t.Errorf("%s without WithShared: recommended %q, warned %d times (log %q); want distributed-not-wired once, saying how to fix it", name, got, warned, log.String())
			}
		}
	}
}
