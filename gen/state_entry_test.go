package gen

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/flujotest"
	gendefaults "github.com/flujo/flujo/gen/testdata/equiv/defaults"
	"github.com/flujo/flujo/runtime"
)

// TestExecuteResultStateGivenOnce: a generated executor's ExecuteResult
// takes its state as st or, st nil, as flujo.WithState, the ExecutorCore's
// only way. Given both, they must be the same pointer: two different states
// fail the run before any step, with neither changed, instead of silently
// running on st. WithState of another type fails with a *StateTypeError, as
// in the ExecutorCore, st given or not.
func TestExecuteResultStateGivenOnce(t *testing.T) {
	ctx := context.Background()
	e, err := gendefaults.NewFanMergeUpdateExecutor()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	j := flujotest.Job{Name: "j", Calls: flujotest.NewCalls()}
	entries := map[string]func(st *flujotest.State, opts ...flujo.ExecOption) (*flujo.PipelineResult, error){
		"ExecuteResult": func(st *flujotest.State, opts ...flujo.ExecOption) (*flujo.PipelineResult, error) {
			return e.ExecuteResult(ctx, j, st, opts...)
		},
		"ExecuteWithMonitoring": func(st *flujotest.State, opts ...flujo.ExecOption) (*flujo.PipelineResult, error) {
			res, _, err := e.ExecuteWithMonitoring(ctx, j, st, opts...)
			return res, err
		},
	}
	for name, run := range entries {
		t.Run(name, func(t *testing.T) {
			st, other := &flujotest.State{}, &flujotest.State{}
			res, err := run(st, flujo.WithState(other))
			if err == nil || res != nil || !strings.Contains(err.Error(), "the state is given twice") {
				t.Fatalf("st and another WithState: %v (result %v), want the state-given-twice error", err, res)
			}
			if st.A != "" || other.A != "" {
				t.Fatalf("states %+v and %+v after a refused run, want both untouched", st, other)
			}
			if _, err := run(st, flujo.WithState(st)); err != nil || st.A != "a2" {
				t.Fatalf("st and WithState(st): %v, state %+v; want the run on st", err, st)
			}
			if _, err := run(nil, flujo.WithState(other)); err != nil || other.A != "a2" {
				t.Fatalf("WithState alone: %v, state %+v; want the run on WithState's", err, other)
			}
			for _, st := range []*flujotest.State{nil, {}} {
				var te *runtime.StateTypeError
				if _, err := run(st, flujo.WithState(new(int))); !errors.As(err, &te) {
					t.Fatalf("WithState(*int), st %v: %v, want a *StateTypeError", st, err)
				}
			}
		})
	}
	// The ExecutorCore refuses a state of another type alike.
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(ctx)
	var te *runtime.StateTypeError
	if _, err := core.Execute(ctx, flujotest.FanMergeUpdate, j, flujo.WithState(new(int))); !errors.As(err, &te) {
		t.Fatalf("ExecutorCore, WithState(*int): %v, want a *StateTypeError", err)
	}
}
