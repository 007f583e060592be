package analysis

import (
	"go/ast"
	"go/types"
	"strconv"
	"strings"

	"github.com/flujo/flujo/schema"
)

// Defaults of the options, as in the DSL.
const (
	DefaultRetries     = 1
	DefaultMaxLoops    = 5
	DefaultConcurrency = 1
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

// stateTypeOf returns the S of the first StepS in n, in the DSL's order:
// children, then the fallback, then the default.
func stateTypeOf(n *nodeBuild) types.Type {
	if n == nil {
		return nil
	}
	if n.kind == KindStepS {
		return n.state
	}
	for _, c := range n.children {
		if s := stateTypeOf(c); s != nil {
			return s
		}
	}
	for _, fn := range []dslFunc{optFallback, optDefault} {
		if o := n.lastOpt(fn); o != nil {
			if s := stateTypeOf(o.node); s != nil {
				return s
			}
		}
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
	if o := n.lastOpt(optFallback); o != nil && o.node != nil {
		m.Options.Fallback = b.node(o.node)
	}
	if o := n.lastOpt(optDefault); o != nil && o.node != nil && n.kind == KindBranch {
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

// options resolves a node's options as the DSL does: the last of a kind
// wins, validators add up.
func (b *assembler) options(n *nodeBuild) Options {
	o := Options{
		Retries:         DefaultRetries,
		MaxLoops:        DefaultMaxLoops,
		Concurrency:     DefaultConcurrency,
		Merge:           MergeUpdate,
		OnBranchFailure: Propagate,
	}
	for _, ov := range n.opts {
		o.Declared = append(o.Declared, OptionUse{Name: ov.fn.optionName(), Text: optionText(ov), Pos: ov.pos.String()})
		switch ov.fn {
		case optRetries:
			o.Retries = int(ov.n)
		case optBackoff:
			o.BackoffInitial, o.BackoffMax = ov.d1, ov.d2
		case optTimeout:
			o.Timeout = ov.d1
		case optCache:
			o.Cache = true
		case optCacheTTL:
			o.Cache, o.CacheTTL = true, ov.d1
		case optImmutable:
			o.ImmutableOutput = true
		case optValidate:
			if ov.validate != nil && !ov.validate.isNil {
				o.Validate = append(o.Validate, ov.validate.ref)
			}
		case optMerge:
			o.Merge = mergeName(ov.n)
		case optOnBranchFailure:
			o.OnBranchFailure = policyName(ov.n)
		case optMaxLoops:
			o.MaxLoops = int(ov.n)
		case optConcurrency:
			o.Concurrency = int(ov.n)
		case optBreakerCounts:
			if ov.counts != nil && !ov.counts.isNil && !ov.counts.bad {
				ref := ov.counts.ref
				o.BreakerCounts = &ref
			}
		}
	}
	return o
}

// optionText renders an option as the DSL's Option.String does.
func optionText(o *optionVal) string {
	name := o.fn.optionName()
	switch o.fn {
	case optRetries, optMaxLoops, optConcurrency:
		return name + "(" + strconv.FormatInt(o.n, 10) + ")"
	case optBackoff:
		return name + "(" + o.d1.String() + ", " + o.d2.String() + ")"
	case optTimeout, optCacheTTL:
		return name + "(" + o.d1.String() + ")"
	case optFallback, optDefault:
		if o.node == nil {
			return name + "(nil)"
		}
		return name + "(" + strconv.Quote(o.node.name) + ")"
	case optValidate:
		return "Validate[" + reflectString(o.vtype) + "]"
	case optMerge:
		return name + "(" + mergeName(o.n) + ")"
	case optOnBranchFailure:
		return name + "(" + policyName(o.n) + ")"
	}
	return name + "()"
}

// fingerprint renders what makes two steps interchangeable for the cache,
// as the dynamic engine does.
func fingerprint(n *nodeBuild) string {
	var s strings.Builder
	s.WriteString(kindName(n.kind))
	s.WriteByte('|')
	s.WriteString(n.name)
	s.WriteByte('|')
	s.WriteString(reflectString(n.in))
	s.WriteString("->")
	s.WriteString(reflectString(n.out))
	for _, o := range n.opts {
		s.WriteByte('|')
		s.WriteString(optionText(o))
	}
	return s.String()
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
					a.errorf(n.use, "%s: %s sets cache for it, but it is a StepS: it reads the pipeline state, which is not part of the cache key; remove the cache setting",
						n.describe(), b.configKey(n))
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
	pi.Conflicts, pi.MergeBack = mergeAnalysis(pi.Branches, mergeName(n.optN(optMerge, 0)))
	return pi
}
