package analysis

import "testing"

// TestContextUnused checks which step functions of testdata/ok/ctxuse are
// found to ignore their context.
func TestContextUnused(t *testing.T) {
	m, err := load(t, LoadOptions{Patterns: []string{"./ok/ctxuse"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, pl := range m.Packages[0].Pipelines {
		var walk func(n *Node)
		walk = func(n *Node) {
			if n.Step != nil {
				got[n.Name] = n.Step.ContextUnused
			}
			for _, c := range n.Children {
				walk(c)
			}
		}
		walk(pl.Root)
	}
	want := map[string]bool{
		"blank": true, "unnamed": true, "ignored": true, "shadowed": true,
		"stateful": true, "double": true, "generic": true,
		"checks": false, "passes": false, "keeps": false,
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("step %q not found", name)
			continue
		}
		if g != w {
			t.Errorf("step %q: ContextUnused = %v, want %v", name, g, w)
		}
	}
}
