package flujo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRunChecksOutputTypeFirst: Run[Out] refuses an Out the node's declared
// output can never be before any step runs, naming the node and both types;
// an Out the output may be runs as usual.
func TestRunChecksOutputTypeFirst(t *testing.T) {
	c, _ := newTestCore(t, nil)
	var calls atomic.Int32
	p := Pipeline("scores", Step("score", func(_ context.Context, n int) (int, error) {
		calls.Add(1)
		return n * 2, nil
	}))
	ctx := context.Background()

	for name, run := range map[string]func() (*PipelineResult, error){
		"string":       func() (*PipelineResult, error) { _, res, err := Run[string](ctx, c, p, 1); return res, err },
		"fmt.Stringer": func() (*PipelineResult, error) { _, res, err := Run[fmt.Stringer](ctx, c, p, 1); return res, err },
	} {
		res, err := run()
		var ote *OutputTypeError
		if !errors.As(err, &ote) || res != nil || ote.Node != "scores" || ote.Declared != reflect.TypeFor[int]() {
			t.Errorf("Run[%s]: res %v err %v; want an *OutputTypeError naming %q and int, no result", name, res, err, "scores")
		} else if msg := err.Error(); !strings.Contains(msg, `"scores" outputs int`) || !strings.Contains(msg, name) {
			t.Errorf("Run[%s]: message %q names neither the pipeline's output type nor Out", name, msg)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the step ran %d times before the type error", n)
	}

	if out, _, err := Run[int](ctx, c, p, 2); err != nil || out != 4 {
		t.Errorf("Run[int] = %v, %v; want 4", out, err)
	}
	if out, _, err := Run[any](ctx, c, p, 3); err != nil || out != 6 {
		t.Errorf("Run[any] = %v, %v; want 6", out, err)
	}
	// An interface-typed output may hold an Out: only the run can tell.
	dyn := Func("dyn", func(n int) any { calls.Add(1); return n })
	if out, _, err := Run[int](ctx, c, dyn, 5); err != nil || out != 5 {
		t.Errorf("Run[int] of an any output holding 5 = %v, %v", out, err)
	}
	if _, _, err := Run[string](ctx, c, dyn, 5); err == nil || errors.As(err, new(*OutputTypeError)) {
		t.Errorf("Run[string] of an any output holding an int: %v; want the check after the run", err)
	}
}
