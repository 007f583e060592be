package gen

import (
	"github.com/flujo/flujo/internal/analysis"
)

// The suite's package, the source of hand-built models.
const ftPath = "github.com/flujo/flujo/flujotest"

// mb builds models of flujotest declarations by hand, so the emitter is
// tested apart from the analysis.
type mb struct {
	types map[string]*analysis.Type
	id    int
}

func newMB() *mb {
	b := &mb{types: map[string]*analysis.Type{}}
	b.types["int"] = &analysis.Type{Key: "int", Kind: "int", Comparable: true}
	b.types["string"] = &analysis.Type{Key: "string", Kind: "string", Comparable: true}
	b.types["[]string"] = &analysis.Type{Key: "[]string", Kind: analysis.TypeSlice, Elem: "string"}
	b.types["float64"] = &analysis.Type{Key: "float64", Kind: "float64", Comparable: true}
	b.types["*"+ftPath+".Calls"] = &analysis.Type{Key: "*" + ftPath + ".Calls", Kind: analysis.TypePointer, Elem: ftPath + ".Calls"}
	b.types[ftPath+".Calls"] = &analysis.Type{Key: ftPath + ".Calls", Kind: analysis.TypeStruct, PkgPath: ftPath, Name: "Calls"}
	b.types[ftPath+".Job"] = &analysis.Type{Key: ftPath + ".Job", Kind: analysis.TypeStruct, PkgPath: ftPath, Name: "Job", ReportsUsage: true,
		Fields: []analysis.Field{{Name: "Name", Type: "string", Exported: true}, {Name: "FailFirst", Type: "int", Exported: true},
			{Name: "Calls", Type: "*" + ftPath + ".Calls", Exported: true}, {Name: "Cost", Type: "float64", Exported: true}, {Name: "Tokens", Type: "int", Exported: true}}}
	b.types["[]"+ftPath+".Job"] = &analysis.Type{Key: "[]" + ftPath + ".Job", Kind: analysis.TypeSlice, Elem: ftPath + ".Job"}
	b.types[ftPath+".State"] = &analysis.Type{Key: ftPath + ".State", Kind: analysis.TypeStruct, PkgPath: ftPath, Name: "State",
		Fields: []analysis.Field{{Name: "A", Type: "string", Exported: true}, {Name: "B", Type: "string", Exported: true}, {Name: "Log", Type: "[]string", Exported: true}}}
	return b
}

const job = ftPath + ".Job"

func tref(key string) analysis.TypeRef { return analysis.TypeRef{Type: key} }

func fref(name string) analysis.FuncRef { return analysis.FuncRef{PkgPath: ftPath, Name: name} }

func defaults() analysis.Options {
	return analysis.Options{Retries: 1, MaxLoops: 5, Concurrency: 1, Merge: analysis.MergeUpdate, OnBranchFailure: analysis.Propagate}
}

func (b *mb) leaf(kind analysis.Kind, name, fn, in, out string, opt func(*analysis.Options)) *analysis.Node {
	o := defaults()
	if opt != nil {
		opt(&o)
	}
	n := &analysis.Node{Kind: kind, Name: name, Pos: "steps.go:1:1", In: tref(in), Out: tref(out), Options: o,
		Step: &analysis.Leaf{Shape: kind, Func: fref(fn), In: tref(in), Out: tref(out), OutReportsUsage: b.types[out] != nil && b.types[out].ReportsUsage}}
	if kind == analysis.KindStepS {
		st := tref(ftPath + ".State")
		n.Step.State = &st
		n.ReadsState, n.WritesState = true, true
	}
	return n
}

func (b *mb) step(name, fn string, opt func(*analysis.Options)) *analysis.Node {
	return b.leaf(analysis.KindStep, name, fn, job, job, opt)
}

func (b *mb) pipeline(name string, nodes ...*analysis.Node) *analysis.Node {
	n := &analysis.Node{Kind: analysis.KindPipeline, Name: name, Pos: "pipelines.go:1:1", Options: defaults(), Children: nodes,
		In: nodes[0].In, Out: nodes[len(nodes)-1].Out}
	return n
}

// number assigns preorder IDs.
func (b *mb) number(n *analysis.Node) {
	if n == nil {
		return
	}
	n.ID = b.id
	b.id++
	for _, c := range n.Children {
		b.number(c)
	}
	b.number(n.Options.Fallback)
	b.number(n.Options.Default)
}

func (b *mb) pipe(v string, root *analysis.Node) *analysis.Pipeline {
	b.id = 0
	b.number(root)
	p := &analysis.Pipeline{Var: v, Exported: true, Name: root.Name, Pos: "pipelines.go:1:1", Root: root, In: root.In, Out: root.Out}
	var walk func(*analysis.Node)
	walk = func(n *analysis.Node) {
		if n == nil {
			return
		}
		if n.Step != nil && n.Step.State != nil {
			st := *n.Step.State
			p.State = &st
		}
		for _, c := range n.Children {
			walk(c)
		}
		walk(n.Options.Fallback)
		walk(n.Options.Default)
	}
	walk(root)
	return p
}

func (b *mb) model(pkgPath, pkgName string, pipes ...*analysis.Pipeline) (*analysis.Model, *analysis.Package) {
	pkg := &analysis.Package{Path: pkgPath, Name: pkgName, Pipelines: pipes}
	return &analysis.Model{Packages: []*analysis.Package{pkg}, Types: b.types}, pkg
}
