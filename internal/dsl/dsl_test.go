package dsl

import (
	"slices"
	"testing"
	"time"
)

// TestTable checks that every option has a row: a name that finds it
// again, node kinds, and words for the kinds when it does not apply to
// all of them.
func TestTable(t *testing.T) {
	for o := Retries; int(o) < len(Rules); o++ {
		r := Rules[o]
		if r.Name == "" || Named(r.Name) != o {
			t.Errorf("option %d: name %q does not find it", o, r.Name)
		}
		if len(r.Kinds) == 0 {
			t.Errorf("%s applies to nothing", o)
		}
		if len(r.Kinds) < int(Map)+1 && r.Where == "" {
			t.Errorf("%s applies to some kinds only, but its row does not name them", o)
		}
		if r.Example == "" {
			t.Errorf("%s has no example", o)
		}
	}
	if Named("Step") != 0 || Named("") != 0 {
		t.Error("Named finds an option that is not one")
	}
}

// TestResolve checks the resolution rule: the last option of a kind
// wins, validators add up, CacheTTL caches, nil functions are passed over.
func TestResolve(t *testing.T) {
	opts := []struct {
		o Option
		v Value
	}{
		{Retries, Value{N: 3}},
		{Validate, Value{Type: "string"}},
		{BreakerCounts, Value{}},
		{Retries, Value{N: 0}},
		{Validate, Value{Nil: true}},
		{BreakerCounts, Value{Nil: true}},
		{CacheTTL, Value{D1: time.Minute}},
		{Validate, Value{Type: "string"}},
		{Fallback, Value{Node: "a"}},
		{Fallback, Value{Node: "b"}},
	}
	s := Resolve(len(opts), func(i int) (Option, Value) { return opts[i].o, opts[i].v })
	if s.Retries != 0 || !s.Cache || s.CacheTTL != time.Minute || s.BreakerCounts != 2 || s.Fallback != 9 || s.Default != -1 {
		t.Errorf("resolved %+v", s)
	}
	if !slices.Equal(s.Validate, []int{1, 7}) {
		t.Errorf("validators %v, want [1 7]", s.Validate)
	}
	d := Resolve(0, nil)
	if d.Retries != DefaultRetries || d.MaxLoops != DefaultMaxLoops || d.Concurrency != DefaultConcurrency || d.HasBackoff {
		t.Errorf("defaults %+v", d)
	}
}

// TestText checks the rendering fingerprints are built from.
func TestText(t *testing.T) {
	for _, c := range []struct {
		o    Option
		v    Value
		want string
	}{
		{Retries, Value{N: 2}, "Retries(2)"},
		{Backoff, Value{D1: time.Millisecond, D2: time.Second}, "Backoff(1ms, 1s)"},
		{Timeout, Value{D1: 200 * time.Millisecond}, "Timeout(200ms)"},
		{Fallback, Value{Node: "backup"}, `Fallback("backup")`},
		{Default, Value{Nil: true}, "Default(nil)"},
		{Validate, Value{Type: "main.Doc"}, "Validate[main.Doc]"},
		{Merge, Value{N: 1}, "Merge(ErrorOnConflict)"},
		{Merge, Value{N: 7}, "Merge(MergeStrategy(7))"},
		{OnBranchFailure, Value{N: 1}, "OnBranchFailure(Ignore)"},
		{Cache, Value{}, "Cache()"},
		{BreakerCounts, Value{}, "BreakerCounts()"},
	} {
		if got := c.o.Text(c.v); got != c.want {
			t.Errorf("%s.Text(%+v) = %q, want %q", c.o, c.v, got, c.want)
		}
	}
	if got, want := Fingerprint(StepS, "mark", "int", "string", []string{"Retries(2)", "Timeout(1s)"}), "state step|mark|int->string|Retries(2)|Timeout(1s)"; got != want {
		t.Errorf("Fingerprint = %q, want %q", got, want)
	}
}

// TestFindOrder checks the DSL's order: a node, its children, its
// fallback, then its default.
func TestFindOrder(t *testing.T) {
	type node struct {
		name          string
		kids          []*node
		fallback, def *node
	}
	runs := func(n *node) ([]*node, *node, *node) { return n.kids, n.fallback, n.def }
	tree := &node{name: "root",
		kids:     []*node{{name: "a"}, {name: "b", fallback: &node{name: "bf"}}},
		fallback: &node{name: "f"},
		def:      &node{name: "d"},
	}
	var order []string
	_, found := Find(tree, runs, func(n *node) bool { order = append(order, n.name); return false })
	if want := []string{"root", "a", "b", "bf", "f", "d"}; found || !slices.Equal(order, want) {
		t.Errorf("visited %v (found %v), want %v", order, found, want)
	}
	if n, ok := Find(tree, runs, func(n *node) bool { return n.name == "f" || n.name == "d" }); !ok || n.name != "f" {
		t.Errorf("found %v, want the fallback before the default", n)
	}
}
