package options

import (
	"testing"

	"github.com/flujo/flujo/runtime"
)

type execOption func(*Exec)

// TestApplyExecWithoutOptionsAllocatesNothing: most runs give no options,
// and their settings stay on the caller's stack.
func TestApplyExecWithoutOptionsAllocatesNothing(t *testing.T) {
	var e Exec
	if n := testing.AllocsPerRun(100, func() { e = ApplyExec[execOption](nil) }); n != 0 {
		t.Errorf("ApplyExec without options: %v allocations a call; want 0", n)
	}
	if e.Budget != nil || e.Errs != nil {
		t.Errorf("ApplyExec without options = %+v; want the zero settings", e)
	}
}

// TestApplyExecAppliesInOrder: every option is applied, in order, nil ones
// skipped.
func TestApplyExecAppliesInOrder(t *testing.T) {
	b := &runtime.SharedBudget{}
	var seen []int
	e := ApplyExec([]execOption{
		func(e *Exec) { seen = append(seen, 1) },
		nil,
		func(e *Exec) { seen = append(seen, 2); e.Budget = b },
	})
	if len(seen) != 2 || seen[0] != 1 || seen[1] != 2 || e.Budget != b {
		t.Errorf("applied %v, budget %p; want [1 2] and %p", seen, e.Budget, b)
	}
}
