package analysis_test

import (
	"context"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flujo/flujo/gen/testdata/writecorpus"
	"github.com/flujo/flujo/internal/analysis"
)

// TestWriteCorpusSound is the cheap half of the write-set corpus (the
// engines' half is gen's TestWriteCorpusEngines): each case of
// gen/testdata/writecorpus runs on a fresh state, and every top-level field
// it changes must be in its static write set; cases named Read* must have
// an empty one. A new blind spot of the analysis shows up here without
// building any executor. To add a case, see gen/writecorpus_test.go.
func TestWriteCorpusSound(t *testing.T) {
	m, err := analysis.Load(context.Background(), analysis.LoadOptions{Dir: "../..", Patterns: []string{"./gen/testdata/writecorpus"}})
	if err != nil {
		t.Fatal(err)
	}
	static := map[string]*analysis.WriteSet{}
	for _, pl := range m.Packages[0].Pipelines {
		if pl.Var != "CorpusNoMerge" { // runs the cases themselves
			continue
		}
		var walk func(n *analysis.Node)
		walk = func(n *analysis.Node) {
			if n.Step != nil && n.Step.Writes != nil {
				static[n.Step.Func.Name] = n.Step.Writes
			}
			for _, c := range n.Children {
				walk(c)
			}
		}
		walk(pl.Root)
	}
	if len(static) != len(writecorpus.Cases) {
		t.Fatalf("%d write sets for %d cases", len(static), len(writecorpus.Cases))
	}
	st := reflect.TypeFor[writecorpus.State]()
	for _, c := range writecorpus.Cases {
		ws := static[c.Name]
		if ws == nil {
			t.Errorf("%s: no write set", c.Name)
			continue
		}
		if strings.HasPrefix(c.Name, "Read") && (ws.All || len(ws.Fields) > 0) {
			t.Errorf("%s only reads, but its write set is all=%v %v: %+v", c.Name, ws.All, ws.Fields, ws.Writes)
		}
		orig, s := writecorpus.NewState(), writecorpus.NewState()
		func() {
			defer func() { recover() }() // a case may panic after writing
			c.Fn(context.Background(), writecorpus.In{Case: c.Name, N: 1}, s)
		}()
		for i := range st.NumField() {
			f := st.Field(i).Name
			if fieldEqual(reflect.ValueOf(orig).Elem().Field(i), reflect.ValueOf(s).Elem().Field(i)) {
				continue
			}
			if !ws.All && !slices.Contains(ws.Fields, f) {
				t.Errorf("%s writes %s, which its write set %v misses", c.Name, f, ws.Fields)
			}
		}
	}
}

// fieldEqual compares a field of two fresh states as DeepEqual does, but
// funcs by function and NaN equal to itself. A channel counts as unchanged
// while it is the same channel: both engines share it between copies, so
// what goes through it is no write of the field.
func fieldEqual(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Func:
		return a.Pointer() == b.Pointer()
	case reflect.Chan:
		return a.IsNil() == b.IsNil() && a.Cap() == b.Cap()
	case reflect.Float64:
		return a.Float() == b.Float() || math.IsNaN(a.Float()) && math.IsNaN(b.Float())
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}
