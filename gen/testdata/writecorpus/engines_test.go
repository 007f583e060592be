//go:build writecorpus_engines

// This file runs only in the temporary module that gen's
// TestWriteCorpusEngines builds, beside the executors it generated there.

package writecorpus

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flujo/flujo"
)

// stateOptions compare states across engines: func fields by function,
// channels by what they hold, NaN equal to NaN.
var stateOptions = cmp.Options{
	cmp.Comparer(func(a, b IntFunc) bool {
		return (a == nil) == (b == nil) && (a == nil || reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer())
	}),
	cmp.Comparer(func(a, b IntChan) bool { return (a == nil) == (b == nil) && len(a) == len(b) }),
	cmpopts.EquateNaNs(),
}

// stepSummary is what the engines must agree on of a step result.
type stepSummary struct {
	Name     string
	Success  bool
	Attempts int
	Steps    []stepSummary
}

func summarize(rs []flujo.StepResult) []stepSummary {
	var out []stepSummary
	for _, r := range rs {
		out = append(out, stepSummary{r.Name, r.Success, r.Attempts, summarize(r.Steps)})
	}
	return out
}

// TestEngines runs every case under every strategy on both engines, from
// fresh equal states, and compares the results and the final states.
func TestEngines(t *testing.T) {
	ctx := context.Background()
	pipelines := map[string]flujo.Node{
		"CorpusMergeUpdate":     CorpusMergeUpdate,
		"CorpusErrorOnConflict": CorpusErrorOnConflict,
		"CorpusKeepFirst":       CorpusKeepFirst,
		"CorpusNoMerge":         CorpusNoMerge,
	}
	for v, n := range map[string]flujo.Node{
		"PairsMergeUpdate":     PairsMergeUpdate,
		"PairsErrorOnConflict": PairsErrorOnConflict,
		"PairsKeepFirst":       PairsKeepFirst,
		"PairsNoMerge":         PairsNoMerge,
	} {
		pipelines[v] = n
	}
	runs := 0
	for _, v := range []string{"CorpusMergeUpdate", "CorpusErrorOnConflict", "CorpusKeepFirst", "CorpusNoMerge", "PairsMergeUpdate", "PairsErrorOnConflict", "PairsKeepFirst", "PairsNoMerge"} {
		build := FlujogenRunners()[v]
		gen, err := build()
		if err != nil {
			t.Fatal(err)
		}
		defer gen.Close(ctx)
		core, err := flujo.NewExecutorCore(gen.Config())
		if err != nil {
			t.Fatal(err)
		}
		defer core.Close(ctx)
		names := PairCases
		if strings.HasPrefix(v, "Corpus") {
			names = nil
			for _, c := range Cases {
				names = append(names, c.Name)
			}
		}
		for _, name := range names {
			in := In{Case: name, N: 1}
			cs, gs := NewState(), NewState()
			want, werr := core.Execute(ctx, pipelines[v], in, flujo.WithState(cs))
			got, gerr := gen.Run(ctx, in, flujo.WithState(gs))
			runs++
			var diffs []string
			if (werr == nil) != (gerr == nil) {
				diffs = append(diffs, fmt.Sprintf("errors: core %v, generated %v", werr, gerr))
			}
			if want != nil && got != nil {
				if want.Success != got.Success {
					diffs = append(diffs, fmt.Sprintf("success: core %v, generated %v", want.Success, got.Success))
				}
				if d := cmp.Diff(want.Output, got.Output); d != "" {
					diffs = append(diffs, "output (-core +generated):\n"+d)
				}
				if d := cmp.Diff(summarize(want.Steps), summarize(got.Steps)); d != "" {
					diffs = append(diffs, "steps (-core +generated):\n"+d)
				}
			}
			if d := cmp.Diff(cs, gs, stateOptions); d != "" {
				diffs = append(diffs, "final state (-core +generated):\n"+d)
			}
			for _, d := range diffs {
				t.Errorf("%s in %s: %s", name, v, d)
			}
		}
	}
	fmt.Printf("writecorpus: %d cases and %d pairs, %d runs on each engine\n", len(Cases), len(PairCases), runs)
}
