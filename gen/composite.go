package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/flujo/flujo/internal/analysis"
)

// emitComposite emits name, the method that runs the composite n: its
// composition, timed (its latency), and, with a Timeout or validators, in
// a wrapper that applies them around bodyK, the composition itself.
func (pg *pipelineGen) emitComposite(f *jen.File, n *analysis.Node, name string) {
	var b []jen.Code
	switch n.Kind {
	case analysis.KindPipeline:
		b = pg.pipelineBody(n)
	case analysis.KindLoop:
		b = pg.loopBody(n)
	case analysis.KindBranch:
		b = pg.branchBody(n)
	case analysis.KindParallel:
		b = pg.parallelBody(f, n)
	case analysis.KindMap:
		b = pg.mapBody(n)
	}
	doc := fmt.Sprintf("%s runs the %s %q.", name, n.Kind, n.Name)
	o := n.Options
	if o.Timeout == 0 && len(o.Validate) == 0 {
		// A plain sequence's latency is the sum of its steps' latencies, as
		// in the ExecutorCore: it saves two clock reads per run. Any other
		// composite's is measured once it returned.
		if n.Kind != analysis.KindPipeline {
			b = append([]jen.Code{pg.clockStart(), c("defer func() { {} }()", pg.clockStop())}, b...)
		}
		pg.method(f, n, name, doc, b)
		return
	}
	body := []jen.Code{pg.clockStart()}
	cctx := "ctx"
	if o.Timeout > 0 {
		cctx = "cctx"
		body = append(body,
			c("cctx, cancel := {}(ctx, {})", jen.Qual("context", "WithTimeout"), durationLit(o.Timeout)),
			c("defer cancel()"),
		)
	}
	body = append(body, c("out, abort := e."+pg.bodyName(n)+"("+cctx+", in, r, res)"))
	if o.Timeout > 0 {
		body = append(body, c("out, abort = {}(ctx, cctx, "+strq(n.Name)+", {}, res, out, abort)", qi("CompositeTimeout"), durationLit(o.Timeout)))
	}
	for _, v := range o.Validate {
		body = append(body, c("out = {}("+strq(n.Name)+", {}, res, out, abort)", qi("Validated"), pg.validator(n, v)))
	}
	body = append(body, pg.clockStop(), c("return out, abort"))
	pg.method(f, n, name, doc, body)
	pg.method(f, n, pg.bodyName(n), fmt.Sprintf("%s is the composition of %q.", pg.bodyName(n), n.Name), b)
}

// succeed returns the end of a composite that succeeded with output v.
func succeed(v string) jen.Code { return c("return {}(res, r.Record, "+v+"), nil", qi("Succeed")) }

// childDone is the handling of the result cr of a child of a Pipeline,
// Loop or Branch, whose output type is out: added to the composite's, which
// ends here when the child aborted or failed.
func childDone(cr string, out jen.Code) jen.Code {
	return c("if stop, abort := {}(res, &"+cr+", r.Record, abort); stop {\nreturn *new({}), abort\n}", qi("Child"), out)
}

func (pg *pipelineGen) pipelineBody(n *analysis.Node) []jen.Code {
	b := []jen.Code{
		c("res.Name = " + strq(n.Name)),
		c("res.Attempts = 1"),
		c(fmt.Sprintf("if r.Record { res.Steps = make([]{}, 0, %d) }", len(n.Children)), qf("StepResult")),
	}
	// The children's results, declared on one line.
	crs := make([]string, len(n.Children))
	for i, ch := range n.Children {
		crs[i] = "cr" + pg.name(ch)
	}
	b = append(b, c("var "+strings.Join(crs, ", ")+" {}", qf("StepResult")))
	prev := "in"
	for _, ch := range n.Children {
		v, cr := "out"+pg.name(ch), "cr"+pg.name(ch)
		b = append(b,
			c(v+", abort := "+pg.call(ch, "ctx", prev, "r", "&"+cr)),
			childDone(cr, pg.out(n)),
		)
		prev = v
	}
	b = append(b, succeed(prev))
	return b
}

func (pg *pipelineGen) loopBody(n *analysis.Node) []jen.Code {
	body := n.Children[0]
	T := pg.out(n)
	max := n.Options.MaxLoops
	return []jen.Code{
		c("res.Name = " + strq(n.Name)),
		c("v := in"),
		jen.For(jen.Id("i").Op(":=").Lit(1), jen.Id("i").Op("<=").Lit(max), jen.Id("i").Op("++")).Block(
			pg.ctxErr(n, "cerr := ", "; cerr != nil {\nres.Err = cerr\nreturn *new({}), cerr\n}", T.Clone()),
			c("var cr {}", qf("StepResult")),
			c("nv, abort := "+pg.call(body, "ctx", "v", "r", "&cr")),
			c("res.Attempts = i"),
			childDone("cr", T.Clone()),
			c("v = nv"),
			c("done, perr := {}("+strq(n.Name)+", func() (bool, error) { return {}(v), nil })", qi("Guard"), pg.g.fn(n.Loop.Until)),
			c("if perr != nil {\n{}(res, perr)\nreturn *new({}), nil\n}", qi("Fail"), T.Clone()),
			c("if done {\nreturn {}(res, r.Record, v), nil\n}", qi("Succeed")),
		),
		c(fmt.Sprintf("{}(res, %s, %d)", strq(n.Name), max), qi("LoopExhausted")),
		c("return *new({}), nil", T.Clone()),
	}
}

func (pg *pipelineGen) branchBody(n *analysis.Node) []jen.Code {
	out := pg.out(n)
	cases := []jen.Code{}
	for i, k := range n.Branch.Keys {
		cases = append(cases, jen.Case(jen.Lit(k)).Block(c("o, abort = "+pg.call(n.Children[i], "ctx", "in", "r", "&cr"))))
	}
	if d := n.Options.Default; d != nil {
		cases = append(cases, jen.Default().Block(c("o, abort = "+pg.call(d, "ctx", "in", "r", "&cr"))))
	} else {
		cases = append(cases, jen.Default().Block(
			c("{}(res, "+strq(n.Name)+", key)", qi("NoCase")),
			c("return *new({}), nil", out.Clone()),
		))
	}
	return []jen.Code{
		c("res.Name = " + strq(n.Name)),
		c("res.Attempts = 1"),
		c("key, kerr := {}("+strq(n.Name)+", func() (string, error) { return {}(in), nil })", qi("Guard"), pg.g.fn(n.Branch.Chooser)),
		c("if kerr != nil {\n{}(res, kerr)\nreturn *new({}), nil\n}", qi("Fail"), out.Clone()),
		c("res.BranchKey = key"),
		c("var cr {}", qf("StepResult")),
		c("var o {}", out.Clone()),
		c("var abort error"),
		jen.Switch(jen.Id("key")).Block(cases...),
		childDone("cr", out.Clone()),
		succeed("o"),
	}
}

// scratchUnion is the type of the pooled working space: one field per
// Parallel, so that an executor keeps one pool whatever its pipeline, as
// the ExecutorCore does, and the pool's counters and gauges are the same.
func (pg *pipelineGen) scratchUnion() string { return "scratch" + pg.X }

// emitScratchUnion emits the pooled working space type and its
// constructor and reset functions, when scratch space is pooled.
func (pg *pipelineGen) emitScratchUnion(f *jen.File) {
	if !pg.pooled() {
		return
	}
	u := pg.scratchUnion()
	var fields []jen.Code
	var mk, keep []string
	for _, n := range pg.scratchPools() {
		fields = append(fields, jen.Id(pg.partName(n)).Id(pg.scratchName(n)))
		mk = append(mk, fmt.Sprintf("%s: %s{done: make(chan struct{ }, 1)},", pg.partName(n), pg.scratchName(n)))
		keep = append(keep, fmt.Sprintf("%s: %s{done: u.%s.done},", pg.partName(n), pg.scratchName(n), pg.partName(n)))
	}
	f.Commentf("%s is the pooled working space of the Parallel runs of %s, one field per Parallel.", u, pg.X)
	f.Type().Id(u).Struct(fields...)
	sep := "\n" // one field per line, or all on one line when there is one
	if len(mk) == 1 {
		sep = ""
		mk[0], keep[0] = strings.TrimSuffix(mk[0], ","), strings.TrimSuffix(keep[0], ",")
	}
	f.Func().Id("new" + u).Params().Id(u).Block(c("return " + u + "{" + sep + strings.Join(mk, sep) + sep + "}"))
	f.Func().Id("reset" + u).Params(jen.Id("u").Op("*").Id(u)).Block(c("*u = " + u + "{" + sep + strings.Join(keep, sep) + sep + "}"))
}

// pooled reports whether Parallel scratch space is pooled
// (enable_object_pool).
func (pg *pipelineGen) pooled() bool {
	return pg.g.cfg.Optimization.EnableObjectPool && len(pg.branchStates) > 0
}

// emitScratch emits the working space of one run of the Parallel n: what
// its branches write, in one object, pooled with enable_object_pool, so a
// run allocates nothing but its goroutines.
func (pg *pipelineGen) emitScratch(f *jen.File, n *analysis.Node) {
	k := len(n.Children)
	bs := pg.branchStates[n]
	fields := []jen.Code{
		jen.Id("results").Index(jen.Lit(k)).Add(qf("StepResult")),
		jen.Id("branches").Index(jen.Lit(k)).Add(qi("FanBranch")),
		jen.Id("fan").Add(qi("Fan")),
		jen.Id("done").Chan().Struct(),
	}
	if pg.pooled() {
		fields = append(fields, jen.Id("owner").Op("*").Id(pg.scratchUnion()).Comment("the pooled object holding this one"))
	}
	for i, br := range n.Children {
		fields = append(fields, jen.Id(fmt.Sprintf("o%d", i)).Add(pg.out(br)), jen.Id(fmt.Sprintf("r%d", i)).Add(qi("Run").Types(pg.stateType())))
		if i < len(bs) && bs[i].copied {
			fields = append(fields, jen.Id(fmt.Sprintf("w%d", i)).Add(pg.stateType()))
		}
	}
	name := pg.scratchName(n)
	f.Commentf("%s is the working space of one run of parallel %q.", name, n.Name)
	f.Type().Id(name).Struct(fields...)
}

// getScratch returns the statements that set sc to working space for a
// run of the Parallel n: from the pool with enable_object_pool.
func (pg *pipelineGen) getScratch(n *analysis.Node) []jen.Code {
	if !pg.pooled() {
		return []jen.Code{c(fmt.Sprintf("sc := &%s{done: make(chan struct{ }, 1)}", pg.scratchName(n)))}
	}
	return []jen.Code{c("u := e.scratch.Load().Get()"), c("sc := &u." + pg.partName(n)), c("sc.owner = u")}
}

// scratchPools returns the Parallel nodes whose scratch space is pooled.
func (pg *pipelineGen) scratchPools() []*analysis.Node {
	if !pg.pooled() {
		return nil
	}
	var out []*analysis.Node
	for _, n := range pg.nodes {
		if n.Kind == analysis.KindParallel {
			out = append(out, n)
		}
	}
	return out
}

// scopePool is the executor field holding the cancellable contexts of
// Parallel and Map runs.
const scopePool = "scopes"

// scoped reports whether the executor pools the cancellable contexts of its
// Parallel and Map runs (enable_object_pool): whether it has a Parallel
// that cancels its branches or a concurrent Map.
func (pg *pipelineGen) scoped() bool {
	for _, n := range pg.nodes {
		switch {
		case n.Kind == analysis.KindParallel && (n.Options.OnBranchFailure != analysis.Ignore || pg.usage),
			n.Kind == analysis.KindMap && n.Options.Concurrency > 1:
			if pg.scopeReusable(n) {
				return true
			}
		}
	}
	return false
}

// scopeReusable reports whether the cancellable context of the Parallel or
// Map n comes from the scope pool (enable_object_pool): only when no step
// below n can see it, since every one of them provably ignores its context
// (see analysis.Leaf.ContextUnused). A step that keeps its context past its
// return, in a goroutine or a derived context, could otherwise meet a later
// run's cancellation and values once the scope is reused; such pipelines
// get a fresh context.WithCancel per run.
func (pg *pipelineGen) scopeReusable(n *analysis.Node) bool {
	if !pg.pooled() {
		return false
	}
	var blind func(*analysis.Node) bool
	blind = func(x *analysis.Node) bool {
		if x == nil {
			return true
		}
		if x.Step != nil && !x.Step.ContextUnused {
			return false
		}
		for _, ch := range x.Children {
			if !blind(ch) {
				return false
			}
		}
		return blind(x.Options.Fallback) && blind(x.Options.Default)
	}
	return blind(n)
}

// ctxErr returns "if <pre>ERR<post>", ERR the check of ctx for node n:
// runtime.ContextErr, which leaves a pooled scope unobserved, when n may run
// under one, else the plain ctx.Err().
func (pg *pipelineGen) ctxErr(n *analysis.Node, pre, post string, args ...jen.Code) *jen.Statement {
	if pg.underScope == nil {
		pg.underScope = map[*analysis.Node]bool{}
		var mark func(*analysis.Node)
		mark = func(x *analysis.Node) {
			if x == nil || pg.underScope[x] {
				return
			}
			pg.underScope[x] = true
			for _, ch := range x.Children {
				mark(ch)
			}
			mark(x.Options.Fallback)
			mark(x.Options.Default)
		}
		for _, x := range pg.nodes {
			if (x.Kind == analysis.KindParallel || x.Kind == analysis.KindMap) && pg.scopeReusable(x) {
				for _, ch := range x.Children {
					mark(ch)
				}
			}
		}
	}
	if pg.underScope[n] {
		return c("if "+pre+"{}(ctx)"+post, append([]jen.Code{qr("ContextErr")}, args...)...)
	}
	return c("if "+pre+"ctx.Err()"+post, args...)
}

// scopeField returns the executor field of the scope pool, if any.
func (pg *pipelineGen) scopeField() []jen.Code {
	if !pg.scoped() {
		return nil
	}
	return []jen.Code{jen.Line(), jen.Id(scopePool).Op("*").Add(qr("ScopePool")).Comment("cancellable contexts of Parallel and Map runs")}
}

// scopePoolInit returns the making of the scope pool in the constructor,
// if any; fail is how the constructor returns an error.
func (pg *pipelineGen) scopePoolInit(fail string) []jen.Code {
	if !pg.scoped() {
		return nil
	}
	cfg := pg.g.cfg.Optimization
	return []jen.Code{c(fmt.Sprintf("if e.%s, err = {}(%d, %v); err != nil { %s }", scopePool, cfg.ObjectPoolMaxSize, cfg.ObjectPoolCleanupThreshold, fail), qr("NewScopePool"))}
}

func (pg *pipelineGen) parallelBody(f *jen.File, n *analysis.Node) []jen.Code {
	out := pg.out(n)
	pi := n.Parallel
	propagate := n.Options.OnBranchFailure != analysis.Ignore
	pg.emitScratch(f, n)
	b := append([]jen.Code{
		c("res.Name = " + strq(n.Name)),
		c("res.Attempts = 1"),
	}, pg.getScratch(n)...)
	// Siblings are cancelled when one fails (Propagate) or aborts the run
	// (a usage limit); else the caller's context is enough.
	cancellable := propagate || pg.usage
	var cancel jen.Code = jen.Nil() // nothing to cancel
	switch {
	case cancellable && pg.scopeReusable(n):
		b = append(b, c("bctx := e."+scopePool+".Get(ctx)"))
		cancel = jen.Id("bctx")
	case cancellable:
		b = append(b, c("bctx, cancel := {}(ctx)", jen.Qual("context", "WithCancel")), c("defer cancel()"))
		cancel = qi("CancelFunc").Call(jen.Id("cancel"))
	default:
		b = append(b, c("bctx := ctx"))
	}
	bs := pg.branchStates[n]
	for i := range n.Children {
		rs := fmt.Sprintf("sc.r%d", i)
		b = append(b, c(rs+" = *r"))
		if i < len(bs) && bs[i].copied {
			w := fmt.Sprintf("sc.w%d", i)
			b = append(b, pg.stateCopy(w, "r.State", bs[i].fields, bs[i].whole, n.Pos, true)...)
			b = append(b, c(rs+".State = &"+w))
		}
	}
	// Start counts the branches' goroutines in the executor's run gate:
	// nothing between it and the goroutines' start can fail.
	b = append(b, c(fmt.Sprintf("sc.fan.Start(ctx, {}, %v, sc.results[:], sc.branches[:], sc.done, &e.svc.Track)", propagate), cancel))
	for i, br := range n.Children {
		// A step that calls runtime.Goexit ends the branch's goroutine
		// before it assigns the branch's Abort: Exit reports the branch failed instead of
		// leaving the Parallel waiting for it. The goroutine calls the
		// branch directly, keeping its stack shallow: a new goroutine's
		// stack is small, and growing it costs more than a trivial step.
		b = append(b, c(fmt.Sprintf("go func() {\ndefer sc.fan.Exit(%d, %s)\nsc.o%d, sc.branches[%d].Abort = %s\n}()",
			i, strq(br.Name), i, i, pg.call(br, "bctx", "in", fmt.Sprintf("&sc.r%d", i), fmt.Sprintf("&sc.results[%d]", i)))))
	}
	abandon := ""
	if cancellable && pg.scopeReusable(n) {
		abandon = "// They hold the scope too: it is cancelled, never reused.\nbctx.Abandon()\n"
	}
	b = append(b,
		c("abort, failed, cerr := sc.fan.Wait()"),
		// The branches still running see the cancellation and end in
		// goroutines the executor counts; they may still write the scratch
		// space, which is therefore not reused.
		c("if cerr != nil {\n"+abandon+"return *new({}), sc.fan.Abandoned(res, cerr)\n}", out.Clone()),
	)
	if cancellable && pg.scopeReusable(n) {
		// Every branch has returned: nothing the executor started holds
		// the scope any more.
		b = append(b, c("e."+scopePool+".Put(bctx)"))
	}
	if pg.pooled() {
		b = append(b, c("defer e.scratch.Load().Put(sc.owner)"))
	}
	b = append(b, c("if stop, abort := {}(res, sc.results[:], r.Record, abort, failed); stop {\nreturn *new({}), abort\n}", qi("Branches"), out.Clone()))
	oargs := ""
	for i := range n.Children {
		if i > 0 {
			oargs += ", "
		}
		oargs += fmt.Sprintf("sc.o%d", i)
	}
	call := "return {}(" + oargs + "), nil"
	if pi.JoinReturnsError {
		call = "return {}(" + oargs + ")"
	}
	joinCall := []jen.Code{
		c("out, jerr := {}("+strq(n.Name)+", func() ({}, error) { "+call+" })", qi("Guard"), out.Clone(), pg.g.fn(pi.Join)),
		c("if jerr != nil {\n{}(res, "+strq(n.Name)+", jerr)\nreturn *new({}), nil\n}", qi("JoinFailed"), out.Clone()),
	}
	b = append(b, pg.conflictCheck(f, n, bs)...)
	b = append(b, joinCall...)
	// A failed Parallel merges nothing: the branches' writes reach the
	// state only once the join has accepted their outputs.
	b = append(b, pg.mergeCode(n, bs)...)
	b = append(b, succeed("out"))
	return b
}

func (pg *pipelineGen) mapBody(n *analysis.Node) []jen.Code {
	body := n.Children[0]
	outElem := pg.g.typ(n.Map.OutElem.Type, n.Pos)
	conc := n.Options.Concurrency
	b := []jen.Code{
		c("res.Name = " + strq(n.Name)),
		c("res.Attempts = 1"),
		c("outs := make([]{}, len(in))", outElem),
		c("results := make([]{}, len(in))", qf("StepResult")),
		c("finished := make([]bool, len(in))"),
		c("run := func(ctx {}, i int, cr *{}) ({}, error) {\nreturn "+pg.call(body, "ctx", "in[i]", "r", "cr")+"\n}",
			jen.Qual("context", "Context"), qf("StepResult"), outElem.Clone()),
	}
	seq := c("abort, failed = {}(ctx, outs, results, finished, run)", qi("MapSeq"))
	if conc <= 1 {
		b = append(b, c("abort, failed := {}(ctx, outs, results, finished, run)", qi("MapSeq")))
	} else {
		// Workers stop taking elements once one fails or aborts the run.
		par := []jen.Code{c("mctx, cancel := {}(ctx)", jen.Qual("context", "WithCancel")), c("defer cancel()")}
		cancel, abandon := "cancel", ""
		if pg.scopeReusable(n) {
			par = []jen.Code{c("mctx := e." + scopePool + ".Get(ctx)")}
			cancel = "mctx.Cancel"
			abandon = "// Workers still running hold the scope: it is cancelled, never reused.\nmctx.Abandon()\n"
		}
		par = append(par,
			c("var cerr error"),
			c("abort, failed, cerr = {}(ctx, mctx, "+cancel+", &e.svc.Track, workers, "+strq(body.Name)+", outs, results, finished, run)", qi("MapWorkers")),
			c("if cerr != nil {\n"+abandon+"res.Err = cerr\nreturn nil, cerr\n}"),
		)
		if pg.scopeReusable(n) {
			// Every worker has returned: nothing the executor started holds
			// the scope any more.
			par = append(par, c("e."+scopePool+".Put(mctx)"))
		}
		b = append(b,
			c("var abort error"),
			c("var failed int"),
			jen.If(c(fmt.Sprintf("workers := min(%d, len(in))", conc)), jen.Id("workers <= 1")).Block(seq).Else().Block(par...),
		)
	}
	b = append(b,
		c("if stop, abort := {}(res, results, finished, r.Record, abort, failed); stop {\nreturn nil, abort\n}", qi("Elements")),
		succeed("outs"),
	)
	return b
}
