package gen

import (
	"context"
	"testing"

	"github.com/flujo/flujo/flujotest"
	gendefaults "github.com/flujo/flujo/gen/testdata/equiv/defaults"
)

// TestParallelAllocations: with pooled scratch space, a run of a Parallel
// whose branches write state allocates its branch goroutines, the context
// that cancels them, and what the user's join allocates; nothing else.
func TestParallelAllocations(t *testing.T) {
	ctx := context.Background()
	e, err := gendefaults.NewFanMergeUpdateExecutor()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	j := flujotest.Job{Name: "j", Calls: flujotest.NewCalls()}
	st := &flujotest.State{}
	const goroutines, cancel, join = 3, 2, 1
	if allocs := testing.AllocsPerRun(200, func() { e.Execute(ctx, j, st) }); allocs > goroutines+cancel+join {
		t.Errorf("a run allocates %v times, want at most %d", allocs, goroutines+cancel+join)
	}
	if st.A != "a2" || st.B != "b" {
		t.Errorf("state %+v after the runs", st)
	}
}

func BenchmarkGeneratedParallelState(b *testing.B) {
	ctx := context.Background()
	e, err := gendefaults.NewFanMergeUpdateExecutor()
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(ctx)
	j := flujotest.Job{Name: "j", Calls: flujotest.NewCalls()}
	st := &flujotest.State{}
	b.ReportAllocs()
	for b.Loop() {
		e.Execute(ctx, j, st)
	}
}
