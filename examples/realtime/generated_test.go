package realtime

import (
	"context"
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
	var responses [2][]exchange
	for i, exec := range []Executor{CoreExecutor{core}, generatedExecutor{gen}} {
		up, err := NewUpstream(0)
		if err != nil {
			t.Fatal(err)
		}
		h, err := NewHandlerFor(exec, up)
		if err != nil {
			t.Fatal(err)
		}
		responses[i] = sendDemo(h, up)
	}
	for i, want := range responses[0] {
		if got := responses[1][i]; got.code != want.code || got.retryAfter != want.retryAfter || string(got.reply) != string(want.reply) {
			t.Errorf("request %d (%s): generated %d %s, core %d %s", i+1, want.note, got.code, got.reply, want.code, want.reply)
		}
	}
	for _, r := range statscmp.Counters(core.OptimizationStats(), gen.OptimizationStats()) {
		if r.Left != r.Right {
			t.Errorf("%s: ExecutorCore %s, generated %s", r.Name, r.Left, r.Right)
		}
	}
}
