package flujotest

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/flujo/flujo"
)

// TestParallelJoinErrorNamesJoin: a join's error fails the Parallel with a
// *JoinError, and the run's error names the Parallel, not a branch that
// OnBranchFailure(Ignore) ignored before the join ran.
func TestParallelJoinErrorNamesJoin(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	res, err := run(t, e, JoinFailsAfterIgnored, Job{Name: "j", Calls: NewCalls()})
	var je *flujo.JoinError
	if !errors.As(err, &je) || je.Parallel != "fan" || !errors.Is(err, ErrJoinRefused) {
		t.Fatalf("err %v, want a *JoinError of parallel \"fan\" wrapping ErrJoinRefused", err)
	}
	var se *flujo.StepError
	if !errors.As(err, &se) || !reflect.DeepEqual(se.Path, []string{"joined", "fan"}) {
		t.Errorf("err %v, want a *StepError with path joined/fan", err)
	}
	if errors.Is(err, ErrBoom) {
		t.Errorf("err %v blames the ignored branch", err)
	}
	if s := only(t, res); s.Success || !strings.HasPrefix(s.Feedback, `parallel "fan": join: `) {
		t.Errorf("parallel result success %v feedback %q", s.Success, s.Feedback)
	}
}

// TestParallelFailureStateRule: a Parallel that fails (a branch failing
// under Propagate, its join failing) merges nothing: the state is as it was
// before the Parallel, whatever its branches wrote.
func TestParallelFailureStateRule(t *testing.T, f EngineFactory) {
	for _, tc := range []struct {
		name string
		node flujo.Node
		want error
	}{{"join fails", FanJoinFails, ErrJoinRefused}, {"branch fails", FanBranchFails, ErrBoom}} {
		e, _ := engine(t, f, defaults())
		st := &State{A: "orig", B: "orig", Log: []string{"kept"}}
		res, err := run(t, e, tc.node, Job{Name: "j", Calls: NewCalls()}, flujo.WithState(st))
		if !errors.Is(err, tc.want) || res.Success {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if st.A != "orig" || st.B != "orig" || !reflect.DeepEqual(st.Log, []string{"kept"}) {
			t.Errorf("%s: state %+v, want it untouched", tc.name, st)
		}
	}
}
