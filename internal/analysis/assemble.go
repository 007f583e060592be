package analysis

import (
	"go/ast"
	"go/types"
	"strconv"

	"github.com/flujo/flujo/internal/dsl"
	"github.com/flujo/flujo/schema"
)

// Defaults of the options, the DSL's.
const (
	DefaultRetries     = dsl.DefaultRetries
	DefaultMaxLoops    = dsl.DefaultMaxLoops
	DefaultConcurrency = dsl.DefaultConcurrency
)

// pipeline builds the model of one checked declaration.
func (a *analyzer) pipeline(p *pkgInfo, v *varDecl, root *nodeBuild) *Pipeline {
	pl := &Pipeline{
		Var:      v.name.Name,
		Exported: ast.IsExported(v.name.Name),
		Name:     root.name,
		Pos:      a.pos(v.name.Pos()).String(),
		In:       a.ref(root.in),
		Out:      a.ref(root.out),
	}
	if s := stateTypeOf(root); s != nil {
		r := a.ref(s)
		pl.State = &r
	}
	b := &assembler{a: a, cfg: p.config, pipeline: root.name}
	pl.Root = b.node(root)
	pl.Steps = b.steps
	return pl
}

// stateTypeOf returns the S of the first StepS in n, in the DSL's order
// (dsl.Find).
func stateTypeOf(n *nodeBuild) types.Type {
	if s, ok := stateStep(n); ok {
		return s.state
	}
	return nil
}

// assembler numbers the nodes of one pipeline.
type assembler struct {
	a        *analyzer
	cfg      *schema.Config
	pipeline string
	nextID   int
	steps    int
}

func (b *assembler) node(n *nodeBuild) *Node {
	if n == nil {
		return nil
	}
	a := b.a
	m := &Node{
		ID:   b.nextID,
		Kind: n.kind,
		Name: n.name,
		Pos:  n.pos.String(),
		Var:  n.varName,
		In:   a.ref(n.in),
		Out:  a.ref(n.out),
	}
	b.nextID++
	m.Options = b.options(n)
	for _, c := range n.children {
		m.Children = append(m.Children, b.node(c))
	}
	if o := n.lastOpt(dsl.Fallback); o != nil && o.node != nil {
		m.Options.Fallback = b.node(o.node)
	}
	if o := n.lastOpt(dsl.Default); o != nil && o.node != nil && n.kind == KindBranch {
		m.Options.Default = b.node(o.node)
	}
	m.ReadsState = usesState(n)
	switch n.kind {
	case KindStep, KindStepS, KindFunc:
		b.steps++
		m.Step = b.leaf(n, m)
	case KindParallel:
		m.Parallel = b.parallel(n)
	case KindLoop:
		m.Loop = &LoopInfo{Until: funcRef(n.until), T: a.ref(n.in)}
	case KindBranch:
		m.Branch = &BranchInfo{Chooser: funcRef(n.chooser), Keys: append([]string{}, n.keys...), HasDefault: m.Options.Default != nil}
	case KindMap:
		m.Map = &MapInfo{Elem: a.ref(n.elemIn), OutElem: a.ref(n.elemOut)}
	}
	n.walk(func(x *nodeBuild) {
		if x.kind == KindStepS && x.fn != nil && !x.fn.bad && !x.fn.isNil {
			if r := a.stateWrites(x.fn); len(r.writes) > 0 {
				m.WritesState = true
			}
		}
	})
	return m
}

func funcRef(f *funcArg) FuncRef {
	if f == nil {
		return FuncRef{}
	}
	return f.ref
}

// options resolves a node's options by the DSL's rule (dsl.Resolve).
func (b *assembler) options(n *nodeBuild) Options {
	r := dsl.Resolve(len(n.opts), func(i int) (dsl.Option, dsl.Value) { return n.opts[i].fn, n.opts[i].value() })
	o := Options{
		Retries:         r.Retries,
		BackoffInitial:  r.BackoffInitial,
		BackoffMax:      r.BackoffMax,
		Timeout:         r.Timeout,
		Cache:           r.Cache,
		CacheTTL:        r.CacheTTL,
		ImmutableOutput: r.ImmutableOutput,
		MaxLoops:        r.MaxLoops,
		Concurrency:     r.Concurrency,
		Merge:           dsl.MergeName(r.Merge),
		OnBranchFailure: dsl.PolicyName(r.OnBranchFailure),
	}
	for _, ov := range n.opts {
		o.Declared = append(o.Declared, OptionUse{Name: ov.fn.String(), Text: optionText(ov), Pos: ov.pos.String()})
	}
	for _, i := range r.Validate {
		o.Validate = append(o.Validate, n.opts[i].validate.ref)
	}
	if r.BreakerCounts >= 0 {
		ref := n.opts[r.BreakerCounts].counts.ref
		o.BreakerCounts = &ref
	}
	return o
}

// optionText renders an option as the DSL's Option.String does.
func optionText(o *optionVal) string { return o.fn.Text(o.value()) }

// fingerprint renders what makes two steps interchangeable for the cache,
// as the dynamic engine does (dsl.Fingerprint).
func fingerprint(n *nodeBuild) string {
	opts := make([]string, len(n.opts))
	for i, o := range n.opts {
		opts[i] = optionText(o)
	}
	return dsl.Fingerprint(n.kind.dsl(), n.name, reflectString(n.in), reflectString(n.out), opts)
}

func (b *assembler) leaf(n *nodeBuild, m *Node) *Leaf {
	a := b.a
	l := &Leaf{
		Shape:           n.kind,
		Func:            funcRef(n.fn),
		In:              a.ref(n.in),
		Out:             a.ref(n.out),
		OutReportsUsage: n.out != nil && reportsUsage(n.out),
		Fingerprint:     fingerprint(n),
		ContextUnused:   a.contextUnused(n.kind, n.fn),
	}
	if n.in != nil {
		l.Hash = a.hashPlan(n.in)
	}
	if n.out != nil {
		l.Copy = a.copyPlan(n.out)
	}
	switch {
	case n.kind == KindStepS:
		l.CacheReason = "a StepS reads the pipeline state, which is not part of the cache key"
	case l.Hash != nil && !l.Hash.Hashable:
		l.CacheReason = "the input cannot be hashed: " + unhashableText(l.Hash.Unhashable)
	default:
		l.Cacheable = true
	}
	if n.kind == KindStepS {
		s := a.ref(n.state)
		l.State = &s
		ws := &WriteSet{State: s.Type, Fields: []string{}, Writes: []StateWrite{}}
		if n.fn != nil && !n.fn.bad && !n.fn.isNil {
			r := a.stateWrites(n.fn)
			ws.All = r.all
			ws.Fields = r.fields(n.state)
			ws.Writes = append(ws.Writes, r.writes...)
		}
		l.Writes = ws
	}
	if b.cfg != nil {
		if ov, ok := b.cfg.Step(b.pipeline, n.name); ok {
			m.Override = &ov
			if ov.Cache != nil && *ov.Cache {
				switch {
				case n.kind == KindStepS:
					a.errorf(n.use, "%s: %s %s", n.describe(), b.configKey(n), dsl.OverrideCacheState)
				case !l.Cacheable:
					a.errorf(n.use, "%s: %s sets cache for it, but %s; remove the cache setting, or give the input type a Hash64() uint64 method",
						n.describe(), b.configKey(n), l.CacheReason)
				}
			}
		}
	}
	return l
}

func (b *assembler) configKey(n *nodeBuild) string {
	file := schema.DefaultFileName
	if b.cfg.Path != "" {
		file = b.a.display(b.cfg.Path)
	}
	return file + " (steps." + strconv.Quote(b.pipeline+"."+n.name) + ")"
}

func (b *assembler) parallel(n *nodeBuild) *ParallelInfo {
	a := b.a
	pi := &ParallelInfo{Join: funcRef(n.join), JoinParams: []TypeRef{}}
	if n.join != nil && n.join.sig != nil {
		for i := range n.join.sig.Params().Len() {
			pi.JoinParams = append(pi.JoinParams, a.ref(n.join.sig.Params().At(i).Type()))
		}
		pi.JoinReturnsError = n.join.sig.Results().Len() == 2
	}
	for _, br := range n.children {
		pi.Branches = append(pi.Branches, a.branchWrites(br))
	}
	pi.Conflicts, pi.MergeBack = mergeAnalysis(pi.Branches, dsl.MergeName(n.optN(dsl.Merge, 0)))
	return pi
}
