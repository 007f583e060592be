package flujotest

import (
	"errors"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/runtime"
)

// TestCacheKeyPanicFailsTheStep: an input's own Hash64 (with
// enable_algorithm_optimization) or MarshalJSON (without) is user code the
// executor calls to key a cached step. A panic there fails the step with a
// *flujo.PanicError and no attempt, as a panic of the step function fails
// it; it does not escape the run, from a Parallel branch's goroutine
// neither. An input whose key computes is cached as ever.
func TestCacheKeyPanicFailsTheStep(t *testing.T, f EngineFactory) {
	packed := cached()
	packed.CacheCompression, packed.EnableAlgorithmOptimization = true, false // as flujogen's "packed" variant
	for _, cfg := range []struct {
		name string
		cfg  runtime.OptimizationConfig
	}{{"Hash64", cached()}, {"MarshalJSON", packed}} {
		for _, tc := range []struct {
			name string
			node flujo.Node
			in   func(q Query) any
		}{
			{"step", CachedKeyPanics, func(q Query) any { return q }},
			{"field", CachedKeyPanicsNested, func(q Query) any { return HeldQuery{q} }},
			{"parallel branch", CachedKeyPanicsFan, func(q Query) any { return q }},
		} {
			t.Run(cfg.name+"/"+tc.name, func(t *testing.T) {
				e, _ := engine(t, f, cfg.cfg)
				calls := NewCalls()
				res, err := run(t, e, tc.node, tc.in(Query{Text: "q", Panics: true, Calls: calls}))
				var p *flujo.PanicError
				if !errors.As(err, &p) || p.Value != ErrKeyPanicked || p.Step != "answer" || len(p.Stack) == 0 || res.Success {
					t.Fatalf("%v, want the step failed by the key's *PanicError", err)
				}
				if tc.node != CachedKeyPanicsFan && (calls.Count("answer") != 0 || only(t, res).Attempts != 0) {
					t.Errorf("answer called %d times (%d attempts), want none", calls.Count("answer"), only(t, res).Attempts)
				}
				in := tc.in(Query{Text: "q", Calls: calls})
				before := calls.Count("answer")
				for i := range 2 {
					if _, err := run(t, e, tc.node, in); err != nil {
						t.Fatalf("run %d of a keyable input: %v", i+1, err)
					}
				}
				if tc.node != CachedKeyPanicsFan && calls.Count("answer")-before != 1 {
					t.Errorf("answer called %d times in 2 runs of one keyable input, want 1", calls.Count("answer")-before)
				}
			})
		}
	}
}
