package main

import (
	"context"
	"reflect"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/statscmp"
)

// TestGeneratedMatchesCore runs the sample exports on the ExecutorCore and
// on the generated OrdersExecutor, whose flujo.json must match Config: same
// reports, same counters (cache hits aside: the Map looks countries up
// concurrently).
func TestGeneratedMatchesCore(t *testing.T) {
	ctx := context.Background()
	core, err := flujo.NewExecutorCore(Config())
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(ctx)
	gen, err := NewOrdersExecutor()
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close(ctx)
	if got := gen.OptimizationConfig(); !reflect.DeepEqual(got, Config()) {
		t.Fatalf("flujo.json gives %+v, Config %+v: regenerate after changing either", got, Config())
	}
	for _, exp := range SampleExports() {
		svc, err := NewCountryService(0, Workers)
		if err != nil {
			t.Fatal(err)
		}
		want, _, werr := flujo.Run[Report](WithService(ctx, svc), core, Orders, exp.CSV)
		got, gerr := gen.Execute(WithService(ctx, svc), exp.CSV)
		if werr != nil || gerr != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: generated %+v (%v), core %+v (%v)", exp.Name, got, gerr, want, werr)
		}
	}
	for _, r := range statscmp.Counters(core.OptimizationStats(), gen.OptimizationStats()) {
		if r.Left != r.Right && r.Mark != statscmp.Scheduled {
			t.Errorf("%s: ExecutorCore %s, generated %s", r.Name, r.Left, r.Right)
		}
	}
}
