package flujo

import (
	"context"
	"reflect"
	"sort"

	"github.com/flujo/flujo/internal/dsl"
	"github.com/flujo/flujo/runtime"
)

// Node is a declared step or composition. Nodes are immutable values: With
// returns a new node and leaves the receiver unchanged, so one declaration may
// be shared by several pipelines and executors.
type Node interface {
	// Name returns the name the node was declared with. Results carry it.
	Name() string
	// With returns a copy of the node with opts applied after the options it
	// already has. It panics with a *DeclarationError when an option does not
	// apply to the node's kind or has an invalid value.
	With(opts ...Option) Node
	base() *nodeBase
}

// nodeKind tells how a node runs; its names and rules are the DSL rule
// table's (internal/dsl).
type nodeKind = dsl.Kind

const (
	kindStep     = dsl.Step
	kindStepS    = dsl.StepS
	kindFunc     = dsl.Func
	kindPipeline = dsl.Pipeline
	kindParallel = dsl.Parallel
	kindLoop     = dsl.Loop
	kindBranch   = dsl.Branch
	kindMap      = dsl.Map
)

// nodeBase holds what every kind of node has: its name, its input and output
// types, its options as declared and the settings they resolve to.
type nodeBase struct {
	name string
	kind nodeKind
	in   reflect.Type
	out  reflect.Type
	// accept reports whether a value may be passed as the node's input; nil
	// is accepted and stands for the zero value.
	accept func(any) bool
	opts   []Option
	set    settings
	// problems found while building the node that no option can fix, such
	// as a nil function.
	problems []string
}

// Name returns the node's declared name.
func (b *nodeBase) Name() string    { return b.name }
func (b *nodeBase) base() *nodeBase { return b }

// withOptions returns a copy of b with opts appended and the settings
// resolved again. The copy shares no slice with b.
func (b nodeBase) withOptions(opts []Option) nodeBase {
	all := make([]Option, 0, len(b.opts)+len(opts))
	all = append(append(all, b.opts...), opts...)
	b.opts = all
	b.set = resolveSettings(all)
	return b
}

// declare checks a freshly built node and panics with every problem found.
func declare[N Node](n N) N {
	if err := Check(n); err != nil {
		panic(err)
	}
	return n
}

// leafNode is a Step, StepS or Func.
type leafNode struct {
	nodeBase
	// state is S for a StepS, nil otherwise.
	state reflect.Type
	// call runs the function once. st is the *S of a StepS and nil otherwise.
	call func(ctx context.Context, in any, st any) (any, error)
	// fn is the declared function, kept for reflection by tools.
	fn any
	// newCache builds a result cache of the step's output type.
	newCache func(runtime.ResultCacheOptions) (stepCache, error)
}

// With returns a copy of the node with opts added; see Node.
func (n *leafNode) With(opts ...Option) Node {
	c := *n
	c.nodeBase = n.nodeBase.withOptions(opts)
	return declare(&c)
}

func newBase(name string, kind nodeKind, in, out reflect.Type, accept func(any) bool, opts []Option) nodeBase {
	b := nodeBase{name: name, kind: kind, in: in, out: out, accept: accept}
	return b.withOptions(opts)
}

// acceptor returns the input check of a node whose input type is T: a
// value Go would assign to a T.
func acceptor[T any]() func(any) bool {
	return func(v any) bool {
		if v == nil {
			return true
		}
		if _, ok := v.(T); ok {
			return true
		}
		return reflect.TypeOf(v).AssignableTo(reflect.TypeFor[T]())
	}
}

// as converts a boxed value to T; nil becomes the zero value. The
// declaration checks let a node pass any value assignable to the next
// node's input (fits), as generated code passes it: a named type's value
// where its unnamed underlying type is expected, or the reverse, is
// converted, never dropped.
func as[T any](v any) T {
	t, ok := v.(T)
	if ok || v == nil {
		return t
	}
	return reflect.ValueOf(v).Convert(reflect.TypeFor[T]()).Interface().(T)
}

// Step declares a leaf step that calls fn. fn must honour ctx: it is the
// only way a timeout or a cancellation reaches it.
func Step[In, Out any](name string, fn func(context.Context, In) (Out, error), opts ...Option) Node {
	n := &leafNode{
		nodeBase: newBase(name, kindStep, reflect.TypeFor[In](), reflect.TypeFor[Out](), acceptor[In](), opts),
		fn:       fn,
		newCache: newTypedCache[Out],
	}
	if fn == nil {
		n.problems = append(n.problems, "function is nil")
	} else {
		n.call = func(ctx context.Context, in any, _ any) (any, error) {
			out, err := fn(ctx, as[In](in))
			if err != nil {
				return nil, err
			}
			return out, nil
		}
	}
	return declare(n)
}

// StepS declares a leaf step that reads and may update the pipeline state S
// through its third parameter. Each attempt works on its own copy of the
// state, merged back only when the attempt succeeds.
func StepS[In, Out, S any](name string, fn func(context.Context, In, *S) (Out, error), opts ...Option) Node {
	n := &leafNode{
		nodeBase: newBase(name, kindStepS, reflect.TypeFor[In](), reflect.TypeFor[Out](), acceptor[In](), opts),
		state:    reflect.TypeFor[S](),
		fn:       fn,
	}
	if fn == nil {
		n.problems = append(n.problems, "function is nil")
	} else {
		n.call = func(ctx context.Context, in any, st any) (any, error) {
			out, err := fn(ctx, as[In](in), st.(*S))
			if err != nil {
				return nil, err
			}
			return out, nil
		}
	}
	return declare(n)
}

// Func declares a leaf step from a plain function that cannot fail except by
// panicking.
func Func[In, Out any](name string, fn func(In) Out, opts ...Option) Node {
	n := &leafNode{
		nodeBase: newBase(name, kindFunc, reflect.TypeFor[In](), reflect.TypeFor[Out](), acceptor[In](), opts),
		fn:       fn,
		newCache: newTypedCache[Out],
	}
	if fn == nil {
		n.problems = append(n.problems, "function is nil")
	} else {
		n.call = func(_ context.Context, in any, _ any) (any, error) {
			return fn(as[In](in)), nil
		}
	}
	return declare(n)
}

// pipelineNode runs its nodes in sequence, each output the next input.
type pipelineNode struct {
	nodeBase
	nodes []Node
}

// With returns a copy of the node with opts added; see Node.
func (n *pipelineNode) With(opts ...Option) Node {
	c := *n
	c.nodeBase = n.nodeBase.withOptions(opts)
	return declare(&c)
}

// Pipeline declares a sequence: the input goes to the first node, each
// output to the next node, and the last output is the pipeline's. Pipelines
// may be nested.
func Pipeline(name string, nodes ...Node) Node {
	n := &pipelineNode{nodes: append([]Node(nil), nodes...)}
	n.nodeBase = nodeBase{name: name, kind: kindPipeline}
	if len(nodes) > 0 && nodes[0] != nil && nodes[len(nodes)-1] != nil {
		first, last := nodes[0].base(), nodes[len(nodes)-1].base()
		n.in, n.out, n.accept = first.in, last.out, first.accept
	}
	n.nodeBase = n.nodeBase.withOptions(nil)
	return declare(n)
}

// parallelNode runs every branch on the same input and joins the outputs.
type parallelNode struct {
	nodeBase
	branches []Node
	join     reflect.Value
	// joinErr is true when join returns (Out, error).
	joinErr bool
}

// With returns a copy of the node with opts added; see Node.
func (n *parallelNode) With(opts ...Option) Node {
	c := *n
	c.nodeBase = n.nodeBase.withOptions(opts)
	return declare(&c)
}

// Parallel declares branches that run concurrently on the same input. join
// is a function whose parameters are the branch outputs, in branch order,
// returning the parallel's output, or the output and an error. Branches that
// may write the pipeline state work on copies that are merged back by the
// Merge strategy (MergeUpdate by default).
func Parallel(name string, join any, branches ...Node) Node {
	n := &parallelNode{branches: append([]Node(nil), branches...)}
	n.nodeBase = nodeBase{name: name, kind: kindParallel}
	if len(branches) > 0 && branches[0] != nil {
		n.in, n.accept = branches[0].base().in, branches[0].base().accept
	}
	if join != nil {
		n.join = reflect.ValueOf(join)
		if t := n.join.Type(); t.Kind() == reflect.Func && t.NumOut() >= 1 {
			n.out = t.Out(0)
			n.joinErr = t.NumOut() == 2
		}
	}
	n.nodeBase = n.nodeBase.withOptions(nil)
	return declare(n)
}

// loopNode runs its body until the predicate holds or MaxLoops is reached.
type loopNode struct {
	nodeBase
	body  Node
	until func(any) bool
}

// With returns a copy of the node with opts added; see Node.
func (n *loopNode) With(opts ...Option) Node {
	c := *n
	c.nodeBase = n.nodeBase.withOptions(opts)
	return declare(&c)
}

// Loop declares a loop: body runs on the input, then on its own previous
// output, until until returns true for an output. The loop fails when
// MaxLoops iterations (5 by default) end without until returning true.
func Loop[T any](name string, body Node, until func(T) bool, opts ...Option) Node {
	t := reflect.TypeFor[T]()
	n := &loopNode{body: body, nodeBase: newBase(name, kindLoop, t, t, acceptor[T](), opts)}
	if until == nil {
		n.problems = append(n.problems, "until predicate is nil")
	} else {
		n.until = func(v any) bool { return until(as[T](v)) }
	}
	return declare(n)
}

// branchNode runs the case its chooser names.
type branchNode struct {
	nodeBase
	choose func(any) string
	keys   []string // sorted
	cases  map[string]Node
}

// With returns a copy of the node with opts added; see Node.
func (n *branchNode) With(opts ...Option) Node {
	c := *n
	c.nodeBase = n.nodeBase.withOptions(opts)
	return declare(&c)
}

// Branch declares a conditional: choose returns a key and the case of that
// key runs on the input; the Default option names the node that runs for a
// key without a case. The chosen key is recorded in StepResult.BranchKey.
// Every case takes In and all produce the same output type.
func Branch[In any](name string, choose func(In) string, cases map[string]Node, opts ...Option) Node {
	n := &branchNode{cases: make(map[string]Node, len(cases))}
	for k, c := range cases {
		n.cases[k] = c
		n.keys = append(n.keys, k)
	}
	sort.Strings(n.keys)
	var out reflect.Type
	for _, k := range n.keys {
		if c := cases[k]; c != nil {
			out = c.base().out
			break
		}
	}
	n.nodeBase = newBase(name, kindBranch, reflect.TypeFor[In](), out, acceptor[In](), opts)
	if out == nil && n.set.def != nil {
		n.out = n.set.def.base().out
	}
	if choose == nil {
		n.problems = append(n.problems, "chooser is nil")
	} else {
		n.choose = func(v any) string { return choose(as[In](v)) }
	}
	return declare(n)
}

// mapNode runs its body on every element of a slice.
type mapNode struct {
	nodeBase
	body Node
	// split boxes the elements of the input slice; gather builds the output
	// slice from boxed elements.
	split  func(any) []any
	gather func([]any) any
}

// With returns a copy of the node with opts added; see Node.
func (n *mapNode) With(opts ...Option) Node {
	c := *n
	c.nodeBase = n.nodeBase.withOptions(opts)
	return declare(&c)
}

// Map declares a node that runs body on every element of its []In input and
// returns the []Out of the outputs, in input order. Concurrency(n) bounds the
// elements in flight (1 by default). Any element's failure fails the Map.
func Map[In, Out any](name string, body Node, opts ...Option) Node {
	n := &mapNode{body: body}
	n.nodeBase = newBase(name, kindMap, reflect.TypeFor[[]In](), reflect.TypeFor[[]Out](), acceptor[[]In](), opts)
	n.split = func(v any) []any {
		in := as[[]In](v)
		items := make([]any, len(in))
		for i, x := range in {
			items[i] = x
		}
		return items
	}
	n.gather = func(items []any) any {
		out := make([]Out, len(items))
		for i, x := range items {
			out[i] = as[Out](x)
		}
		return out
	}
	return declare(n)
}

// children returns the nodes a node runs directly, fallback and default
// excluded.
func children(n Node) []Node {
	switch n := n.(type) {
	case *pipelineNode:
		return n.nodes
	case *parallelNode:
		return n.branches
	case *loopNode:
		return []Node{n.body}
	case *branchNode:
		cs := make([]Node, 0, len(n.keys))
		for _, k := range n.keys {
			cs = append(cs, n.cases[k])
		}
		return cs
	case *mapNode:
		return []Node{n.body}
	}
	return nil
}
