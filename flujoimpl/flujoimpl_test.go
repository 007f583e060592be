package flujoimpl_test

import (
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/flujoimpl"
)

func TestCoreOptionsOfDefaultsAndNilOptions(t *testing.T) {
	set := flujoimpl.CoreOptionsOf([]flujo.CoreOption{flujo.WithLogger(nil), nil})
	if set.Logger == nil || set.Clock == nil || set.Sink == nil {
		t.Errorf("CoreOptionsOf: %+v, want a logger, a clock and a sink", set)
	}
	if set := flujoimpl.CoreOptionsOf([]flujo.CoreOption{flujo.WithClock(nil)}); set.Clock != nil {
		t.Errorf("CoreOptionsOf(WithClock(nil)).Clock = %v, want nil", set.Clock)
	}
}

func TestExecOptionsOf(t *testing.T) {
	s := new(int)
	state, limits := flujoimpl.ExecOptionsOf([]flujo.ExecOption{nil, flujo.WithState(s), flujo.WithUsageLimits(flujo.UsageLimits{TotalCostLimit: 1})})
	if state != s || limits == nil || limits.TotalCostLimit != 1 {
		t.Errorf("ExecOptionsOf = %v, %v; want the state and a cost limit of 1", state, limits)
	}
	if state, limits := flujoimpl.ExecOptionsOf(nil); state != nil || limits != nil {
		t.Errorf("ExecOptionsOf(nil) = %v, %v; want nil, nil", state, limits)
	}
}
