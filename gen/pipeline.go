package gen

import (
	"fmt"
	"strings"
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
	// stored encoded); keyed selects runtime.ResultCacheK, whose collision
	// check needs == to compare content.
	cacheTTL time.Duration
	// ownTTL: cacheTTL comes from the CacheTTL option or a step override,
	// not from cache_ttl_seconds, and keeps its value through ImportConfig.
	ownTTL bool
	hashFn string
	copyFn string
	keyed  bool
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
		if n.Step.OutReportsUsage {
			pg.usage = true
		}
		if lp.timeout > 0 {
			pg.goroutines = true
		}
		if n.Kind == analysis.KindStepS && n.Step.State != nil {
			g.copyFunc(n.Step.State.Type, n.Pos)
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
		ownThreshold: ov != nil && ov.CircuitBreakerFailureThreshold != nil,
		ownRecovery:  ov != nil && ov.CircuitBreakerRecoveryTimeoutSeconds != nil,
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
	if !n.Options.ImmutableOutput && !cfg.CacheCompression {
		lp.copyFn = g.copyFunc(n.Out.Type, n.Pos)
	}
	lp.keyed = g.valueComparable(n.In.Type, map[string]bool{})
	pg.caches = append(pg.caches, lp)
}

// run is the type of the run parameter.
func (pg *pipelineGen) runType() *jen.Statement {
	return jen.Op("*").Id("flujogenRun").Types(pg.stateType())
}

func (pg *pipelineGen) stateType() *jen.Statement {
	if pg.stateKey == "" {
		return jen.Struct()
	}
	return pg.g.typ(pg.stateKey, pg.p.Pos)
}

func (pg *pipelineGen) in(n *analysis.Node) *jen.Statement  { return pg.g.typ(n.In.Type, n.Pos) }
func (pg *pipelineGen) out(n *analysis.Node) *jen.Statement { return pg.g.typ(n.Out.Type, n.Pos) }

func runName(n *analysis.Node) string   { return fmt.Sprintf("run%d", n.ID) }
func stepName(n *analysis.Node) string  { return fmt.Sprintf("step%d", n.ID) }
func bodyName(n *analysis.Node) string  { return fmt.Sprintf("body%d", n.ID) }
func callName(n *analysis.Node) string  { return fmt.Sprintf("call%d", n.ID) }
func brkName(n *analysis.Node) string   { return fmt.Sprintf("brk%d", n.ID) }
func cacheName(n *analysis.Node) string { return fmt.Sprintf("cache%d", n.ID) }
func cntName(n *analysis.Node) string   { return fmt.Sprintf("cnt%d", n.ID) }

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
	inner := runName(n)
	if n.Options.Fallback != nil {
		inner = stepName(n)
		pg.emitFallback(f, n, inner)
	}
	if n.Kind.Leaf() {
		pg.emitLeaf(f, n, inner)
	} else {
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
	rescued := c("return fout, nil")
	if lp := pg.leafPlan(n); lp != nil && lp.cache {
		rescued = c("e." + kstepName(n) + ".CacheFallback(&r.eng.Env, in, fout)\nreturn fout, nil")
	}
	body := []jen.Code{
		c("out, abort := e." + primary + "(ctx, in, r, res)"),
		c("if abort != nil || res.Success { return out, abort }"),
		c("var fb {}", qf("StepResult")),
		c("fout, abort := e." + runName(fb) + "(ctx, in, r, &fb)"),
		c("{}(res, fb, abort != nil)", qi("Fallback")),
		c("if abort != nil || !fb.Success { return *new({}), abort }", pg.out(n)),
		rescued,
	}
	pg.method(f, n, runName(n), fmt.Sprintf("%s runs %q and, when it fails, its fallback %q.", runName(n), n.Name, fb.Name), body)
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
		return c("start := r.eng.Env.Clock.Nanotime()")
	}
	return c("var start int64\nif r.record { start = r.eng.Env.Clock.Nanotime() }")
}

func (pg *pipelineGen) clockStop() jen.Code {
	if pg.timed() {
		return c("res.Latency = {}(r.eng.Env.Clock.Nanotime() - start)", jen.Qual("time", "Duration"))
	}
	return c("if r.record { res.Latency = {}(r.eng.Env.Clock.Nanotime() - start) }", jen.Qual("time", "Duration"))
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

// emitLeaf emits a leaf's method: one call of its kernel step.
func (pg *pipelineGen) emitLeaf(f *jen.File, n *analysis.Node, name string) {
	lp := pg.leafPlan(n)
	doc := fmt.Sprintf("%s runs the %s %q: %d attempt(s)", name, strings.ToLower(string(n.Kind)), n.Name, lp.attempts)
	if lp.breaker {
		doc += fmt.Sprintf(", circuit breaker (threshold %d, recovery %v)", lp.threshold, lp.recovery)
	}
	if lp.timeout > 0 {
		doc += fmt.Sprintf(", timeout %v per attempt", lp.timeout)
	}
	pg.method(f, n, name, doc+".", []jen.Code{c("return e."+kstepName(n)+".Run(ctx, &r.eng.Env, in, {}, res)", pg.frame())})
}

// frame is the kernel frame of the run r.
func (pg *pipelineGen) frame() jen.Code {
	fr := jen.Dict{jen.Id("State"): jen.Id("r.state"), jen.Id("Record"): jen.Id("r.record")}
	if pg.usage {
		fr[jen.Id("Budget")] = jen.Id("r.budget")
	}
	return qi("Frame").Values(fr)
}

// leafInit returns the statement that builds the kernel step of the leaf
// lp in the constructor.
func (pg *pipelineGen) leafInit(lp *leafPlan, slot int) jen.Code {
	g, n := pg.g, lp.n
	in, out := pg.in(n), pg.out(n)
	o := n.Options
	leaf := jen.Dict{jen.Id("Name"): jen.Lit(n.Name)}
	fn := g.fn(n.Step.Func)
	ctxIn := []jen.Code{jen.Id("ctx").Qual("context", "Context"), jen.Id("in").Add(in.Clone())}
	switch n.Kind {
	case analysis.KindStep:
		leaf[jen.Id("Call")] = jen.Func().Params(append(ctxIn, jen.Id("_").Any())...).Params(out.Clone(), jen.Error()).Block(c("return {}(ctx, in)", fn))
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
			leaf[jen.Id("Call")] = jen.Func().Params(append(ctxIn, jen.Id("w").Any())...).Params(out.Clone(), jen.Error()).Block(c("return {}(ctx, in, w.(*{}))", fn, pg.stateType()))
			leaf[jen.Id("Fork")] = jen.Func().Params(jen.Id("s").Any()).Any().Block(append(fork, c("return &w"))...)
			leaf[jen.Id("Join")] = jen.Func().Params(jen.Id("s"), jen.Id("w").Any()).Block(c("*s.(*{}) = *w.(*{})", pg.stateType(), pg.stateType()))
		} else {
			leaf[jen.Id("Attempt")] = jen.Func().Params(append(ctxIn, jen.Id("s").Any())...).Params(out.Clone(), jen.Error()).Block(append(fork,
				c("out, err := {}(ctx, in, &w)", fn), c("if err == nil { *st = w }"), c("return out, err"))...)
		}
	case analysis.KindFunc:
		leaf[jen.Id("Call")] = jen.Func().Params(jen.Id("_").Qual("context", "Context"), jen.Id("in").Add(in.Clone()), jen.Id("_").Any()).Params(out.Clone(), jen.Error()).Block(c("return {}(in), nil", fn))
	}
	if o.BackoffMax > 0 || o.BackoffInitial > 0 {
		leaf[jen.Id("Backoff")] = c("{}{Initial: {}, Max: {}, Multiplier: 2}", qr("Backoff"), durationLit(o.BackoffInitial), durationLit(o.BackoffMax))
	}
	if len(o.Validate) > 0 {
		vs := make([]jen.Code, len(o.Validate))
		for i, v := range o.Validate {
			vs[i] = g.fn(v)
		}
		leaf[jen.Id("Validators")] = jen.Index().Func().Params(out.Clone()).Error().Values(vs...)
	}
	if n.Step.OutReportsUsage {
		leaf[jen.Id("Usage")] = jen.Func().Params(jen.Id("o").Add(out.Clone())).Add(qr("Usage")).Block(c("return o.Usage()"))
	}
	counts := qf("CountsAsBreakerFailure")
	if o.BreakerCounts != nil {
		counts = g.fn(*o.BreakerCounts)
	}
	leaf[jen.Id("BreakerCounts")] = counts
	step := jen.Dict{
		jen.Id("Attempts"): jen.Lit(lp.attempts),
		jen.Id("Counters"): jen.Op("&").Id("e." + cntName(n)),
	}
	if lp.timeout > 0 {
		step[jen.Id("Timeout")] = durationLit(lp.timeout)
	}
	if lp.breaker {
		step[jen.Id("Breaker")] = jen.Id("e." + brkName(n))
	}
	if slot > 0 {
		step[jen.Id("Slot")] = jen.Lit(slot)
	}
	if lp.cache {
		if lp.hashFn != "" {
			leaf[jen.Id("Key")] = jen.Func().Params(jen.Id("in").Add(in.Clone())).Params(jen.Uint64(), jen.Bool()).Block(c("return " + lp.hashFn + "(e.seed, in).Sum64(), true"))
		} else {
			leaf[jen.Id("Key")] = jen.Func().Params(jen.Id("in").Add(in.Clone())).Params(jen.Uint64(), jen.Bool()).Block(c("return {}("+strq(n.Step.Fingerprint)+", in)", qi("JSONKey")))
		}
		if lp.copyFn != "" {
			leaf[jen.Id("CopyOut")] = jen.Id(lp.copyFn)
		}
		if lp.keyed {
			step[jen.Id("Cache")] = jen.Id("e." + cacheName(n))
		} else {
			step[jen.Id("Cache")] = qi("UnkeyedCache").Types(in.Clone(), out.Clone()).Values(jen.Dict{jen.Id("C"): jen.Id("e." + cacheName(n))})
		}
	}
	step[jen.Id("Leaf")] = jen.Op("&").Add(qi("Leaf").Types(in.Clone(), out.Clone())).Values(leaf)
	return jen.Id("e." + kstepName(n)).Op("=").Add(qi("Step").Types(in.Clone(), out.Clone())).Values(step)
}

func kstepName(n *analysis.Node) string { return fmt.Sprintf("k%d", n.ID) }

// copyCall returns the call of the deep-copy function fn on expr, or expr
// when no copy is needed.
func copyCall(fn, expr string) string {
	if fn == "" {
		return expr
	}
	return fn + "(" + expr + ")"
}

func strq(s string) string { return fmt.Sprintf("%q", s) }
