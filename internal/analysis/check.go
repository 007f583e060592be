package analysis

import (
	"fmt"
	"go/types"

	"github.com/flujo/flujo/internal/dsl"
)

// The checks apply the DSL's rule table (internal/dsl) as the
// declaration-time checks (flujo.Check) do, in the same words, so a
// declaration flujogen accepts does not panic at package init, and add
// what only the source shows: state writes, hashability, and what
// generated code can call. Errors point at the offending node's place.

// MaxFallbackDepth is the longest chain of fallbacks a node may declare.
const MaxFallbackDepth = dsl.MaxFallbackDepth

// checker checks one pipeline declaration.
type checker struct {
	a    *analyzer
	root *nodeBuild
	// names maps each name to the first node that has it.
	names map[string]*nodeBuild
	// state is the first state type seen, stateStep the StepS using it.
	state     types.Type
	stateStep *nodeBuild
	cut       map[*nodeBuild]bool
}

func (a *analyzer) check(root *nodeBuild) {
	c := &checker{a: a, root: root, names: map[string]*nodeBuild{}, cut: map[*nodeBuild]bool{}}
	c.visit(root)
}

func (c *checker) errorf(p position, n *nodeBuild, format string, args ...any) {
	c.a.errorf(p, "%s: %s", n.describe(), fmt.Sprintf(format, args...))
}

func (c *checker) ts(t types.Type, n *nodeBuild) string { return typeString(t, n.pkg) }

// fits reports whether a value of type out may be passed where in is
// expected.
func fits(out, in types.Type) bool {
	return out != nil && in != nil && types.AssignableTo(out, in)
}

func same(x, y types.Type) bool {
	return x != nil && y != nil && types.Identical(x, y)
}

func (c *checker) visit(n *nodeBuild) {
	if p := dsl.NameProblem(n.name); p != "" {
		c.errorf(n.use, n, "%s", p)
	} else if prev := c.names[n.name]; prev != nil {
		c.errorf(n.use, n, "%s", dsl.DuplicateName(n.name, prev.describe(), prev.use.String(), c.root.describe()))
	} else {
		c.names[n.name] = n
	}
	c.options(n)
	switch n.kind {
	case KindStep, KindStepS, KindFunc:
		c.leaf(n)
	case KindPipeline:
		c.pipeline(n)
	case KindParallel:
		c.parallel(n)
	case KindLoop:
		c.loop(n)
	case KindBranch:
		c.branch(n)
	case KindMap:
		c.mapNode(n)
	}
	for _, o := range n.opts {
		if (o.fn == dsl.Fallback || o.fn == dsl.Default) && o.node != nil && !c.cut[o.node] {
			c.visit(o.node)
		}
	}
}

// leaf checks a step's function and types.
func (c *checker) leaf(n *nodeBuild) {
	if n.fn.isNil {
		c.errorf(n.fn.pos, n, "function is nil")
	}
	if n.kind == KindStepS {
		c.stateType(n)
	}
	c.nameable(n, n.fn.pos, "input", n.in)
	c.nameable(n, n.fn.pos, "output", n.out)
	if n.kind == KindStepS {
		c.nameable(n, n.fn.pos, "state", n.state)
	}
}

// nameable reports a type that generated code in the pipeline's package
// cannot name: an unexported type of another package.
func (c *checker) nameable(n *nodeBuild, p position, what string, t types.Type) {
	if t == nil {
		return
	}
	if obj := unnameable(t, c.root.pkg.path, map[types.Type]bool{}); obj != nil {
		uses := ""
		if !types.Identical(obj.Type(), t) {
			uses = " uses " + obj.Pkg().Name() + "." + obj.Name() + ", which"
		}
		c.errorf(p, n, "unsupported signature: the %s type %s%s is not exported from package %s, so code generated in package %s cannot name it; export the type",
			what, c.ts(t, n), uses, obj.Pkg().Path(), c.root.pkg.pkg.Name)
	}
}

func (c *checker) stateType(n *nodeBuild) {
	if c.state == nil {
		c.state, c.stateStep = n.state, n
		return
	}
	if !same(c.state, n.state) {
		c.errorf(n.use, n, "%s", dsl.TwoStates(c.ts(n.state, n), c.stateStep.describe(), c.stateStep.use.String(), c.ts(c.state, n)))
	}
}

// value returns the option's arguments as the rule table reads them.
func (o *optionVal) value() dsl.Value {
	v := dsl.Value{N: o.n, D1: o.d1, D2: o.d2, Type: reflectString(o.vtype)}
	switch o.fn {
	case dsl.Fallback, dsl.Default:
		v.Nil = o.node == nil
		if o.node != nil {
			v.Node = o.node.name
		}
	case dsl.Validate:
		v.Nil = o.validate == nil || o.validate.isNil
	case dsl.BreakerCounts:
		v.Nil = o.counts == nil || o.counts.isNil || o.counts.bad
	}
	return v
}

func (c *checker) options(n *nodeBuild) {
	for _, o := range n.opts {
		opt := o.fn
		if !opt.AppliesTo(n.kind.dsl()) {
			c.errorf(o.pos, n, "%s", dsl.NotApplicable(opt, n.kind.dsl()))
			continue
		}
		if o.bad {
			continue
		}
		if msg := dsl.Invalid(opt, o.value()); msg != "" {
			c.errorf(o.pos, n, "%s", msg)
		}
		switch o.fn {
		case dsl.CacheTTL, dsl.Cache:
			c.cacheable(n, o)
		case dsl.BreakerCounts:
			if o.counts.isNil {
				c.errorf(o.pos, n, "%s", dsl.NilArg(opt))
			}
		case dsl.Validate:
			switch {
			case o.validate.isNil:
				c.errorf(o.pos, n, "%s", dsl.NilArg(opt))
			case o.validate.bad:
			case n.out != nil && o.vtype != nil && !fits(n.out, o.vtype):
				c.errorf(o.pos, n, "%s", dsl.ValidateType(c.ts(o.vtype, n), c.ts(n.out, n)))
			}
		case dsl.Fallback:
			c.fallback(n, o)
		case dsl.Default:
			if o.nodeNil {
				c.errorf(o.pos, n, "%s", dsl.NilArg(opt))
			}
		}
	}
}

// cacheable reports Cache on a step whose input cannot be hashed.
func (c *checker) cacheable(n *nodeBuild, o *optionVal) {
	if n.in == nil {
		return
	}
	hp := c.a.hashPlan(n.in)
	if hp.Hashable {
		return
	}
	c.errorf(o.pos, n, "%s: the input type %s cannot be hashed: %s; remove %s, or give the type a Hash64() uint64 method",
		o.fn.String(), c.ts(n.in, n), unhashableText(hp.Unhashable), o.fn.String())
}

func unhashableText(u *Unhashable) string {
	s := fmt.Sprintf("%s is a %s", u.Path, u.Reason)
	if u.Pos != "" {
		s += " (declared at " + u.Pos + ")"
	}
	return s
}

func (c *checker) fallback(n *nodeBuild, o *optionVal) {
	if o.nodeNil {
		c.errorf(o.pos, n, "%s", dsl.NilArg(o.fn))
		return
	}
	fb := o.node
	if fb == nil {
		return
	}
	if !same(fb.in, n.in) || !same(fb.out, n.out) {
		c.errorf(fb.use, n, "%s", dsl.FallbackTypes(fb.name, c.ts(fb.in, n), c.ts(fb.out, n), c.ts(n.in, n), c.ts(n.out, n)))
	}
	chain := []string{n.name}
	for cur := fb; cur != nil; {
		chain = append(chain, cur.name)
		if len(chain)-1 > MaxFallbackDepth {
			c.errorf(o.pos, n, "%s", dsl.FallbackTooDeep(chain))
			return
		}
		next := cur.lastOpt(dsl.Fallback)
		if next == nil {
			break
		}
		cur = next.node
	}
}

func (c *checker) pipeline(n *nodeBuild) {
	if len(n.children) == 0 {
		if !n.spread {
			c.errorf(n.use, n, "%s", dsl.NoSteps)
		}
		return
	}
	var prev *nodeBuild
	for i, s := range n.children {
		if s == nil {
			if n.nilChild[i] {
				c.errorf(n.use, n, "%s", dsl.NodeNil(i+1))
			}
			prev = nil
			continue
		}
		c.visit(s)
		if prev != nil && prev.out != nil && s.in != nil && !fits(prev.out, s.in) {
			c.errorf(s.use, s, "%s", dsl.InputMismatch(c.ts(s.in, s), prev.describe(), c.ts(prev.out, s)))
		}
		prev = s
	}
}

func (c *checker) parallel(n *nodeBuild) {
	if len(n.children) == 0 && !n.spread {
		c.errorf(n.use, n, "%s", dsl.NoBranches)
	}
	for i, br := range n.children {
		if br == nil {
			if n.nilChild[i] {
				c.errorf(n.use, n, "%s", dsl.BranchNil(i+1))
			}
			continue
		}
		c.visit(br)
		if n.in != nil && br.in != nil && !fits(n.in, br.in) {
			c.errorf(br.use, br, "%s", dsl.BranchInput(c.ts(br.in, br), n.describe(), n.children[0].describe(), c.ts(n.in, br)))
		}
	}
	c.join(n)
	c.conflicts(n)
}

// join checks a Parallel's join function against its branches.
func (c *checker) join(n *nodeBuild) {
	j := n.join
	switch {
	case j.isNil:
		c.errorf(j.pos, n, "%s", dsl.JoinNil)
		return
	case j.bad:
		return
	case j.sig == nil:
		c.errorf(j.pos, n, "unsupported signature: %s", dsl.JoinNotFunc(c.ts(j.typ, n)))
		return
	case j.sig.Variadic():
		c.errorf(j.pos, n, "unsupported signature: %s", dsl.JoinVariadic)
		return
	}
	res := j.sig.Results()
	if res.Len() == 0 || res.Len() > 2 || (res.Len() == 2 && !isError(res.At(1).Type())) {
		c.errorf(j.pos, n, "unsupported signature: %s", dsl.JoinResults(c.ts(j.typ, n)))
	}
	params := j.sig.Params()
	if n.spread {
		return
	}
	if params.Len() != len(n.children) {
		c.errorf(j.pos, n, "%s", dsl.JoinArity(params.Len(), len(n.children)))
		return
	}
	for i, br := range n.children {
		if br != nil && br.out != nil && !fits(br.out, params.At(i).Type()) {
			c.errorf(br.use, br, "%s", dsl.JoinParam(c.ts(br.out, br), i+1, n.describe(), c.ts(params.At(i).Type(), br)))
		}
	}
}

func isError(t types.Type) bool {
	return types.Identical(t, types.Universe.Lookup("error").Type())
}

func (c *checker) loop(n *nodeBuild) {
	if c.a.nilFunc(n.until) {
		c.errorf(n.until.pos, n, "until predicate is nil")
	}
	body := n.children[0]
	if body == nil {
		if n.nilChild[0] {
			c.errorf(n.use, n, "%s", dsl.BodyNil)
		}
		return
	}
	c.visit(body)
	if body.in != nil && body.out != nil && (!same(body.in, n.in) || !same(body.out, n.out)) {
		c.errorf(body.use, body, "%s", dsl.LoopBody(c.ts(body.in, body), c.ts(body.out, body), n.describe(), c.ts(n.in, body)))
	}
}

func (a *analyzer) nilFunc(f *funcArg) bool { return f != nil && f.isNil }

func (c *checker) branch(n *nodeBuild) {
	if c.a.nilFunc(n.chooser) {
		c.errorf(n.chooser.pos, n, "chooser is nil")
	}
	def := n.lastOpt(dsl.Default)
	if len(n.keys) == 0 && !n.casesBad && (def == nil || def.nodeNil) {
		c.errorf(n.use, n, "%s", dsl.NoCases)
	}
	var first *nodeBuild
	check := func(label string, cs *nodeBuild, isNil bool) {
		if cs == nil {
			if isNil {
				c.errorf(n.use, n, "%s", dsl.CaseNil(label))
			}
			return
		}
		c.visit(cs)
		if cs.in != nil && !fits(n.in, cs.in) {
			c.errorf(cs.use, cs, "%s", dsl.CaseInput(label, n.describe(), c.ts(cs.in, cs), c.ts(n.in, cs)))
		}
		if first == nil {
			first = cs
		} else if cs.out != nil && first.out != nil && !same(cs.out, first.out) {
			c.errorf(cs.use, cs, "%s", dsl.CaseOutput(label, n.describe(), c.ts(cs.out, cs), first.describe(), c.ts(first.out, cs)))
		}
	}
	for i, k := range n.keys {
		check(dsl.CaseLabel(k), n.children[i], n.nilChild[i])
	}
	if def != nil && def.node != nil {
		c.cut[def.node] = true // checked here, not again as an option
		check("Default", def.node, false)
	}
}

func (c *checker) mapNode(n *nodeBuild) {
	body := n.children[0]
	if body == nil {
		if n.nilChild[0] {
			c.errorf(n.use, n, "%s", dsl.BodyNil)
		}
		return
	}
	c.visit(body)
	if body.in != nil && body.out != nil && (!same(body.in, n.elemIn) || !same(body.out, n.elemOut)) {
		c.errorf(body.use, body, "%s", dsl.MapBody(c.ts(body.in, body), c.ts(body.out, body), n.describe(), c.ts(n.elemIn, body), c.ts(n.elemOut, body)))
	}
	if o := n.lastOpt(dsl.Concurrency); o != nil && o.n > 1 && usesState(body) {
		c.errorf(o.pos, n, "%s", dsl.ConcurrentState(o.n))
	}
}

// runs returns what n may run besides itself, as dsl.Find walks it: its
// children and its last Fallback and Default.
func runs(n *nodeBuild) (children []*nodeBuild, fallback, def *nodeBuild) {
	if o := n.lastOpt(dsl.Fallback); o != nil {
		fallback = o.node
	}
	if o := n.lastOpt(dsl.Default); o != nil {
		def = o.node
	}
	return n.children, fallback, def
}

// stateStep returns the first StepS in n, fallbacks and defaults
// included, in the DSL's order (dsl.Find).
func stateStep(n *nodeBuild) (*nodeBuild, bool) {
	return dsl.Find(n, runs, func(n *nodeBuild) bool { return n.kind == KindStepS })
}

// usesState reports whether a StepS runs in n, fallbacks and defaults
// included.
func usesState(n *nodeBuild) bool {
	_, ok := stateStep(n)
	return ok
}
