package gen

import (
	"fmt"
	"time"

	"github.com/dave/jennifer/jen"

	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/runtime"
)

// classifierPermanentAfter is how many failed retries of an error pattern,
// none recovering, class it permanent; the ExecutorCore uses the same.
const classifierPermanentAfter = 3

// pipelineGen emits one pipeline's executor.
type pipelineGen struct {
	g *generator
	p *analysis.Pipeline
	// X is the executor type's name; ctor its constructor's.
	X, ctor string
	// stateKey is the key of S, empty without state.
	stateKey string
	// leaves are the leaf nodes, in ID order, with their settings.
	leaves []*leafPlan
	nodes  []*analysis.Node
	// usage reports that some leaf's output reports usage, so runs keep a
	// budget.
	usage bool
	// caches are the cached leaves, in ID order.
	caches []*leafPlan
	// branchStates are the state plans of each Parallel's branches.
	branchStates map[*analysis.Node][]branchState
	// goroutines reports that the run may start goroutines (a Parallel,
	// a concurrent Map or a Timeout), so the run escapes to the heap.
	goroutines bool
	// scoped holds the nodes that may run under a pooled cancel scope:
	// the descendants of a Parallel or Map whose scope is reused.
	underScope map[*analysis.Node]bool
	// names are the nodes' identifier stems (see nodeNames).
	names map[*analysis.Node]string
}

// leafPlan is a leaf step's effective settings: the declaration's options
// with the configuration laid over them.
type leafPlan struct {
	n         *analysis.Node
	attempts  int
	timeout   time.Duration
	breaker   bool
	threshold int
	recovery  time.Duration
	// ownThreshold and ownRecovery report a step override of the breaker
	// settings, which ImportConfig keeps.
	ownThreshold, ownRecovery bool
	cache                     bool
	// cacheTTL is the entries' time to live; hashFn the input's hash
	// function, "" when keys are the input's JSON (without
	// enable_algorithm_optimization); copyFn the output's deep copy (""
	// when no copy is needed: no references, ImmutableOutput, or values
	// stored encoded); encoded that values are stored encoded
	// (cache_compression, and JSON carries the output type); keyed selects
	// runtime.ResultCacheK, whose collision check needs == to compare
	// content.
	cacheTTL time.Duration
	// ownTTL: cacheTTL comes from the CacheTTL option or a step override,
	// not from cache_ttl_seconds, and keeps its value through ImportConfig.
	ownTTL  bool
	hashFn  string
	copyFn  string
	encoded bool
	keyed   bool
}

func (g *generator) newPipeline(p *analysis.Pipeline) *pipelineGen {
	pg := &pipelineGen{g: g, p: p}
	pg.X, pg.ctor = analysis.ExecutorNames(p.Var)
	if p.State != nil {
		pg.stateKey = p.State.Type
	}
	before := len(g.errs)
	pg.collect(p.Root)
	if len(g.errs) > before {
		return nil
	}
	return pg
}

// collect walks the tree, resolving settings and refusing what the
// generator cannot compile.
func (pg *pipelineGen) collect(n *analysis.Node) {
	if n == nil {
		return
	}
	g := pg.g
	pg.nodes = append(pg.nodes, n)
	o := n.Options
	switch n.Kind {
	case analysis.KindStep, analysis.KindStepS, analysis.KindFunc:
		if n.Step == nil {
			g.errorf(n.Pos, "internal error: leaf step %q has no step details", n.Name)
			return
		}
		lp := pg.leafSettings(n)
		pg.leaves = append(pg.leaves, lp)
		if lp.cache {
			pg.planCache(lp)
		}
		if n.Step.OutReportsUsage || pg.g.isInterface(n.Out.Type) {
			pg.usage = true
		}
		if lp.timeout > 0 {
			pg.goroutines = true
		}
		if n.Kind == analysis.KindStepS && n.Step.State != nil {
			g.checkStateCopyable(n.Step.State.Type, n.Pos)
		}
	case analysis.KindPipeline:
		if len(n.Children) == 0 {
			g.errorf(n.Pos, "pipeline %q has no steps", n.Name)
		}
	case analysis.KindParallel:
		pg.goroutines = true
		if n.Parallel == nil {
			g.errorf(n.Pos, "internal error: parallel %q has no details", n.Name)
			return
		}
		if pg.branchStates == nil {
			pg.branchStates = map[*analysis.Node][]branchState{}
		}
		pg.branchStates[n] = pg.parallelState(n)
	case analysis.KindLoop:
		if n.Loop == nil || len(n.Children) != 1 {
			g.errorf(n.Pos, "internal error: loop %q has no body", n.Name)
			return
		}
	case analysis.KindBranch:
		if n.Branch == nil || len(n.Branch.Keys) != len(n.Children) {
			g.errorf(n.Pos, "internal error: branch %q: keys and cases differ", n.Name)
			return
		}
	case analysis.KindMap:
		if n.Map == nil || len(n.Children) != 1 {
			g.errorf(n.Pos, "internal error: map %q has no body", n.Name)
			return
		}
		if o.Concurrency > 1 {
			pg.goroutines = true
		}
	default:
		g.unsupported(n.Pos, "nodes of kind "+string(n.Kind))
		return
	}
	if !n.Kind.Leaf() && (o.Timeout > 0) {
		pg.goroutines = true
	}
	for _, ch := range n.Children {
		pg.collect(ch)
	}
	pg.collect(o.Fallback)
	pg.collect(o.Default)
}

// leafSettings resolves a leaf's settings with the rule the ExecutorCore
// follows at run time (runtime.ResolveStep).
func (pg *pipelineGen) leafSettings(n *analysis.Node) *leafPlan {
	cfg := pg.g.cfg.Optimization
	o := n.Options
	ov := n.Override
	if ov == nil {
		if s, ok := pg.g.cfg.Step(pg.p.Name, n.Name); ok {
			ov = &s
		}
	}
	s := runtime.ResolveStep(&cfg, runtime.DeclaredStep{
		Retries: o.Retries, Timeout: o.Timeout, Cache: o.Cache, CacheTTL: o.CacheTTL,
	}, ov)
	return &leafPlan{
		n:         n,
		attempts:  s.Attempts,
		timeout:   s.Timeout,
		breaker:   s.Breaker,
		threshold: s.BreakerFailureThreshold,
		recovery:  s.BreakerRecoveryTimeout,
		cache:     s.Cache,
		cacheTTL:  s.CacheTTL,
		ownTTL:    o.CacheTTL > 0 || (ov != nil && ov.CacheTTLSeconds != nil),
		// A step override keeps its breaker settings through ImportConfig.
		ownThreshold: s.OwnBreakerThreshold,
		ownRecovery:  s.OwnBreakerRecovery,
	}
}

// planCache resolves how a cached leaf keys, stores and returns its
// results, refusing what cannot be cached.
func (pg *pipelineGen) planCache(lp *leafPlan) {
	g, n := pg.g, lp.n
	if n.Kind == analysis.KindStepS {
		g.errorf(n.Pos, "step %q: a StepS cannot be cached: it reads the pipeline state, which is not part of the cache key; remove Cache() or make it a Step", n.Name)
		return
	}
	cfg := g.cfg.Optimization
	if cfg.EnableAlgorithmOptimization {
		lp.hashFn = g.hashFunc(n.In.Type, n.Pos)
	}
	// An output that JSON would not give back as it was is stored as a
	// value, as without cache_compression (runtime.CheckCodecType).
	lp.encoded = cfg.CacheCompression && g.jsonLoses(n.Out.Type, map[string]bool{}) == ""
	if !n.Options.ImmutableOutput && !lp.encoded {
		before := len(g.errs)
		lp.copyFn = g.copyFunc(n.Out.Type, n.Pos)
		for _, e := range g.errs[before:] { // the copies of cache hits: ImmutableOutput needs none
			e.Msg += fmt.Sprintf(", or declare step %q flujo.ImmutableOutput() when no caller changes its outputs, so that cache hits are not copied", n.Name)
		}
	}
	lp.keyed = g.valueComparable(n.In.Type, map[string]bool{})
	pg.caches = append(pg.caches, lp)
}

// run is the type of the run parameter.
func (pg *pipelineGen) runType() *jen.Statement {
	return jen.Op("*").Add(qi("Run").Types(pg.stateType()))
}

func (pg *pipelineGen) stateType() *jen.Statement {
	if pg.stateKey == "" {
		return jen.Struct()
	}
	return pg.g.typ(pg.stateKey, pg.p.Pos)
}

func (pg *pipelineGen) in(n *analysis.Node) *jen.Statement  { return pg.g.typ(n.In.Type, n.Pos) }
func (pg *pipelineGen) out(n *analysis.Node) *jen.Statement { return pg.g.typ(n.Out.Type, n.Pos) }

// isInterface reports whether the type of key is an interface type.
func (g *generator) isInterface(key string) bool {
	t, ok := g.model.Types[key]
	return ok && t.Kind == analysis.TypeInterface
}

// validator refers to v, a validator of n, as a func(Out) error of n's
// output type. A validator of another type, which Out is assignable to (a
// func([]string) error on a node producing a named []string), is called
// from a literal of that type.
func (pg *pipelineGen) validator(n *analysis.Node, v analysis.FuncRef) jen.Code {
	if v.Signature == "func("+n.Out.Type+") error" {
		return pg.g.fn(v)
	}
	return jen.Func().Params(jen.Id("v").Add(pg.out(n))).Error().Block(jen.Return(pg.g.fn(v).Call(jen.Id("v"))))
}

// method starts a node method: func (e *X) name(ctx, in, r, res) (Out, error).
func (pg *pipelineGen) method(f *jen.File, n *analysis.Node, name, doc string, body []jen.Code) {
	f.Comment(doc)
	f.Func().Params(jen.Id("e").Op("*").Id(pg.X)).Id(name).Params(
		jen.Id("ctx").Qual("context", "Context"),
		jen.Id("in").Add(pg.in(n)),
		jen.Id("r").Add(pg.runType()),
		jen.Id("res").Op("*").Add(qf("StepResult")),
	).Params(pg.out(n), jen.Error()).Block(body...)
}

// emitNode emits the methods of n and of everything it runs.
func (pg *pipelineGen) emitNode(f *jen.File, n *analysis.Node) {
	if n == nil {
		return
	}
	inner := pg.runName(n)
	if n.Options.Fallback != nil {
		inner = pg.stepName(n)
		pg.emitFallback(f, n, inner)
	}
	if !n.Kind.Leaf() {
		pg.emitComposite(f, n, inner)
	}
	for _, ch := range n.Children {
		pg.emitNode(f, ch)
	}
	pg.emitNode(f, n.Options.Fallback)
	pg.emitNode(f, n.Options.Default)
}

// emitFallback emits runK: the primary, then its fallback after a failure.
// A cached leaf stores the fallback's output under its own key, so the next
// run on an equal input is a hit.
func (pg *pipelineGen) emitFallback(f *jen.File, n *analysis.Node, primary string) {
	fb := n.Options.Fallback
	primaryCall := "e." + primary + "(ctx, in, r, res)"
	if n.Kind.Leaf() {
		primaryCall = pg.stepCall(n, "ctx", "in", "r", "res")
	}
	call := c("{}(res, &fb, out, abort, func() ({}, error) { return "+pg.call(fb, "ctx", "in", "r", "&fb")+" })", qi("WithFallback"), pg.out(n))
	body := []jen.Code{
		c("out, abort := " + primaryCall),
		c("var fb {}", qf("StepResult")),
	}
	if lp := pg.leafPlan(n); lp != nil && lp.cache {
		// A rescued step caches its fallback's output.
		body = append(body,
			c("out, rescued, abort := {}", call),
			c("if rescued { e."+pg.kstepName(n)+".CacheFallback(&r.Eng.Env, in, out) }"),
			c("return out, abort"),
		)
	} else {
		body = append(body, c("out, _, abort = {}", call), c("return out, abort"))
	}
	pg.method(f, n, pg.runName(n), fmt.Sprintf("%s runs %q and, when it fails, its fallback %q.", pg.runName(n), n.Name, fb.Name), body)
}

// timed reports whether step boundaries read the clock outside recorded
// runs: only when monitoring or telemetry is on.
func (pg *pipelineGen) timed() bool {
	cfg := pg.g.cfg.Optimization
	return cfg.EnablePerformanceMonitoring || cfg.EnableOptimizedTelemetry
}

// clockStart and clockStop read the clock at a step boundary.
func (pg *pipelineGen) clockStart() jen.Code {
	if pg.timed() {
		return c("start := r.Eng.Env.Clock.Nanotime()")
	}
	return c("var start int64\nif r.Record { start = r.Eng.Env.Clock.Nanotime() }")
}

func (pg *pipelineGen) clockStop() jen.Code {
	if pg.timed() {
		return c("res.Latency = {}(r.Eng.Env.Clock.Nanotime() - start)", jen.Qual("time", "Duration"))
	}
	return c("if r.Record { res.Latency = {}(r.Eng.Env.Clock.Nanotime() - start) }", jen.Qual("time", "Duration"))
}

func (pg *pipelineGen) leafPlan(n *analysis.Node) *leafPlan {
	for _, lp := range pg.leaves {
		if lp.n == n {
			return lp
		}
	}
	return nil
}

func durationLit(d time.Duration) jen.Code {
	return jen.Qual("time", "Duration").Call(jen.Lit(int64(d)))
}

// leafInit returns the statements that build the kernel step of the leaf
// lp in the constructor: its Leaf, then its settings, one a line.
func (pg *pipelineGen) leafInit(lp *leafPlan) []jen.Code {
	g, n := pg.g, lp.n
	in, out := pg.in(n), pg.out(n)
	o := n.Options
	leaf := newLiteral(leafFields...)
	leaf.set("Name", jen.Lit(n.Name))
	fn := g.fn(n.Step.Func)
	ctxIn := []jen.Code{jen.Id("ctx").Qual("context", "Context"), jen.Id("in").Add(in.Clone())}
	switch n.Kind {
	case analysis.KindStep:
		leaf.set("Plain", fn)
	case analysis.KindStepS:
		// The private copy holds the fields the step may write.
		all, fields := true, []string(nil)
		if ws := n.Step.Writes; ws != nil {
			all, fields = ws.All, ws.Fields
		}
		names, whole := pg.writeSet(all, fields)
		fork := append([]jen.Code{c("st := s.(*{})", pg.stateType())}, pg.stateCopy("w", "st", names, whole, n.Pos)...)
		if lp.timeout > 0 {
			// An attempt that may be abandoned works on a copy of its own.
			leaf.set("Call", jen.Func().Params(append(ctxIn, jen.Id("w").Any())...).Params(out.Clone(), jen.Error()).Block(c("return {}(ctx, in, w.(*{}))", fn, pg.stateType())))
			leaf.set("Fork", jen.Func().Params(jen.Id("s").Any()).Any().Block(append(fork, c("return &w"))...))
			leaf.set("Join", jen.Func().Params(jen.Id("s"), jen.Id("w").Any()).Block(c("*s.(*{}) = *w.(*{})", pg.stateType(), pg.stateType())))
		} else {
			leaf.set("Attempt", jen.Func().Params(append(ctxIn, jen.Id("s").Any())...).Params(out.Clone(), jen.Error()).Block(append(fork,
				c("out, err := {}(ctx, in, &w)", fn), c("if err == nil { *st = w }"), c("return out, err"))...))
		}
	case analysis.KindFunc:
		leaf.set("Pure", fn)
	}
	if o.BackoffMax > 0 || o.BackoffInitial > 0 {
		leaf.set("Backoff", c("{}{Initial: {}, Max: {}, Multiplier: 2}", qr("Backoff"), durationLit(o.BackoffInitial), durationLit(o.BackoffMax)))
	}
	if len(o.Validate) > 0 {
		vs := make([]jen.Code, len(o.Validate))
		for i, v := range o.Validate {
			vs[i] = pg.validator(n, v)
		}
		leaf.set("Validators", jen.Index().Func().Params(out.Clone()).Error().Values(vs...))
	}
	// An output of an interface type reports the usage of its dynamic
	// value, nil included: the kernel gives such a leaf its rule.
	if n.Step.OutReportsUsage && !g.isInterface(n.Out.Type) {
		if n.Step.Out.Name != "" { // a named type: its method expression
			leaf.set("Usage", jen.Add(out.Clone()).Dot("Usage"))
		} else {
			leaf.set("Usage", jen.Func().Params(jen.Id("o").Add(out.Clone())).Add(qr("Usage")).Block(c("return o.Usage()")))
		}
	}
	if o.BreakerCounts != nil { // else flujo.CountsAsBreakerFailure, set by the kernel
		leaf.set("BreakerCounts", g.fn(*o.BreakerCounts))
	}
	step := newLiteral(stepFields...)
	step.set("Attempts", jen.Lit(lp.attempts))
	if lp.timeout > 0 {
		step.set("Timeout", durationLit(lp.timeout))
	}
	if lp.breaker && (lp.ownThreshold || lp.ownRecovery) { // else the kernel builds it from the configuration
		var own jen.Code
		switch {
		case lp.ownThreshold && lp.ownRecovery:
			own = qi("OwnThreshold").Op("|").Add(qi("OwnRecovery"))
		case lp.ownThreshold:
			own = qi("OwnThreshold")
		case lp.ownRecovery:
			own = qi("OwnRecovery")
		}
		step.set("Breaker", jen.Id("p").Dot("Breaker").Call(jen.Lit(n.Name), jen.Lit(lp.threshold), durationLit(lp.recovery), own))
	}
	if lp.cache {
		switch {
		case lp.hashFn != "" && g.hashCallsMethod(n.In.Type, map[string]bool{}):
			// The input's own Hash64 may panic: the step then fails with a
			// *PanicError. Other key functions defer nothing.
			leaf.set("Key", jen.Func().Params(jen.Id("in").Add(in.Clone())).Params(jen.Id("_").Uint64(), jen.Id("err").Error()).Block(
				c("defer {}(&err)", qi("KeyPanic")), c("return "+lp.hashFn+"(e.seed, in).Sum64(), nil")))
		case lp.hashFn != "":
			leaf.set("Key", jen.Func().Params(jen.Id("in").Add(in.Clone())).Params(jen.Uint64(), jen.Error()).Block(c("return "+lp.hashFn+"(e.seed, in).Sum64(), nil")))
		default:
			leaf.set("Key", jen.Func().Params(jen.Id("in").Add(in.Clone())).Params(jen.Uint64(), jen.Error()).Block(c("return {}("+strq(n.Step.Fingerprint)+", in)", qi("JSONKey"))))
		}
		if lp.copyFn != "" {
			leaf.set("CopyOut", jen.Id(lp.copyFn))
		}
		if lp.keyed {
			step.set("Cache", jen.Id("e."+pg.cacheName(n)))
		} else {
			step.set("Cache", qi("UnkeyedCache").Types(in.Clone(), out.Clone()).Values(jen.Id("C").Op(":").Id("e."+pg.cacheName(n))))
		}
	}
	step.set("Leaf", jen.Op("&").Add(qi("Leaf").Types(in.Clone(), out.Clone())).Add(leaf.block()))
	return step.assign("e." + pg.kstepName(n))
}

// leafFields and stepFields are the fields of the kernel's Leaf and Step,
// in the order the kernel declares them: generated literals list them in
// that order, so that setting one option adds or changes one line.
var (
	leafFields = []string{"Name", "Call", "Plain", "Pure", "Fork", "Join", "Attempt", "Backoff", "Validators", "Usage", "BreakerCounts", "Key", "CopyOut"}
	stepFields = []string{"Leaf", "Attempts", "Timeout", "Breaker", "Monitor", "Slot", "Cache", "Counters"}
)

// literal holds a struct literal's fields and emits them in a fixed order
// (jen.Dict sorts its keys).
type literal struct {
	order []string
	vals  map[string]jen.Code
}

func newLiteral(order ...string) *literal {
	return &literal{order: order, vals: map[string]jen.Code{}}
}

// set sets the field k, which must be one of the literal's fields.
func (l *literal) set(k string, v jen.Code) {
	if !contains(l.order, k) {
		panic("gen: literal has no field " + k)
	}
	l.vals[k] = v
}

// items returns the set fields as key: value, in order.
func (l *literal) items() []jen.Code {
	var out []jen.Code
	for _, k := range l.order {
		if v, ok := l.vals[k]; ok {
			out = append(out, jen.Id(k).Op(":").Add(v))
		}
	}
	return out
}

// assign returns one assignment of each set field of the variable v, in
// order.
func (l *literal) assign(v string) []jen.Code {
	var out []jen.Code
	for _, k := range l.order {
		if val, ok := l.vals[k]; ok {
			out = append(out, jen.Id(v+"."+k).Op("=").Add(val))
		}
	}
	return out
}

// block renders the literal's braces with one field a line.
func (l *literal) block() jen.Code {
	return jen.Custom(jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}, l.items()...)
}

// copyCall returns the call of the deep-copy function fn on expr, or expr
// when no copy is needed.
func copyCall(fn, expr string) string {
	if fn == "" {
		return expr
	}
	return fn + "(" + expr + ")"
}

func strq(s string) string { return fmt.Sprintf("%q", s) }
