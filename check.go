package flujo

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/flujo/flujo/internal/dsl"
)

// DeclarationError lists every problem found in a declaration. The DSL's
// constructors and With panic with it; Check returns it.
type DeclarationError struct {
	// Problems are the messages, in the order the declaration was walked,
	// each naming the node and the types involved.
	Problems []string
}

// Error describes the problem.
func (e *DeclarationError) Error() string {
	if len(e.Problems) == 1 {
		return "flujo: " + e.Problems[0]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "flujo: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  flujo: ")
		b.WriteString(p)
	}
	return b.String()
}

// Check walks a declaration and returns a *DeclarationError listing every
// problem: outputs that do not fit the next input, join parameters that do
// not fit the branch outputs, loop bodies whose input and output differ,
// branch cases of different types, duplicate names, two state types, options
// on the wrong kind of node, invalid option values and fallbacks of other
// types, too deep or leading back into their chain. It returns nil for a
// sound declaration. Nodes built by the DSL have passed Check already.
func Check(n Node) error {
	if n == nil {
		return &DeclarationError{Problems: []string{"node is nil"}}
	}
	c := &checker{root: n, names: map[string]Node{}, checkedChain: map[*nodeBase]bool{}, cut: map[*nodeBase]bool{}}
	c.visit(n)
	if len(c.problems) == 0 {
		return nil
	}
	return &DeclarationError{Problems: c.problems}
}

type checker struct {
	root     Node
	problems []string
	names    map[string]Node // the first node of each name
	// state is the first state type seen, stateStep the step that uses it.
	state     reflect.Type
	stateStep Node
	// checkedChain marks nodes whose fallback chain has been checked.
	checkedChain map[*nodeBase]bool
	// cut marks fallback nodes that close a loop; the walk stops there.
	cut map[*nodeBase]bool
}

func (c *checker) addf(n Node, format string, args ...any) {
	c.problems = append(c.problems, describe(n)+": "+fmt.Sprintf(format, args...))
}

// describe names a node as messages do: `step "classify"`, `parallel "enrich"`.
func describe(n Node) string {
	b := n.base()
	return dsl.Describe(b.kind, b.name)
}

func typeName(t reflect.Type) string {
	if t == nil {
		return "nothing"
	}
	return t.String()
}

// fits reports whether a value of type out may be passed where in is expected.
func fits(out, in reflect.Type) bool {
	return out != nil && in != nil && out.AssignableTo(in)
}

func (c *checker) visit(n Node) {
	b := n.base()
	if p := dsl.NameProblem(b.name); p != "" {
		c.addf(n, "%s", p)
	} else if first, ok := c.names[b.name]; ok {
		c.addf(n, "%s", dsl.DuplicateName(b.name, describe(first), "", describe(c.root)))
	} else {
		c.names[b.name] = n
	}
	for _, p := range b.problems {
		c.addf(n, "%s", p)
	}
	c.options(n)
	switch n := n.(type) {
	case *leafNode:
		if n.kind == kindStepS {
			c.stateType(n, n.state)
		}
	case *pipelineNode:
		c.pipeline(n)
	case *parallelNode:
		c.parallel(n)
	case *loopNode:
		c.loop(n)
	case *branchNode:
		c.branch(n)
	case *mapNode:
		c.mapNode(n)
	}
	for _, o := range b.opts {
		if (o.kind == dsl.Fallback || o.kind == dsl.Default) && o.node != nil && !c.cut[o.node.base()] {
			c.visit(o.node)
		}
	}
}

func (c *checker) stateType(n Node, s reflect.Type) {
	if c.state == nil {
		c.state, c.stateStep = s, n
		return
	}
	if c.state != s {
		c.addf(n, "%s", dsl.TwoStates(typeName(s), describe(c.stateStep), "", typeName(c.state)))
	}
}

func (c *checker) options(n Node) {
	b := n.base()
	for _, o := range b.opts {
		if o.kind == 0 {
			c.addf(n, "%s", dsl.ZeroOption)
			continue
		}
		if !o.kind.AppliesTo(b.kind) {
			c.addf(n, "%s", dsl.NotApplicable(o.kind, b.kind))
			continue
		}
		v := o.value()
		if msg := dsl.Invalid(o.kind, v); msg != "" {
			c.addf(n, "%s", msg)
		}
		switch o.kind {
		case dsl.BreakerCounts, dsl.Default:
			if v.Nil {
				c.addf(n, "%s", dsl.NilArg(o.kind))
			}
		case dsl.Validate:
			if v.Nil {
				c.addf(n, "%s", dsl.NilArg(o.kind))
			} else if b.out != nil && !fits(b.out, o.vtype) {
				c.addf(n, "%s", dsl.ValidateType(typeName(o.vtype), typeName(b.out)))
			}
		case dsl.Fallback:
			c.fallback(n, o.node)
		}
	}
}

func (c *checker) fallback(n Node, fb Node) {
	if fb == nil {
		c.addf(n, "%s", dsl.NilArg(dsl.Fallback))
		return
	}
	b, f := n.base(), fb.base()
	if f.in != b.in || f.out != b.out {
		c.addf(n, "%s", dsl.FallbackTypes(f.name, typeName(f.in), typeName(f.out), typeName(b.in), typeName(b.out)))
	}
	if c.checkedChain[b] {
		return
	}
	chain := []string{b.name}
	for cur := fb; cur != nil; cur = cur.base().set.fallback {
		cb := cur.base()
		c.checkedChain[cb] = true
		for _, name := range chain {
			if name == cb.name {
				c.cut[cb] = true
				c.addf(n, "%s", dsl.FallbackLoop(append(chain, cb.name)))
				return
			}
		}
		chain = append(chain, cb.name)
		if len(chain)-1 > MaxFallbackDepth {
			c.addf(n, "%s", dsl.FallbackTooDeep(chain))
			return
		}
	}
}

func (c *checker) pipeline(n *pipelineNode) {
	if len(n.nodes) == 0 {
		c.addf(n, "%s", dsl.NoSteps)
		return
	}
	var prev Node
	for i, s := range n.nodes {
		if s == nil {
			c.addf(n, "%s", dsl.NodeNil(i+1))
			prev = nil
			continue
		}
		c.visit(s)
		if prev != nil && !fits(prev.base().out, s.base().in) {
			c.addf(s, "%s", dsl.InputMismatch(typeName(s.base().in), describe(prev), typeName(prev.base().out)))
		}
		prev = s
	}
}

var errorType = reflect.TypeFor[error]()

func (c *checker) parallel(n *parallelNode) {
	if len(n.branches) == 0 {
		c.addf(n, "%s", dsl.NoBranches)
	}
	for i, br := range n.branches {
		if br == nil {
			c.addf(n, "%s", dsl.BranchNil(i+1))
			continue
		}
		c.visit(br)
		if n.in != nil && !fits(n.in, br.base().in) {
			c.addf(br, "%s", dsl.BranchInput(typeName(br.base().in), describe(n), describe(n.branches[0]), typeName(n.in)))
		}
	}
	if !n.join.IsValid() {
		c.addf(n, "%s", dsl.JoinNil)
		return
	}
	t := n.join.Type()
	if t.Kind() != reflect.Func {
		c.addf(n, "%s", dsl.JoinNotFunc(t.String()))
		return
	}
	if n.join.IsNil() {
		c.addf(n, "%s", dsl.JoinNil)
		return
	}
	if t.IsVariadic() {
		c.addf(n, "%s", dsl.JoinVariadic)
		return
	}
	if t.NumOut() == 0 || t.NumOut() > 2 || (t.NumOut() == 2 && t.Out(1) != errorType) {
		c.addf(n, "%s", dsl.JoinResults(t.String()))
	}
	if t.NumIn() != len(n.branches) {
		c.addf(n, "%s", dsl.JoinArity(t.NumIn(), len(n.branches)))
		return
	}
	for i, br := range n.branches {
		if br != nil && !fits(br.base().out, t.In(i)) {
			c.addf(br, "%s", dsl.JoinParam(typeName(br.base().out), i+1, describe(n), typeName(t.In(i))))
		}
	}
}

func (c *checker) loop(n *loopNode) {
	if n.body == nil {
		c.addf(n, "%s", dsl.BodyNil)
		return
	}
	c.visit(n.body)
	b := n.body.base()
	if b.in != n.in || b.out != n.out {
		c.addf(n.body, "%s", dsl.LoopBody(typeName(b.in), typeName(b.out), describe(n), typeName(n.in)))
	}
}

func (c *checker) branch(n *branchNode) {
	if len(n.keys) == 0 && n.set.def == nil {
		c.addf(n, "%s", dsl.NoCases)
	}
	var first Node
	check := func(label string, cs Node) {
		if cs == nil {
			c.addf(n, "%s", dsl.CaseNil(label))
			return
		}
		c.visit(cs)
		b := cs.base()
		if !fits(n.in, b.in) {
			c.addf(cs, "%s", dsl.CaseInput(label, describe(n), typeName(b.in), typeName(n.in)))
		}
		if first == nil {
			first = cs
		} else if b.out != first.base().out {
			c.addf(cs, "%s", dsl.CaseOutput(label, describe(n), typeName(b.out), describe(first), typeName(first.base().out)))
		}
	}
	for _, k := range n.keys {
		check(dsl.CaseLabel(k), n.cases[k])
	}
	if d := n.set.def; d != nil {
		c.cut[d.base()] = true // checked here, not again as an option
		check("Default", d)
	}
}

func (c *checker) mapNode(n *mapNode) {
	if n.body == nil {
		c.addf(n, "%s", dsl.BodyNil)
		return
	}
	c.visit(n.body)
	b := n.body.base()
	if b.in != n.in.Elem() || b.out != n.out.Elem() {
		c.addf(n.body, "%s", dsl.MapBody(typeName(b.in), typeName(b.out), describe(n), typeName(n.in.Elem()), typeName(n.out.Elem())))
	}
	if n.set.concurrency > 1 && usesState(n.body) {
		c.addf(n, "%s", dsl.ConcurrentState(int64(n.set.concurrency)))
	}
}

// runs returns what n may run besides itself, as dsl.Find walks it.
func runs(n Node) (kids []Node, fallback, def Node) {
	b := n.base()
	return children(n), b.set.fallback, b.set.def
}

// stateStep returns the first StepS in n, its fallbacks and defaults
// included, in the DSL's order (dsl.Find).
func stateStep(n Node) (*leafNode, bool) {
	s, ok := dsl.Find(n, runs, func(n Node) bool { return n.base().kind == kindStepS })
	if !ok {
		return nil, false
	}
	return s.(*leafNode), true
}

// usesState reports whether any StepS runs in n, its fallbacks and defaults
// included.
func usesState(n Node) bool {
	_, ok := stateStep(n)
	return ok
}

// stateTypeOf returns the state type S of the first StepS in n, or nil.
func stateTypeOf(n Node) reflect.Type {
	if s, ok := stateStep(n); ok {
		return s.state
	}
	return nil
}
