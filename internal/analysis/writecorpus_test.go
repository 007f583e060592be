package analysis_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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
			if cmp.Equal(reflect.ValueOf(orig).Elem().Field(i).Interface(), reflect.ValueOf(s).Elem().Field(i).Interface(), fieldOptions) {
				continue
			}
			if !ws.All && !slices.Contains(ws.Fields, f) {
				t.Errorf("%s writes %s, which its write set %v misses", c.Name, f, ws.Fields)
			}
		}
	}
}

// fieldOptions compare a field of two fresh states: funcs by function, NaN
// equal to itself. A channel counts as unchanged while it is the same
// channel: both engines share it between copies, so what goes through it is
// no write of the field.
var fieldOptions = cmp.Options{
	cmp.Comparer(func(a, b writecorpus.IntFunc) bool {
		return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer()
	}),
	cmp.Comparer(func(a, b writecorpus.IntChan) bool { return (a == nil) == (b == nil) && cap(a) == cap(b) }),
	cmpopts.EquateNaNs(),
}
