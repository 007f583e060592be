package realtime

import (
	"context"
	"io"
	"reflect"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/statscmp"
)

// TestGeneratedMatchesCore sends the demo requests to a handler on the
// ExecutorCore and to one on the generated AnswerExecutor, whose flujo.json
// must give the profile's configuration: same counters.
func TestGeneratedMatchesCore(t *testing.T) {
	ctx := context.Background()
	cfg, err := Config()
	if err != nil {
		t.Fatal(err)
	}
	core, err := flujo.NewExecutorCore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(ctx)
	gen, err := NewAnswerExecutor()
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close(ctx)
	if got := gen.OptimizationConfig(); !reflect.DeepEqual(got, cfg) {
		t.Fatalf("flujo.json gives %+v, the profile %+v: regenerate after changing either", got, cfg)
	}
	for _, exec := range []Executor{CoreExecutor{core}, generatedExecutor{gen}} {
		up, err := NewUpstream(0)
		if err != nil {
			t.Fatal(err)
		}
		h, err := NewHandlerFor(exec, up)
		if err != nil {
			t.Fatal(err)
		}
		if err := runDemo(io.Discard, h, up); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range statscmp.Rows(core.OptimizationStats(), gen.OptimizationStats()) {
		if r.Left != r.Right {
			t.Errorf("%s: ExecutorCore %s, generated %s", r.Name, r.Left, r.Right)
		}
	}
}
