package analysis

import (
	"slices"
	"testing"
)

// TestStateWrites checks the write set found for each StepS function of
// testdata/ok/writes.
func TestStateWrites(t *testing.T) {
	m, err := load(t, LoadOptions{Patterns: []string{"./ok/writes"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*WriteSet{}
	for _, pl := range m.Packages[0].Pipelines {
		var walk func(n *Node)
		walk = func(n *Node) {
			if n.Step != nil && n.Step.Writes != nil {
				got[n.Step.Func.Name] = n.Step.Writes
			}
			for _, c := range n.Children {
				walk(c)
			}
		}
		walk(pl.Root)
	}
	every := []string{"Count", "Hits", "Index", "Log", "Meta", "Names", "Summary", "Unused"}
	tests := []struct {
		fn     string
		all    bool
		fields []string
	}{
		{"Assign", false, []string{"Count", "Names", "Summary"}},
		{"Elements", false, []string{"Index", "Meta", "Names"}},
		{"Methods", false, []string{"Hits"}},
		{"Copies", false, []string{}},
		{"Pointer", false, []string{"Count"}},
		{"Escapes", true, every},
		{"FieldEscapes", false, []string{"Meta"}},
		{"Reads", false, []string{}},
		{"Unnamed", false, []string{}},
		{"Stores", true, every},
		{"Ranges", false, []string{"Meta", "Names"}},
		{"Closure", false, []string{"Hits"}},
		{"Helper", false, []string{"Unused"}},
		{"Copied", false, []string{"Log", "Names"}},
		{"Whole", true, every},
	}
	for _, tt := range tests {
		ws := got[tt.fn]
		if ws == nil {
			t.Errorf("%s: no write set", tt.fn)
			continue
		}
		if ws.All != tt.all || !slices.Equal(ws.Fields, tt.fields) {
			t.Errorf("%s: all=%v fields=%v, want all=%v fields=%v (writes %+v)", tt.fn, ws.All, ws.Fields, tt.all, tt.fields, ws.Writes)
		}
		for _, w := range ws.Writes {
			if w.Pos == "" {
				t.Errorf("%s: write without a position: %+v", tt.fn, w)
			}
		}
	}
}

// TestSoundStateWrites checks the write sets of testdata/ok/soundwrites,
// whose steps write in the ways an unsound analysis misses.
func TestSoundStateWrites(t *testing.T) {
	m, err := load(t, LoadOptions{Patterns: []string{"./ok/soundwrites"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*WriteSet{}
	for _, pl := range m.Packages[0].Pipelines {
		for _, n := range pl.Root.Children {
			if n.Step != nil && n.Step.Writes != nil {
				got[n.Step.Func.Name] = n.Step.Writes
			}
		}
	}
	every := []string{"Buf", "Count", "Doc", "Loud", "Names", "Other", "Plain", "Reserved", "Untouched"}
	tests := []struct {
		fn     string
		all    bool
		fields []string
	}{
		{"MethodValuePassed", false, []string{"Reserved"}},
		{"MethodValueStored", false, []string{"Reserved"}},
		{"MethodValueDeferred", false, []string{"Reserved"}},
		{"MethodValueGoroutine", false, []string{"Reserved"}},
		{"PointerConverted", false, []string{"Count"}},
		{"PointerBoxed", false, []string{"Count"}},
		{"PointerUnsafe", true, every},
		{"PointerReaimed", false, []string{"Count", "Other"}},
		{"SubSliceAppend", false, []string{"Plain"}},
		{"FmtRunsString", false, []string{"Loud"}},
		{"JSONRunsMarshal", false, []string{"Doc"}},
		{"FprintfWrites", false, []string{"Buf"}},
		{"ReadsOnly", false, []string{}},
	}
	for _, tt := range tests {
		ws := got[tt.fn]
		if ws == nil {
			t.Errorf("%s: no write set", tt.fn)
			continue
		}
		if ws.All != tt.all || !slices.Equal(ws.Fields, tt.fields) {
			t.Errorf("%s: all=%v fields=%v, want all=%v fields=%v (writes %+v)", tt.fn, ws.All, ws.Fields, tt.all, tt.fields, ws.Writes)
		}
		for _, w := range ws.Writes {
			if w.Pos == "" || ((w.Kind == WriteMay || w.Kind == WriteAll) && w.Reason == "") {
				t.Errorf("%s: write without a position or reason: %+v", tt.fn, w)
			}
		}
	}
}
