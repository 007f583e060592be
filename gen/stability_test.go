package gen

import (
	"bytes"
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/schema"
)

// loadTriage loads the triage example's model; each call returns a fresh
// model the caller may change.
func loadTriage(t *testing.T) (*analysis.Model, *analysis.Package) {
	t.Helper()
	m, err := analysis.Load(context.Background(), analysis.LoadOptions{Dir: "..", Patterns: []string{"./examples/triage"}})
	if err != nil {
		t.Fatal(err)
	}
	return m, m.Packages[0]
}

// triageRoot returns the root of the triage pipeline.
func triageRoot(t *testing.T, pkg *analysis.Package) *analysis.Node {
	t.Helper()
	for _, p := range pkg.Pipelines {
		if p.Name == "triage" {
			return p.Root
		}
	}
	t.Fatal("no triage pipeline in examples/triage")
	return nil
}

// renumber assigns preorder IDs, as the analysis does.
func renumber(root *analysis.Node) {
	id := 0
	var walk func(*analysis.Node)
	walk = func(n *analysis.Node) {
		if n == nil {
			return
		}
		n.ID = id
		id++
		for _, ch := range n.Children {
			walk(ch)
		}
		walk(n.Options.Fallback)
		walk(n.Options.Default)
	}
	walk(root)
}

// changedLines returns the added and removed lines of a unified diff.
func changedLines(d []byte) (added, removed []string) {
	for _, l := range strings.Split(string(d), "\n") {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		case strings.HasPrefix(l, "+"):
			added = append(added, l[1:])
		case strings.HasPrefix(l, "-"):
			removed = append(removed, l[1:])
		}
	}
	return added, removed
}

var identRE = regexp.MustCompile(`\b[A-Za-z_][A-Za-z0-9_]*\b`)

// idents returns the set of identifiers (and words) in src.
func idents(src []byte) map[string]bool {
	set := map[string]bool{}
	for _, w := range identRE.FindAll(src, -1) {
		set[string(w)] = true
	}
	return set
}

// TestStableInsertFunc inserts a Func step in the middle of the triage
// pipeline: the diff stays small, no identifier of the old file goes, and
// every new identifier is the new step's.
func TestStableInsertFunc(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the triage example")
	}
	m, pkg := loadTriage(t)
	before, err := Generate(m, pkg, schema.Default())
	if err != nil {
		t.Fatal(err)
	}
	root := triageRoot(t, pkg)
	if len(root.Children) < 2 {
		t.Fatalf("triage pipeline has %d steps, want at least 2", len(root.Children))
	}
	prev := root.Children[0]
	typ := prev.Out
	fn := analysis.FuncRef{PkgPath: pkg.Path, Name: "Normalize"}
	norm := &analysis.Node{Kind: analysis.KindFunc, Name: "normalize", Pos: prev.Pos, In: typ, Out: typ,
		Options: analysis.Options{Retries: 0, MaxLoops: prev.Options.MaxLoops, Concurrency: 1},
		Step:    &analysis.Leaf{Shape: analysis.KindFunc, Func: fn, In: typ, Out: typ}}
	root.Children = append([]*analysis.Node{prev, norm}, root.Children[1:]...)
	renumber(root)
	after, err := Generate(m, pkg, schema.Default())
	if err != nil {
		t.Fatal(err)
	}
	d := diff.Diff("before", before, "after", after)
	added, removed := changedLines(d)
	t.Logf("inserting a Func step: +%d -%d lines", len(added), len(removed))
	if n := len(added) + len(removed); n > 60 {
		t.Errorf("inserting one Func step changed %d lines, want at most 60:\n%s", n, d)
	}
	old, cur := idents(before), idents(after)
	var gone, fresh []string
	for w := range old {
		if !cur[w] {
			gone = append(gone, w)
		}
	}
	// The kernel's field names (Pure, for the first Func) are not
	// generated identifiers.
	kernelField := map[string]bool{}
	for _, f := range append(append([]string{}, leafFields...), stepFields...) {
		kernelField[f] = true
	}
	for w := range cur {
		if !old[w] && !kernelField[w] && !strings.Contains(strings.ToLower(w), "normalize") {
			fresh = append(fresh, w)
		}
	}
	sort.Strings(gone)
	sort.Strings(fresh)
	if len(gone) > 0 {
		t.Errorf("inserting a Func step renamed or removed %v:\n%s", gone, d)
	}
	if len(fresh) > 0 {
		t.Errorf("inserting a Func step added identifiers not named after it: %v:\n%s", fresh, d)
	}
}

// TestStableOption changes one option of one step: only the lines that
// encode it change.
func TestStableOption(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the triage example")
	}
	m, pkg := loadTriage(t)
	before, err := Generate(m, pkg, schema.Default())
	if err != nil {
		t.Fatal(err)
	}
	var target *analysis.Node
	var find func(*analysis.Node)
	find = func(n *analysis.Node) {
		if n == nil || target != nil {
			return
		}
		if n.Kind == analysis.KindStep && n.Name == "crm" {
			target = n
			return
		}
		for _, ch := range n.Children {
			find(ch)
		}
		find(n.Options.Fallback)
		find(n.Options.Default)
	}
	find(triageRoot(t, pkg))
	if target == nil {
		t.Fatal("no step crm in the triage pipeline")
	}
	target.Options.Retries += 2
	after, err := Generate(m, pkg, schema.Default())
	if err != nil {
		t.Fatal(err)
	}
	d := diff.Diff("before", before, "after", after)
	added, removed := changedLines(d)
	// The step's Attempts setting.
	if len(added) != 1 || len(removed) != 1 {
		t.Errorf("changing Retries of one step changed +%d -%d lines, want 1 each:\n%s", len(added), len(removed), d)
	}
	for _, l := range append(added, removed...) {
		if !strings.Contains(l, "e.stepCrm.Attempts = ") {
			t.Errorf("changing Retries changed an unrelated line: %q", l)
		}
	}
}

// TestStableNames generates the same model twice to the same bytes, and
// gives steps whose names camel-case alike distinct identifiers.
func TestStableNames(t *testing.T) {
	build := func() []byte {
		b := newMB()
		p := b.pipe("Clash", b.pipeline("clash", b.step("a-b", "Echo", nil), b.step("a_b", "Echo", nil), b.step("a-b", "Echo", nil)))
		m, pkg := b.model("example.com/clash", "clash", p)
		out, err := Generate(m, pkg, schema.Default())
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	one, two := build(), build()
	if !bytes.Equal(one, two) {
		t.Errorf("one model generated twice differs:\n%s", diff.Diff("one", one, "two", two))
	}
	for _, id := range []string{"e.stepAB.Run(", "e.stepAB2.Run(", "e.stepAB3.Run(", "stepAB ", "stepAB2 ", "stepAB3 "} {
		if !bytes.Contains(one, []byte(id)) {
			t.Errorf("generated code lacks %q", id)
		}
	}
}

// TestNodeNames checks the naming rule: camel case, qualification by
// ancestors only where names clash, ranks only where ancestry ties, and
// reserved stems.
func TestNodeNames(t *testing.T) {
	leaf := func(name string) *analysis.Node { return &analysis.Node{Kind: analysis.KindStep, Name: name} }
	pipe := func(name string, ch ...*analysis.Node) *analysis.Node {
		return &analysis.Node{Kind: analysis.KindPipeline, Name: name, Children: ch}
	}
	fetchA, fetchB := leaf("fetch"), leaf("fetch")
	a, b := pipe("left", fetchA), pipe("right", fetchB)
	x, y := leaf("classify-cheap"), leaf("latency")
	twin1, twin2 := leaf("go"), leaf("go")
	fb := leaf("")
	x.Options.Fallback = fb
	root := pipe("main", a, b, x, y, twin1, twin2)
	got := nodeNames(root)
	want := map[*analysis.Node]string{
		root: "Main", a: "Left", b: "Right", fetchA: "LeftFetch", fetchB: "RightFetch",
		x: "ClassifyCheap", y: "LatencyStep", twin1: "Go", twin2: "Go2", fb: "Step",
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("stem of %s %q = %q, want %q", n.Kind, n.Name, got[n], w)
		}
	}
	// Adding a node elsewhere renames nothing.
	root.Children = append(root.Children, leaf("extra"))
	again := nodeNames(root)
	for n, w := range want {
		if again[n] != w {
			t.Errorf("after adding a step, stem of %q = %q, want %q", n.Name, again[n], w)
		}
	}
	for in, w := range map[string]string{"classify-cheap": "ClassifyCheap", "a_b": "AB", "2fa": "N2fa", "ünïcode x": "ÜnïcodeX", "--": ""} {
		if got := upperCamel(in); got != w {
			t.Errorf("upperCamel(%q) = %q, want %q", in, got, w)
		}
	}
}
