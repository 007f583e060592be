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
func (pg *pipelineGen) emitFallback(f *jen.File, n *analysis.Node, primary string) {
	fb := n.Options.Fallback
	body := []jen.Code{
		c("out, abort := e." + primary + "(ctx, in, r, res)"),
		c("if abort != nil || res.Success { return out, abort }"),
		c("var fb {}", qf("StepResult")),
		c("fout, abort := e." + runName(fb) + "(ctx, in, r, &fb)"),
		c("res.FallbackTriggered = true"),
		c("res.OriginalError = res.Err"),
		c("res.Attempts += fb.Attempts"),
		c("res.Cost += fb.Cost"),
		c("res.Tokens += fb.Tokens"),
		c("res.Latency += fb.Latency"),
		c("res.Steps = append(res.Steps[:len(res.Steps):len(res.Steps)], fb)"),
		c("if abort != nil { return *new({}), abort }", pg.out(n)),
		pg.fallbackSuccess(n),
		c("res.Err = &{}{Original: res.OriginalError, Fallback: fb.Err}", qf("FallbackError")),
		c("res.Feedback = {}(res.Feedback, fb.Feedback)", qr("FallbackFeedback")),
		c("return *new({}), nil", pg.out(n)),
	}
	pg.method(f, n, runName(n), fmt.Sprintf("%s runs %q and, when it fails, its fallback %q.", runName(n), n.Name, fb.Name), body)
}

// fallbackSuccess returns the statement that ends a run rescued by its
// fallback. A cached leaf stores the fallback's output under its own key,
// as the ExecutorCore does, so the next run on an equal input is a hit.
func (pg *pipelineGen) fallbackSuccess(n *analysis.Node) jen.Code {
	body := "res.Success, res.Output, res.Err, res.Feedback = true, fb.Output, nil, \"\"\n"
	if lp := pg.leafPlan(n); lp != nil && lp.cache {
		return jen.If(jen.Id("fb").Dot("Success")).Block(c(body), pg.cacheKey(lp), pg.cacheStore(lp, "fout"), c("return fout, nil"))
	}
	return c("if fb.Success {\n" + body + "return fout, nil\n}")
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
		return c("start := e.clock.Nanotime()")
	}
	return c("var start int64\nif r.record { start = e.clock.Nanotime() }")
}

func (pg *pipelineGen) clockStop() jen.Code {
	if pg.timed() {
		return c("res.Latency = {}(e.clock.Nanotime() - start)", jen.Qual("time", "Duration"))
	}
	return c("if r.record { res.Latency = {}(e.clock.Nanotime() - start) }", jen.Qual("time", "Duration"))
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

// emitLeaf emits a leaf's attempts loop and its call.
func (pg *pipelineGen) emitLeaf(f *jen.File, n *analysis.Node, name string) {
	lp := pg.leafPlan(n)
	cfg := pg.g.cfg.Optimization
	classifier := cfg.EnableOptimizedErrorHandling
	breaker := lp.breaker
	out := pg.out(n)
	aborted := func(errExpr string) jen.Code {
		if errExpr != "" {
			errExpr += "\n"
		}
		canceled := ""
		if pg.telemetry() {
			// A cancelled execution says nothing about the step: telemetry
			// alone hears of it.
			canceled = "e.telemetry.Record({}{Step: " + strq(n.Name) + ", Start: start, End: start + int64(res.Latency), Attempts: int32(res.Attempts), Outcome: {}})\n"
			return c("{\n"+errExpr+"{}\nres.Err = cerr\nres.Feedback = {}(cerr)\n"+canceled+
				"return *new({}), cerr\n}", pg.clockStopCode(), qr("FailureFeedback"), qr("Event"), qr("OutcomeCanceled"), out.Clone())
		}
		return c("{\n"+errExpr+"{}\nres.Err = cerr\nres.Feedback = {}(cerr)\n"+
			"return *new({}), cerr\n}", pg.clockStopCode(), qr("FailureFeedback"), out.Clone())
	}
	body := []jen.Code{c("res.Name = " + strq(n.Name))}
	if lp.cache {
		// The lookup comes before the step's clock reading: a hit reads
		// the clock once, for its timestamp, and takes no time of its own.
		body = append(body, pg.cacheLookup(lp)...)
	}
	body = append(body,
		pg.clockStart(),
		c("var out {}", out.Clone()),
		c("var err error"),
	)
	if pg.telemetry() && breaker {
		body = append(body, c("brFrom := uint8(e."+brkName(n)+".State())"))
	}
	if classifier {
		body = append(body, c("var prev error"))
	}
	usage := n.Step.OutReportsUsage
	if usage {
		body = append(body, c("var breach error"))
	}
	if pg.adaptive() {
		body = append(body, c("var served int64 // when the last attempt's permit was granted"))
	}
	loop := []jen.Code{}
	retry := []jen.Code{}
	if classifier {
		retry = append(retry, c("if !e.classifier.RetryableIn(ctx, err) { break }"))
	}
	o := n.Options
	if o.BackoffMax > 0 || o.BackoffInitial > 0 {
		retry = append(retry, c("if d := ({}{Initial: {}, Max: {}, Multiplier: 2}).Delay(attempt-1, 0); d > 0 {\nif cerr := {}(ctx, d); cerr != nil ",
			qr("Backoff"), durationLit(o.BackoffInitial), durationLit(o.BackoffMax), qr("Sleep")).Add(aborted("")).Id("\n}"))
	}
	if classifier {
		retry = append(retry, c("prev = err"))
	}
	if lp.attempts > 1 && len(retry) > 0 {
		loop = append(loop, jen.If(jen.Id("attempt").Op(">").Lit(1)).Block(retry...))
	}
	loop = append(loop, pg.ctxErr(n, "cerr := ", "; cerr != nil ").Add(aborted("")))
	if breaker {
		loop = append(loop,
			c("permit := e."+brkName(n)+".Allow()"),
			c("if !permit.Admitted() {\nerr = e."+brkName(n)+".Rejection(permit)\nbreak\n}"))
	}
	if pg.limiter() {
		// A full queue is a rejected attempt, not an upstream failure.
		acquire := "if lerr := e.limiter.Acquire(ctx); lerr != nil {\n"
		if pg.adaptive() {
			// The sample is timed from the grant: without a wait, that is
			// the step's start, so the fast path reads no clock.
			acquire = "waited, lerr := e.limiter.AcquireWaited(ctx)\nif lerr != nil {\n"
		}
		neutral := ""
		if breaker {
			// A half-open probe's slot goes back.
			neutral = "e." + brkName(n) + ".RecordNeutral(permit)\n"
		}
		loop = append(loop, c(acquire+"if lerr == {} {\n"+neutral+"err = &{}{Step: "+strq(n.Name)+", Limit: e.limiter.Limit()}\nbreak\n}\n",
			qr("ErrLimiterRejected"), qr("ConcurrencyLimitError")).Add(aborted("cerr := lerr")).Id("\n}"))
		if pg.adaptive() {
			loop = append(loop, c("if served = start; waited || attempt > 1 { served = e.clock.Nanotime() }"))
		}
	}
	loop = append(loop, c("res.Attempts = attempt"), c("out, err = e."+callName(n)+"(ctx, in, r)"))
	// Every output is charged, one a validator rejects too: the charge
	// opens the block of the first validator.
	charge, chargeArgs := "", []jen.Code{}
	if usage {
		charge, chargeArgs = "u := out.Usage()\nres.Cost += u.Cost\nres.Tokens += u.Tokens()\nbreach = {}(r.budget, u)\n", []jen.Code{qr("ChargeUsage")}
	}
	for _, v := range o.Validate {
		loop = append(loop, c("if err == nil {\n"+charge+"if verr := {}(out); verr != nil { err = &{}{Step: "+strq(n.Name)+", Err: verr} }\n}",
			append(chargeArgs, pg.g.fn(v), qf("ValidationFailedError"))...))
		charge, chargeArgs = "", nil
	}
	if charge != "" {
		loop = append(loop, c("if err == nil {\n"+charge+"}", chargeArgs...))
	}
	loop = append(loop, jen.If(jen.Id("err").Op("!=").Nil()).Block(pg.ctxErr(n, "cerr := ", "; cerr != nil ").Add(aborted(""))))
	if breaker {
		// Failures that say nothing about the upstream's health are neutral.
		counts := qf("CountsAsBreakerFailure")
		if o.BreakerCounts != nil {
			counts = pg.g.fn(*o.BreakerCounts)
		}
		loop = append(loop, c("if err == nil {\ne."+brkName(n)+".RecordSuccess(permit)\n} else if {}(err) {\ne."+brkName(n)+".RecordFailure(permit)\n} else {\ne."+brkName(n)+".RecordNeutral(permit)\n}", counts))
	}
	if classifier {
		loop = append(loop, c("e.classifier.Observe(err)"), c("if prev != nil { e.classifier.ObserveRecovery(prev, err == nil) }"))
	}
	// A breach of the run's budget ends the attempts: the run aborts.
	abort := "nil"
	if usage {
		loop = append(loop, c("if err == nil || breach != nil { break }"))
		abort = "breach"
	} else {
		loop = append(loop, c("if err == nil { break }"))
	}
	body = append(body,
		jen.For(jen.Id("attempt").Op(":=").Lit(1), jen.Id("attempt").Op("<=").Lit(lp.attempts), jen.Id("attempt").Op("++")).Block(loop...),
		pg.clockStopCode(),
		c("if err != nil {\nres.Err = err\nres.Feedback = {}(err)\n"+pg.finishCall(lp, "err")+"\nreturn *new({}), "+abort+"\n}", qr("FailureFeedback"), out.Clone()),
		c("res.Success = true"),
		c("if r.record { res.Output = out }"),
	)
	if lp.cache {
		body = append(body, pg.cacheStore(lp, "out"))
	}
	body = append(body, c(pg.finishCall(lp, "nil")), c("return out, "+abort))
	doc := fmt.Sprintf("%s runs the %s %q: %d attempt(s)", name, strings.ToLower(string(n.Kind)), n.Name, lp.attempts)
	if breaker {
		doc += fmt.Sprintf(", circuit breaker (threshold %d, recovery %v)", lp.threshold, lp.recovery)
	}
	if lp.timeout > 0 {
		doc += fmt.Sprintf(", timeout %v per attempt", lp.timeout)
	}
	pg.method(f, n, name, doc+".", body)
	pg.emitFinish(f, lp)
	pg.emitCall(f, n, lp)
}

func finishName(n *analysis.Node) string { return fmt.Sprintf("finish%d", n.ID) }

// finishCall is the call of the leaf's finish method after an execution
// that ended with the error errExpr.
func (pg *pipelineGen) finishCall(lp *leafPlan, errExpr string) string {
	args := "res, start"
	if pg.outcomes() {
		if errExpr == "hit" {
			args += ", nil"
		} else {
			args += ", " + errExpr
		}
	}
	if pg.adaptive() {
		if errExpr == "hit" {
			args += ", 0"
		} else {
			args += ", served"
		}
	}
	if pg.telemetry() && lp.breaker {
		if errExpr == "hit" {
			args += ", 0"
		} else {
			args += ", brFrom"
		}
	}
	return "e." + finishName(lp.n) + "(" + args + ")"
}

// outcomes reports whether a finished execution's outcome is needed: by
// telemetry, or by the adaptive limiter.
func (pg *pipelineGen) outcomes() bool { return pg.telemetry() || pg.adaptive() }

// emitFinish emits the leaf's finish method: the execution reported to the
// step's counters, the monitor, the adaptive limiter and telemetry, as the
// ExecutorCore reports it, from the step-boundary clock readings.
func (pg *pipelineGen) emitFinish(f *jen.File, lp *leafPlan) {
	n := lp.n
	params := []jen.Code{jen.Id("res").Op("*").Add(qf("StepResult")), jen.Id("start").Int64()}
	if pg.outcomes() {
		params = append(params, jen.Id("err").Error())
	}
	if pg.adaptive() {
		params = append(params, jen.Id("served").Int64())
	}
	telemetryBreaker := pg.telemetry() && lp.breaker
	if telemetryBreaker {
		params = append(params, jen.Id("brFrom").Uint8())
	}
	body := []jen.Code{c("lat := int64(res.Latency)"), c("e." + cntName(n) + ".record(res, e.slowNs.Load())")}
	if pg.monitoring() {
		body = append(body, c("e."+monName(lp)+".Record(lat, res.Success)"))
	}
	if pg.outcomes() {
		body = append(body, c("outcome := {}\nif err != nil { outcome = {}(err) }", qr("OutcomeSuccess"), qi("OutcomeOf")))
	}
	if pg.adaptive() {
		// As in the ExecutorCore: only an execution that held a permit is a
		// sample, timed from the grant; a hit or a rejection took no
		// service time.
		body = append(body, c("if res.Attempts > 0 && !res.CacheHit { e.limiter.Observe(start+lat-served, {}(outcome)) }", qr("LimiterDrop")))
	}
	if pg.telemetry() {
		body = append(body, c("ev := {}{Step: "+strq(n.Name)+", Start: start, End: start + lat, Attempts: int32(res.Attempts), Outcome: outcome, CacheHit: res.CacheHit}", qr("Event")))
		if telemetryBreaker {
			body = append(body, c("if !res.CacheHit { ev.BreakerFrom, ev.BreakerTo = brFrom, uint8(e."+brkName(n)+".State()) }"))
		}
		body = append(body, c("e.telemetry.Record(ev)"))
	}
	if !pg.telemetry() {
		body = append(body, c("_ = start"))
	}
	if !pg.monitoring() && !pg.adaptive() && !pg.telemetry() {
		body = append(body, c("_ = lat"))
	}
	f.Commentf("%s reports a finished execution of %q.", finishName(n), n.Name)
	f.Func().Params(jen.Id("e").Op("*").Id(pg.X)).Id(finishName(n)).Params(params...).Block(body...)
}

func (pg *pipelineGen) clockStopCode() jen.Code { return pg.clockStop() }

// copyCall returns the call of the deep-copy function fn on expr, or expr
// when no copy is needed.
func copyCall(fn, expr string) string {
	if fn == "" {
		return expr
	}
	return fn + "(" + expr + ")"
}

// cacheStore returns the statement that stores out, the output of the
// cached leaf lp, under key (computed already).
func (pg *pipelineGen) cacheStore(lp *leafPlan, out string) jen.Code {
	key := "key"
	if lp.keyed {
		key = "key, in"
	}
	var conds []string
	if lp.hashFn == "" {
		conds = append(conds, "cacheable")
	}
	if pg.resources() {
		// Admission pauses under memory pressure.
		conds = append(conds, "!e.cachesShrunk.Load()")
	}
	set := "_ = e." + cacheName(lp.n) + ".Set(" + key + ", " + copyCall(lp.copyFn, out) + ")"
	if len(conds) > 0 {
		set = "if " + strings.Join(conds, " && ") + " {\n" + set + "\n}"
	}
	return c(set)
}

// cacheKey returns the statement that computes the cache key of the
// cached leaf lp's input: key, and cacheable when keys are JSON.
func (pg *pipelineGen) cacheKey(lp *leafPlan) jen.Code {
	if lp.hashFn == "" {
		return c("key, cacheable := flujogenJSONKey(in)")
	}
	return c("key := " + lp.hashFn + "(e.seed, in).Sum64()")
}

// cacheLookup returns the statements that serve a cached leaf from its
// cache: the input's key, the lookup and, on a hit, the result marked as a
// hit with a copy the caller may mutate.
func (pg *pipelineGen) cacheLookup(lp *leafPlan) []jen.Code {
	n := lp.n
	key := "key"
	if lp.keyed {
		key = "key, in"
	}
	// A hit is stamped with one clock reading and recorded with zero
	// latency: timing a lookup of tens of nanoseconds would cost a second
	// reading, as long as the lookup itself.
	stamp := "var start int64"
	if pg.timed() {
		stamp = "start := e.clock.Nanotime()"
	}
	hit := c("if v, ok := e." + cacheName(n) + ".Get(" + key + "); ok {\n" +
		stamp + "\n" +
		"out := " + copyCall(lp.copyFn, "v") + "\n" +
		"res.Success, res.CacheHit = true, true\n" +
		"if r.record { res.Output = out }\n" +
		pg.finishCall(lp, "hit") + "\n" +
		"return out, nil\n}")
	if lp.hashFn == "" {
		// Keyed by JSON, as the ExecutorCore keys without
		// enable_algorithm_optimization: an input that does not encode
		// runs uncached.
		return []jen.Code{pg.cacheKey(lp), jen.If(jen.Id("cacheable")).Block(hit)}
	}
	return []jen.Code{pg.cacheKey(lp), hit}
}

func strq(s string) string { return fmt.Sprintf("%q", s) }

// emitCall emits callK: one call of the step function, a panic turned into
// a *flujo.PanicError, a StepS on a private copy of the state, a Timeout in
// its own tracked goroutine.
func (pg *pipelineGen) emitCall(f *jen.File, n *analysis.Node, lp *leafPlan) {
	g := pg.g
	out := pg.out(n)
	fn := g.fn(n.Step.Func)
	stateful := n.Kind == analysis.KindStepS
	var invoke jen.Code
	switch n.Kind {
	case analysis.KindStep:
		invoke = c("return {}(ctx, in)", fn)
	case analysis.KindStepS:
		invoke = c("return {}(ctx, in, st)", fn)
	case analysis.KindFunc:
		invoke = c("return {}(in), nil", fn)
	}
	params := []jen.Code{jen.Id("ctx").Qual("context", "Context"), jen.Id("in").Add(pg.in(n))}
	if stateful {
		params = append(params, jen.Id("st").Op("*").Add(pg.stateType()))
	}
	recoverer := c("defer func() {\nif v := recover(); v != nil {\nout, err = *new({}), &{}{Step: "+strq(n.Name)+", Value: v, Stack: {}()}\n}\n}()",
		out.Clone(), qf("PanicError"), jen.Qual("runtime/debug", "Stack"))
	direct := "invoke" + fmt.Sprint(n.ID)
	f.Comment(direct + " calls the step function once, turning a panic into a *flujo.PanicError.")
	f.Func().Params(jen.Id("e").Op("*").Id(pg.X)).Id(direct).Params(params...).Params(jen.Id("out").Add(out.Clone()), jen.Id("err").Error()).Block(recoverer, invoke)

	args := "ctx, in"
	if stateful {
		args += ", st"
	}
	var body []jen.Code
	if pg.limiter() {
		// The attempt holds a permit: released however it ends, so that a
		// step calling runtime.Goexit does not take it along.
		body = append(body, c("defer e.limiter.Release()"))
	}
	if stateful {
		all, fields := true, []string(nil)
		if ws := n.Step.Writes; ws != nil {
			all, fields = ws.All, ws.Fields
		}
		names, whole := pg.writeSet(all, fields)
		body = append(body, pg.stateCopy("w", "r.state", names, whole, n.Pos)...)
		body = append(body, c("st := &w"))
	}
	if lp.timeout <= 0 {
		body = append(body, c("out, err := e."+direct+"("+args+")"))
	} else {
		body = append(body,
			c("actx, cancel := {}(ctx, {})", jen.Qual("context", "WithTimeout"), durationLit(lp.timeout)),
			c("defer cancel()"),
			c("type outcome struct {\nout {}\nerr error\n}", out.Clone()),
			c("done := make(chan outcome, 1)"),
			c("e.track.EnterChild()"),
			c("go func() {\ndefer e.track.ExitChild()\nexited := true\ndefer func() {\nif exited { done <- outcome{err: &{}{Node: "+strq(n.Name)+"}} }\n}()\no, er := e."+direct+"(actx, "+strings.TrimPrefix(args, "ctx, ")+")\nexited = false\ndone <- outcome{o, er}\n}()", qf("GoexitError")),
			c("var out {}", out.Clone()),
			c("var err error"),
		)
		body = append(body, c(`timedOut := false
select {
case a := <-done:
	out, err = a.out, a.err
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		out, err = *new({}), &{}{Step: `+strq(n.Name)+`, Timeout: {}}
	}
case <-actx.Done():
	timedOut = true
	select {
	case a := <-done:
		if a.err == nil {
			out, err, timedOut = a.out, nil, false
		}
	default:
	}
}
if timedOut {
	out = *new({})
	if ctx.Err() != nil {
		err = ctx.Err()
	} else {
		err = &{}{Step: `+strq(n.Name)+`, Timeout: {}}
	}
}`, out.Clone(), qf("StepTimeoutError"), durationLit(lp.timeout), out.Clone(), qf("StepTimeoutError"), durationLit(lp.timeout)))
	}
	if stateful {
		body = append(body, c("if err == nil { *r.state = w }"))
	}
	body = append(body, c("return out, err"))
	doc := fmt.Sprintf("%s makes one attempt of %q", callName(n), n.Name)
	if pg.limiter() {
		doc += " holding a concurrency permit"
	}
	if stateful {
		doc += " on a private copy of the state (of the fields it writes), kept only when the attempt succeeds"
	}
	if lp.timeout > 0 {
		doc += fmt.Sprintf(", abandoned after %v", lp.timeout)
	}
	f.Comment(doc + ".")
	f.Func().Params(jen.Id("e").Op("*").Id(pg.X)).Id(callName(n)).Params(
		jen.Id("ctx").Qual("context", "Context"), jen.Id("in").Add(pg.in(n)), jen.Id("r").Add(pg.runType()),
	).Params(out.Clone(), jen.Error()).Block(body...)
}
