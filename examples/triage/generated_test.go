package main

import (
	"context"
	"reflect"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/statscmp"
	"github.com/flujo/flujo/runtime"
)

// TestGeneratedMatchesCore runs the sample tickets on the ExecutorCore and on
// the generated TriageExecutor: same results, same counters.
func TestGeneratedMatchesCore(t *testing.T) {
	ctx := context.Background()
	sim := SimConfig{Seed: 7, OverloadPercent: 25, MalformedPercent: 15}
	run := func(f func(llm *SimLLM) []Outcome) []Outcome {
		llm, err := NewSimLLM(sim)
		if err != nil {
			t.Fatal(err)
		}
		return f(llm)
	}
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(ctx)
	gen, err := NewTriageExecutor()
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close(ctx)
	if got, want := gen.OptimizationConfig(), core.OptimizationConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("generated config %+v, want the ExecutorCore's %+v", got, want)
	}
	want := run(func(llm *SimLLM) []Outcome { return TriageAll(WithLLM(ctx, llm), core, SampleTickets()) })
	got := run(func(llm *SimLLM) []Outcome {
		return TriageAllWith(WithLLM(ctx, llm), GeneratedTriage(gen), SampleTickets())
	})
	for i := range want {
		if got[i].Summary() != want[i].Summary() || !reflect.DeepEqual(got[i].State, want[i].State) {
			t.Errorf("ticket %d:\n generated %s\n core      %s", i, got[i].Summary(), want[i].Summary())
		}
	}
	for _, r := range statscmp.Counters(core.OptimizationStats(), gen.OptimizationStats()) {
		if r.Left != r.Right {
			t.Errorf("%s: ExecutorCore %s, generated %s", r.Name, r.Left, r.Right)
		}
	}
}
