package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/flujo/flujo/internal/analysis"
)

// emitComposite emits name, the composite's wrapper (its Timeout, its
// validators and its latency), and bodyK, the composition itself.
func (pg *pipelineGen) emitComposite(f *jen.File, n *analysis.Node, name string) {
	out := pg.out(n)
	o := n.Options
	// A plain sequence's latency is the sum of its steps' latencies, as in
	// the ExecutorCore: it saves two clock reads per run. A timeout or a
	// validator makes it timed like any composite.
	summed := n.Kind == analysis.KindPipeline && o.Timeout == 0 && len(o.Validate) == 0
	body := []jen.Code{c("cctx := ctx")}
	if !summed {
		body = append([]jen.Code{pg.clockStart()}, body...)
	}
	if o.Timeout > 0 {
		body = append(body,
			c("cctx, cancel := {}(ctx, {})", jen.Qual("context", "WithTimeout"), durationLit(o.Timeout)),
			c("defer cancel()"),
		)
	}
	body = append(body, c("out, abort := e."+pg.bodyName(n)+"(cctx, in, r, res)"))
	if o.Timeout > 0 {
		body = append(body, c(`if abort != nil && ctx.Err() == nil && cctx.Err() != nil && !{}(abort) {
	abort = nil
	out = *new({})
	res.Success, res.Output = false, nil
	res.Err = &{}{Step: `+strq(n.Name)+`, Timeout: {}}
	res.Feedback = {}(res.Err)
}`, qi("IsUsageLimit"), out.Clone(), qf("StepTimeoutError"), durationLit(o.Timeout), qr("FailureFeedback")))
	}
	for _, v := range o.Validate {
		body = append(body, c(`if abort == nil && res.Success {
	if verr := {}(out); verr != nil {
		out = *new({})
		res.Success, res.Output = false, nil
		res.Err = &{}{Step: `+strq(n.Name)+`, Err: verr}
		res.Feedback = {}(res.Err)
	}
}`, pg.g.fn(v), out.Clone(), qf("ValidationFailedError"), qr("FailureFeedback")))
	}
	body = append(body, c("_ = cctx"))
	if !summed {
		body = append(body, pg.clockStop())
	}
	body = append(body, c("return out, abort"))
	pg.method(f, n, name, fmt.Sprintf("%s runs the %s %q.", name, n.Kind, n.Name), body)

	var b []jen.Code
	switch n.Kind {
	case analysis.KindPipeline:
		pg.g.emitSeqChild(f)
		b = pg.pipelineBody(n)
	case analysis.KindLoop:
		b = pg.loopBody(f, n)
	case analysis.KindBranch:
		b = pg.branchBody(f, n)
	case analysis.KindParallel:
		b = pg.parallelBody(f, n)
	case analysis.KindMap:
		b = pg.mapBody(n)
	}
	pg.method(f, n, pg.bodyName(n), fmt.Sprintf("%s is the composition of %q.", pg.bodyName(n), n.Name), b)
}

// childRecord appends a child's result to res.Steps: always in recorded
// runs, and in fast runs only when it failed, which is all the failure
// path of the run's error needs.
const childRecord = "if r.Record || !cr.Success { res.Steps = append(res.Steps, cr) }"

// emitSeqChild emits, once per file, flujogenSeqChild: what a Pipeline
// does with the result of each step it ran, so that each step of a
// sequence costs the sequence a few lines.
func (g *generator) emitSeqChild(f *jen.File) {
	if g.seqChild {
		return
	}
	g.seqChild = true
	f.Comment("flujogenSeqChild adds the result cr of a pipeline's step to the pipeline's res: to its steps in recorded runs and whenever the step failed, and to its cost, tokens and latency. stop reports that the pipeline ends here, with abort (nil for a failure).")
	f.Func().Id("flujogenSeqChild").Params(jen.Id("res").Op(",").Id("cr").Op("*").Add(qf("StepResult")), jen.Id("record").Bool(), jen.Id("abort").Error()).Params(jen.Id("stop").Bool(), jen.Id("err").Error()).Block(
		c("if record || !cr.Success { res.Steps = append(res.Steps, *cr) }"),
		c("res.Cost += cr.Cost"),
		c("res.Tokens += cr.Tokens"),
		c("res.Latency += cr.Latency"),
		c("if abort != nil {\nres.Err = abort\nreturn true, abort\n}"),
		c("if !cr.Success {\nres.Err, res.Feedback = cr.Err, cr.Feedback\nreturn true, nil\n}"),
		c("return false, nil"),
	)
}

func (pg *pipelineGen) pipelineBody(n *analysis.Node) []jen.Code {
	b := []jen.Code{
		c("res.Name = " + strq(n.Name)),
		c("res.Attempts = 1"),
		c(fmt.Sprintf("if r.Record { res.Steps = make([]{}, 0, %d) }", len(n.Children)), qf("StepResult")),
	}
	prev := "in"
	for _, ch := range n.Children {
		v := "out" + pg.name(ch)
		b = append(b, jen.Block(
			c("var cr {}", qf("StepResult")),
			c("o, abort := e."+pg.runName(ch)+"(ctx, "+prev+", r, &cr)"),
			c("if stop, abort := flujogenSeqChild(res, &cr, r.Record, abort); stop {\nreturn *new({}), abort\n}", pg.out(n)),
			c(v+" = o"),
		))
		b = append(b[:len(b)-1], c("var "+v+" {}", pg.out(ch)), b[len(b)-1])
		prev = v
	}
	b = append(b, c("res.Success = true"), c("if r.Record { res.Output = "+prev+" }"), c("return "+prev+", nil"))
	return b
}

func (pg *pipelineGen) loopBody(f *jen.File, n *analysis.Node) []jen.Code {
	body := n.Children[0]
	T := pg.out(n)
	until := pg.untilName(n)
	f.Comment(until + " asks the exit condition of loop " + strq(n.Name) + ", turning a panic into a *flujo.PanicError.")
	f.Func().Params(jen.Id("e").Op("*").Id(pg.X)).Id(until).Params(jen.Id("v").Add(T.Clone())).Params(jen.Id("done").Bool(), jen.Id("err").Error()).Block(
		pg.recoverInto(n.Name, "done, err = false, "),
		c("return {}(v), nil", pg.g.fn(n.Loop.Until)),
	)
	max := n.Options.MaxLoops
	return []jen.Code{
		c("res.Name = " + strq(n.Name)),
		c("v := in"),
		jen.For(jen.Id("i").Op(":=").Lit(1), jen.Id("i").Op("<=").Lit(max), jen.Id("i").Op("++")).Block(
			pg.ctxErr(n, "cerr := ", "; cerr != nil {\nres.Err = cerr\nreturn *new({}), cerr\n}", T.Clone()),
			c("var cr {}", qf("StepResult")),
			c("nv, abort := e."+pg.runName(body)+"(ctx, v, r, &cr)"),
			c("res.Attempts = i"),
			c(childRecord),
			c("res.Cost += cr.Cost"),
			c("res.Tokens += cr.Tokens"),
			c("if abort != nil {\nres.Err = abort\nreturn *new({}), abort\n}", T.Clone()),
			c("if !cr.Success {\nres.Err, res.Feedback = cr.Err, cr.Feedback\nreturn *new({}), nil\n}", T.Clone()),
			c("v = nv"),
			c("done, perr := e."+until+"(v)"),
			c("if perr != nil {\nres.Err, res.Feedback = perr, perr.Error()\nreturn *new({}), nil\n}", T.Clone()),
			c("if done {\nres.Success = true\nif r.Record { res.Output = v }\nreturn v, nil\n}"),
		),
		c(fmt.Sprintf("merr := &{}{Loop: %s, MaxLoops: %d}", strq(n.Name), max), qf("MaxLoopsError")),
		c("res.Err, res.Feedback = merr, merr.Error()"),
		c("return *new({}), nil", T.Clone()),
	}
}

// recoverInto is a deferred recover that turns a panic of user code run by
// the composite name into a *flujo.PanicError assigned by assign + err.
func (pg *pipelineGen) recoverInto(name, assign string, args ...jen.Code) jen.Code {
	args = append(args, qf("PanicError"), jen.Qual("runtime/debug", "Stack"))
	return c("defer func() {\nif p := recover(); p != nil {\n"+assign+"&{}{Step: "+strq(name)+", Value: p, Stack: {}()}\n}\n}()", args...)
}

func (pg *pipelineGen) branchBody(f *jen.File, n *analysis.Node) []jen.Code {
	choose := pg.chooseName(n)
	f.Comment(choose + " asks the chooser of branch " + strq(n.Name) + ", turning a panic into a *flujo.PanicError.")
	f.Func().Params(jen.Id("e").Op("*").Id(pg.X)).Id(choose).Params(jen.Id("in").Add(pg.in(n))).Params(jen.Id("key").String(), jen.Id("err").Error()).Block(
		pg.recoverInto(n.Name, "key, err = \"\", "),
		c("return {}(in), nil", pg.g.fn(n.Branch.Chooser)),
	)
	out := pg.out(n)
	cases := []jen.Code{}
	for i, k := range n.Branch.Keys {
		cases = append(cases, jen.Case(jen.Lit(k)).Block(c("o, abort = e."+pg.runName(n.Children[i])+"(ctx, in, r, &cr)")))
	}
	if d := n.Options.Default; d != nil {
		cases = append(cases, jen.Default().Block(c("o, abort = e."+pg.runName(d)+"(ctx, in, r, &cr)")))
	} else {
		cases = append(cases, jen.Default().Block(
			c("nerr := &{}{Branch: "+strq(n.Name)+", Key: key}", qf("NoBranchError")),
			c("res.Err, res.Feedback = nerr, nerr.Error()"),
			c("return *new({}), nil", out.Clone()),
		))
	}
	return []jen.Code{
		c("res.Name = " + strq(n.Name)),
		c("res.Attempts = 1"),
		c("key, kerr := e." + choose + "(in)"),
		c("if kerr != nil {\nres.Err, res.Feedback = kerr, kerr.Error()\nreturn *new({}), nil\n}", out.Clone()),
		c("res.BranchKey = key"),
		c("var cr {}", qf("StepResult")),
		c("var o {}", out.Clone()),
		c("var abort error"),
		jen.Switch(jen.Id("key")).Block(cases...),
		c("if r.Record || !cr.Success { res.Steps = []{}{cr} }", qf("StepResult")),
		c("res.Cost, res.Tokens = cr.Cost, cr.Tokens"),
		c("if abort != nil {\nres.Err = abort\nreturn *new({}), abort\n}", out.Clone()),
		c("if !cr.Success {\nres.Err, res.Feedback = cr.Err, cr.Feedback\nreturn *new({}), nil\n}", out.Clone()),
		c("res.Success = true"),
		c("if r.Record { res.Output = o }"),
		c("return o, nil"),
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
		mk = append(mk, fmt.Sprintf("%s: %s{done: make(chan int, %d)},", pg.partName(n), pg.scratchName(n), len(n.Children)))
		keep = append(keep, fmt.Sprintf("%s: %s{done: u.%s.done},", pg.partName(n), pg.scratchName(n), pg.partName(n)))
	}
	f.Commentf("%s is the pooled working space of the Parallel runs of %s, one field per Parallel.", u, pg.X)
	f.Type().Id(u).Struct(fields...)
	f.Func().Id("new" + u).Params().Id(u).Block(c("return " + u + "{\n" + strings.Join(mk, "\n") + "\n}"))
	f.Func().Id("reset" + u).Params(jen.Id("u").Op("*").Id(u)).Block(c("*u = " + u + "{\n" + strings.Join(keep, "\n") + "\n}"))
}

// pooled reports whether Parallel scratch space is pooled
// (enable_object_pool).
func (pg *pipelineGen) pooled() bool { return pg.g.cfg.Optimization.EnableObjectPool }

// emitScratch emits the working space of one run of the Parallel n: what
// its branches write, in one object, pooled with enable_object_pool, so a
// run allocates nothing but its goroutines.
func (pg *pipelineGen) emitScratch(f *jen.File, n *analysis.Node) {
	k := len(n.Children)
	bs := pg.branchStates[n]
	fields := []jen.Code{
		jen.Id("results").Index(jen.Lit(k)).Add(qf("StepResult")),
		jen.Id("aborts").Index(jen.Lit(k)).Error(),
		jen.Id("finished").Index(jen.Lit(k)).Bool(),
		jen.Id("done").Chan().Int(),
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
	get := []jen.Code{c(fmt.Sprintf("return &%s{done: make(chan int, %d)}", name, k))}
	if pg.pooled() {
		get = []jen.Code{c("u := e.scratch.Load().Get()"), c("u." + pg.partName(n) + ".owner = u"), c("return &u." + pg.partName(n))}
	}
	f.Commentf("get%s returns working space for parallel %q.", name, n.Name)
	f.Func().Params(jen.Id("e").Op("*").Id(pg.X)).Id("get" + name).Params().Op("*").Id(name).Block(get...)
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

// withScopePool adds the making of the scope pool to the constructor body
// b, before its final return.
func (pg *pipelineGen) withScopePool(b []jen.Code) []jen.Code {
	if !pg.scoped() {
		return b
	}
	cfg := pg.g.cfg.Optimization
	mk := c(fmt.Sprintf("if e.%s, err = {}(%d, %v); err != nil { return fail(err) }", scopePool, cfg.ObjectPoolMaxSize, cfg.ObjectPoolCleanupThreshold), qr("NewScopePool"))
	return append(b[:len(b)-1:len(b)-1], mk, b[len(b)-1])
}

func (pg *pipelineGen) parallelBody(f *jen.File, n *analysis.Node) []jen.Code {
	k := len(n.Children)
	out := pg.out(n)
	pi := n.Parallel
	propagate := n.Options.OnBranchFailure != analysis.Ignore
	pg.emitScratch(f, n)
	b := []jen.Code{
		c("res.Name = " + strq(n.Name)),
		c("res.Attempts = 1"),
		c("sc := e.get" + pg.scratchName(n) + "()"),
	}
	// Siblings are cancelled when one fails (Propagate) or aborts the run
	// (a usage limit); else the caller's context is enough.
	cancellable := propagate || pg.usage
	cancel := "cancel()"
	switch {
	case cancellable && pg.scopeReusable(n):
		b = append(b, c("bctx := e."+scopePool+".Get(ctx)"))
		cancel = "bctx.Cancel()"
	case cancellable:
		b = append(b, c("bctx, cancel := {}(ctx)", jen.Qual("context", "WithCancel")), c("defer cancel()"))
	default: // nothing to cancel
		b = append(b, c("bctx := ctx"))
		cancel = ""
	}
	bs := pg.branchStates[n]
	for i, br := range n.Children {
		rs := fmt.Sprintf("sc.r%d", i)
		b = append(b, c(rs+" = *r"))
		if i < len(bs) && bs[i].copied {
			w := fmt.Sprintf("sc.w%d", i)
			b = append(b, pg.stateCopy(w, "r.State", bs[i].fields, bs[i].whole, n.Pos, true)...)
			b = append(b, c(rs+".State = &"+w))
		}
		// A step that calls runtime.Goexit ends the branch's goroutine: the
		// deferred call reports the branch failed instead of leaving the
		// Parallel waiting for it.
		b = append(b,
			c("e.svc.Track.EnterChild()"),
			c(fmt.Sprintf("go func() {\ndefer e.svc.Track.ExitChild()\nexited := true\ndefer func() {\nif exited {\nsc.o%d, sc.aborts[%d] = *new({}), nil\n{}(&sc.results[%d], %s)\nsc.done <- %d\n}\n}()\nsc.o%d, sc.aborts[%d] = e.%s(bctx, in, &%s, &sc.results[%d])\nexited = false\nsc.done <- %d\n}()",
				i, i, i, strq(br.Name), i, i, i, pg.runName(br), rs, i, i), pg.out(br), qi("GoexitResult")),
		)
	}
	abandon := ""
	if cancellable && pg.scopeReusable(n) {
		abandon = "// They hold the scope too: it is cancelled, never reused.\nbctx.Abandon()\n"
	}
	failCase := ""
	if propagate {
		failCase = "case !sc.results[i].Success && (failed < 0 || i < failed):\n\tfailed = i\n\t" + cancel + "\n"
	}
	b = append(b,
		c("var abort error"),
		c("failed := -1"),
		c("_ = failed"),
		jen.For(jen.Range().Lit(k)).Block(
			c(`select {
case i := <-sc.done:
	sc.finished[i] = true
	switch ab := sc.aborts[i]; {
	case ab != nil && ({}(ctx) != nil || {}(ab)):
		if abort == nil {
			abort = ab
			`+cancel+`
		}
	case ab != nil:
	`+failCase+`}
case <-{}(ctx):
	// The branches still running see the cancellation and end in
	// goroutines the executor counts; they may still write the scratch
	// space, which is therefore not reused.
	`+abandon+`for i := range sc.results {
		if sc.finished[i] {
			res.Steps = append(res.Steps, sc.results[i])
		}
	}
	cerr := {}(ctx)
	res.Err = cerr
	return *new({}), cerr
}`, qr("ContextErr"), qi("IsUsageLimit"), qr("ContextDone"), qr("ContextErr"), out.Clone()),
		),
	)
	if cancellable && pg.scopeReusable(n) {
		// Every branch has returned: nothing the executor started holds
		// the scope any more.
		b = append(b, c("e."+scopePool+".Put(bctx)"))
	}
	if pg.pooled() {
		b = append(b, c("defer e.scratch.Load().Put(sc.owner)"))
	}
	b = append(b,
		c("if r.Record || abort != nil || failed >= 0 { res.Steps = append(res.Steps, sc.results[:]...) }"),
		c("for i := range sc.results {\nres.Cost += sc.results[i].Cost\nres.Tokens += sc.results[i].Tokens\n}"),
		c("if abort != nil {\nres.Err = abort\nreturn *new({}), abort\n}", out.Clone()),
	)
	if propagate {
		b = append(b, c("if failed >= 0 {\nfr := &sc.results[failed]\nres.Err = fr.Err\nres.Feedback = {}(\"branch %q failed: %s\", fr.Name, fr.Feedback)\nreturn *new({}), nil\n}",
			jen.Qual("fmt", "Sprintf"), out.Clone()))
	}
	join := pg.joinName(n)
	params := []jen.Code{}
	args := ""
	for i := range n.Children {
		params = append(params, jen.Id(fmt.Sprintf("a%d", i)).Add(pg.g.typ(pi.JoinParams[i].Type, n.Pos)))
		if i > 0 {
			args += ", "
		}
		args += fmt.Sprintf("a%d", i)
	}
	var call jen.Code
	if pi.JoinReturnsError {
		call = c("return {}("+args+")", pg.g.fn(pi.Join))
	} else {
		call = c("return {}("+args+"), nil", pg.g.fn(pi.Join))
	}
	f.Comment(join + " calls the join of parallel " + strq(n.Name) + ", turning a panic into a *flujo.PanicError.")
	f.Func().Params(jen.Id("e").Op("*").Id(pg.X)).Id(join).Params(params...).Params(jen.Id("out").Add(out.Clone()), jen.Id("err").Error()).Block(
		pg.recoverInto(n.Name, "out, err = *new({}), ", out.Clone()),
		call,
	)
	oargs := ""
	for i := range n.Children {
		if i > 0 {
			oargs += ", "
		}
		oargs += fmt.Sprintf("sc.o%d", i)
	}
	joinCall := []jen.Code{c("out, jerr := e." + join + "(" + oargs + ")")}
	if pi.JoinReturnsError {
		joinCall = append(joinCall, c("if jerr != nil {\nif _, ok := jerr.(*{}); !ok { jerr = &{}{Parallel: "+strq(n.Name)+", Err: jerr} }\nres.Err, res.Feedback = jerr, jerr.Error()\nreturn *new({}), nil\n}",
			qf("PanicError"), qf("JoinError"), out.Clone()))
	} else {
		joinCall = append(joinCall, c("if jerr != nil {\nres.Err, res.Feedback = jerr, jerr.Error()\nreturn *new({}), nil\n}", out.Clone()))
	}
	b = append(b, pg.conflictCheck(f, n, bs)...)
	b = append(b, joinCall...)
	// A failed Parallel merges nothing: the branches' writes reach the
	// state only once the join has accepted their outputs.
	b = append(b, pg.mergeCode(n, bs)...)
	b = append(b, c("res.Success = true"), c("if r.Record { res.Output = out }"), c("return out, nil"))
	return b
}

func (pg *pipelineGen) mapBody(n *analysis.Node) []jen.Code {
	body := n.Children[0]
	out := pg.out(n)
	outElem := pg.g.typ(n.Map.OutElem.Type, n.Pos)
	conc := n.Options.Concurrency
	seq := c(`for i := range in {
	ab := error(nil)
	outs[i], ab = e.` + pg.runName(body) + `(ctx, in[i], r, &results[i])
	finished[i] = true
	if ab != nil {
		abort = ab
		break
	}
	if !results[i].Success {
		failed = i
		break
	}
}`)
	b := []jen.Code{
		c("res.Name = " + strq(n.Name)),
		c("res.Attempts = 1"),
		c("outs := make([]{}, len(in))", outElem),
		c("results := make([]{}, len(in))", qf("StepResult")),
		c("finished := make([]bool, len(in))"),
		c("failed := -1"),
		c("var abort error"),
	}
	if conc <= 1 {
		b = append(b, seq)
	} else {
		// Workers stop taking elements once one fails or aborts the run.
		mctx := []jen.Code{c("mctx, cancel := {}(ctx)", jen.Qual("context", "WithCancel")), c("defer cancel()")}
		cancel, abandon := "cancel()", ""
		if pg.scopeReusable(n) {
			mctx = []jen.Code{c("mctx := e." + scopePool + ".Get(ctx)")}
			cancel = "mctx.Cancel()"
			abandon = "// Workers still running hold the scope: it is cancelled, never reused.\nmctx.Abandon()\n"
		}
		par := append(mctx,
			c("var next {}", jen.Qual("sync/atomic", "Int64")),
			c("var mu {}", jen.Qual("sync", "Mutex")),
			c("done := make(chan bool, workers)"),
			c(`record := func(i int, cr *{}, o {}, ab error) {
	mu.Lock()
	defer mu.Unlock()
	results[i], finished[i], outs[i] = *cr, true, o
	switch {
	case ab != nil && ({}(ctx) != nil || {}(ab)):
		if abort == nil {
			abort = ab
		}
		`+cancel+`
	case ab != nil:
	case !cr.Success && (failed < 0 || i < failed):
		failed = i
		`+cancel+`
	}
}`, qf("StepResult"), outElem.Clone(), qr("ContextErr"), qi("IsUsageLimit")),
			// A step that calls runtime.Goexit ends its worker: the deferred
			// call reports the element failed instead of losing it.
			c(`for range workers {
	e.svc.Track.EnterChild()
	go func() {
		defer e.svc.Track.ExitChild()
		cur := -1 // the element in progress
		var cr {}
		defer func() {
			if cur >= 0 {
				{}(&cr, `+strq(body.Name)+`)
				record(cur, &cr, *new({}), nil)
			}
			done <- true
		}()
		for {
			i := int(next.Add(1) - 1)
			if i >= len(in) || {}(mctx) != nil {
				return
			}
			cur, cr = i, *new({})
			o, ab := e.`+pg.runName(body)+`(mctx, in[i], r, &cr)
			cur = -1
			record(i, &cr, o, ab)
		}
	}()
}`, qf("StepResult"), qi("GoexitResult"), outElem.Clone(), qr("ContextErr"), qf("StepResult")),
			c(`for range workers {
	select {
	case <-done:
	case <-{}(ctx):
		`+abandon+`cerr := {}(ctx)
		res.Err = cerr
		return nil, cerr
	}
}`, qr("ContextDone"), qr("ContextErr")),
		)
		if pg.scopeReusable(n) {
			// Every worker has returned: nothing the executor started holds
			// the scope any more.
			par = append(par, c("e."+scopePool+".Put(mctx)"))
		}
		b = append(b, c(fmt.Sprintf("workers := min(%d, len(in))", conc)),
			jen.If(jen.Id("workers <= 1")).Block(seq).Else().Block(par...))
	}
	b = append(b,
		c("for i := range results {\nif finished[i] {\nif r.Record || abort != nil || failed >= 0 { res.Steps = append(res.Steps, results[i]) }\nres.Cost += results[i].Cost\nres.Tokens += results[i].Tokens\n}\n}"),
		c("if abort != nil {\nres.Err = abort\nreturn nil, abort\n}"),
		c("if failed >= 0 {\nres.Err, res.Feedback = results[failed].Err, results[failed].Feedback\nreturn nil, nil\n}"),
		c("res.Success = true"),
		c("if r.Record { res.Output = outs }"),
		c("return outs, nil"),
	)
	_ = out
	return b
}
