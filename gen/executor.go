package gen

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/runtime"
)

// guards emits the stale-output guards: one signature assertion per
// function the executors call, and the runtime version guard.
func (g *generator) guards(f *jen.File, pipes []*pipelineGen) {
	seen := map[string]bool{}
	type guard struct {
		key string
		sig jen.Code
		ref jen.Code
	}
	var list []guard
	addRef := func(key string, sig, ref jen.Code) {
		if seen[key] {
			return
		}
		seen[key] = true
		list = append(list, guard{key, sig, ref})
	}
	funcKey := func(fr analysis.FuncRef) string {
		return fmt.Sprintf("%s.%s.%s.%v", fr.PkgPath, fr.Recv, fr.Name, fr.TypeArgs)
	}
	add := func(fr analysis.FuncRef, sig jen.Code) { addRef(funcKey(fr), sig, g.fn(fr)) }
	for _, pg := range pipes {
		for _, n := range pg.nodes {
			in, out := pg.in(n), pg.out(n)
			ctx := jen.Qual("context", "Context")
			switch n.Kind {
			case analysis.KindStep:
				add(n.Step.Func, jen.Func().Params(ctx, in).Params(out, jen.Error()))
			case analysis.KindStepS:
				add(n.Step.Func, jen.Func().Params(ctx, in, jen.Op("*").Add(g.typ(n.Step.State.Type, n.Pos))).Params(out, jen.Error()))
			case analysis.KindFunc:
				add(n.Step.Func, jen.Func().Params(in).Add(out))
			case analysis.KindLoop:
				add(n.Loop.Until, jen.Func().Params(in).Bool())
			case analysis.KindBranch:
				add(n.Branch.Chooser, jen.Func().Params(in).String())
			case analysis.KindParallel:
				ps := make([]jen.Code, len(n.Parallel.JoinParams))
				for i, p := range n.Parallel.JoinParams {
					ps[i] = g.typ(p.Type, n.Pos)
				}
				if n.Parallel.JoinReturnsError {
					add(n.Parallel.Join, jen.Func().Params(ps...).Params(pg.out(n), jen.Error()))
				} else {
					add(n.Parallel.Join, jen.Func().Params(ps...).Add(pg.out(n)))
				}
			}
			for _, v := range n.Options.Validate {
				// A validator of another type than the output's is checked
				// through the literal that calls it.
				addRef(funcKey(v)+" "+n.Out.Type, jen.Func().Params(pg.out(n)).Error(), pg.validator(n, v))
			}
			if bc := n.Options.BreakerCounts; bc != nil {
				add(*bc, jen.Func().Params(jen.Error()).Bool())
			}
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].key < list[j].key })
	defs := make([]jen.Code, len(list), len(list)+1)
	for i, gd := range list {
		defs[i] = jen.Id("_").Add(gd.sig).Op("=").Add(gd.ref)
	}
	// The flujoimpl version this file needs: regenerate with the flujogen of
	// the flujo module in go.mod when it fails.
	defs = append(defs, jen.Line().Id("_").Op("=").Add(qi(supportVersion)).Comment("needs a flujoimpl that supports this file's version: regenerate with the flujogen of the flujo module in go.mod"))
	f.Comment(StaleMessage)
	f.Var().Defs(defs...)
	f.Line()
	f.Comment("flujogenMethods gives each executor the methods it has on its services, as the ExecutorCore has them; the name keeps the embedded field unexported.")
	f.Type().Id("flujogenMethods").Op("=").Add(qi("Methods"))
}

// configCode emits statements that set the fields of c which differ from
// the defaults.
func configCode(cfg runtime.OptimizationConfig) []jen.Code {
	def := reflect.ValueOf(runtime.DefaultOptimizationConfig())
	v := reflect.ValueOf(cfg)
	t := v.Type()
	var out []jen.Code
	for i := 0; i < t.NumField(); i++ {
		fv, dv := v.Field(i), def.Field(i)
		if reflect.DeepEqual(fv.Interface(), dv.Interface()) {
			continue
		}
		name := t.Field(i).Name
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				out = append(out, c("c."+name+" = nil"))
			} else {
				out = append(out, jen.Block(c(fmt.Sprintf("n := %v", fv.Elem().Interface())), c("c."+name+" = &n")))
			}
			continue
		}
		out = append(out, jen.Id("c."+name).Op("=").Lit(fv.Interface()))
	}
	return out
}

// emit writes the pipeline's executor type, constructor, methods and node
// methods.
func (pg *pipelineGen) emit(f *jen.File) {
	g := pg.g
	cfg := g.cfg.Optimization
	p := pg.p
	X := pg.X
	in, out := pg.g.typ(p.In.Type, p.Pos), pg.g.typ(p.Out.Type, p.Pos)

	f.Commentf("%s runs the pipeline %s (%q) with the settings of its declaration and of the configuration compiled in. It is safe for concurrent use.", X, p.Var, p.Name)
	f.Type().Id(X).Struct(append(pg.fields(), pg.scopeField()...)...)
	pg.emitScratchUnion(f)

	cfgFn := "flujogenConfig" + X
	var cfgCall jen.Code = jen.Id(cfgFn).Call()
	if set := configCode(cfg); len(set) > 0 {
		f.Commentf("%s is the configuration compiled into %s.", cfgFn, X)
		f.Func().Id(cfgFn).Params().Add(qr("OptimizationConfig")).Block(
			append(append([]jen.Code{c("c := {}()", qr("DefaultOptimizationConfig"))}, set...), c("return c"))...)
	} else {
		cfgCall = qr("DefaultOptimizationConfig").Call() // the configuration compiled in
	}

	f.Commentf("%s returns an executor of %s. It takes the ExecutorCore's options: WithClock (time for latencies, breakers and cache expiry), WithLogger, WithSink (telemetry), WithResourceSampler, WithConfigFile (the run-time fields of a flujo.json) and WithShared (results, breakers and budgets shared across replicas).", pg.ctor, p.Var)
	f.Func().Id(pg.ctor).Params(jen.Id("opts").Op("...").Add(qf("CoreOption"))).Params(jen.Op("*").Id(X), jen.Error()).Block(pg.constructor(cfgCall)...)

	recv := func() *jen.Statement { return jen.Func().Params(jen.Id("e").Op("*").Id(X)) }
	stateParam := []jen.Code{}
	finalState := "nil"
	if pg.stateKey != "" {
		stateParam = []jen.Code{jen.Id("st").Op("*").Add(pg.stateType())}
		finalState = "r.State"
	}
	root := p.Root
	newRun := func(record string) jen.Code {
		if pg.stateKey == "" {
			return c("r := {}(e.svc, nil, "+record+")", qi("NewRun").Types(jen.Struct()))
		}
		return c("r := {}(e.svc, st, "+record+")", qi("NewRun"))
	}

	// Execute: the fast path.
	exec := []jen.Code{
		c("if !e.svc.Track.Enter() { return *new({}), {} }", out.Clone(), qf("ErrClosed")),
		c("defer e.svc.Track.Exit()"),
		newRun("false"),
		c("var res {}", qf("StepResult")),
		c("out, abort := " + pg.call(root, "ctx", "in", "&r", "&res")),
		c("if err := e.svc.EndRun(&res, abort); err != nil { return *new({}), err }", out.Clone()),
		c("return out, nil"),
	}
	f.Commentf("Execute runs %s on in and returns its output. A failed run returns a *flujo.StepError naming the node that failed, or the context's error when ctx was cancelled.", p.Var)
	f.Add(recv()).Id("Execute").Params(append([]jen.Code{jen.Id("ctx").Qual("context", "Context"), jen.Id("in").Add(in.Clone())}, stateParam...)...).Params(out.Clone(), jen.Error()).Block(exec...)

	// ExecuteResult: the recorded path. Limits are checked before any step
	// runs, even by a pipeline whose outputs report no usage.
	resParams := append([]jen.Code{jen.Id("ctx").Qual("context", "Context"), jen.Id("in").Add(in.Clone())}, stateParam...)
	resParams = append(resParams, jen.Id("opts").Op("...").Add(qf("ExecOption")))
	doc := fmt.Sprintf("ExecuteResult runs %s on in and returns its whole result, step history included, as the ExecutorCore does. It takes the ExecutorCore's run options: WithUsageLimits bounds the run's usage.", p.Var)
	start := c("r, err := {}[{}](e.svc, \"\", nil, opts)", qi("StartRecorded"), jen.Struct())
	if pg.stateKey != "" {
		start = c("r, err := {}(e.svc, "+strq(p.Name)+", st, opts)", qi("StartRecorded"))
		doc += " The state is st or, when st is nil, WithState's (given both, they must be the same pointer, else ExecuteResult fails); without either the run starts from a zero state, returned in FinalState."
	}
	er := []jen.Code{
		start,
		c("if err != nil { return nil, err }"),
		c("defer e.svc.Track.Exit()"),
		c("var res {}", qf("StepResult")),
		c("_, abort := " + pg.call(root, "ctx", "in", "&r", "&res")),
		c(fmt.Sprintf("return e.svc.EndRecordedRun(&res, abort, %s, r.Budget, %v)", finalState, root.Kind == analysis.KindPipeline)),
	}
	f.Comment(doc)
	f.Add(recv()).Id("ExecuteResult").Params(resParams...).Params(jen.Op("*").Add(qf("PipelineResult")), jen.Error()).Block(er...)

	callArgs := "ctx, in"
	if pg.stateKey != "" {
		callArgs += ", st"
	}
	f.Comment("ExecuteWithMonitoring runs like ExecuteResult and also returns the run's metrics.")
	f.Add(recv()).Id("ExecuteWithMonitoring").Params(resParams...).Params(jen.Op("*").Add(qf("PipelineResult")), qf("Metrics"), jen.Error()).Block(
		c("return {}(e.ExecuteResult("+callArgs+", opts...))", qi("WithMetrics")),
	)

	pg.emitServices(f)

	pg.emitNode(f, root)
}

// cacheType is the type of a cached leaf's cache field.
func (pg *pipelineGen) cacheType(lp *leafPlan) *jen.Statement {
	if lp.keyed {
		return jen.Op("*").Add(qr("ResultCacheK")).Types(pg.in(lp.n), pg.out(lp.n))
	}
	return jen.Op("*").Add(qr("ResultCache")).Types(pg.out(lp.n))
}

// cacheCtor is the instantiated constructor of a cached leaf's cache.
func (pg *pipelineGen) cacheCtor(lp *leafPlan) *jen.Statement {
	if lp.keyed {
		return qr("NewResultCacheK").Types(pg.in(lp.n), pg.out(lp.n))
	}
	return qr("NewResultCache").Types(pg.out(lp.n))
}

var _ = strings.Join

// runners emits FlujogenRunners: every executor of the file behind one
// dynamically typed signature, for differential tests against the
// ExecutorCore.
func (g *generator) runners(f *jen.File, pipes []*pipelineGen) {
	f.Comment("FlujogenRunner runs one generated executor with dynamically typed input, taking the ExecutorCore's run options.")
	f.Type().Id("FlujogenRunner").Struct(
		jen.Id("Run").Func().Params(jen.Qual("context", "Context"), jen.Any(), jen.Op("...").Add(qf("ExecOption"))).Params(jen.Op("*").Add(qf("PipelineResult")), jen.Error()),
		jen.Id("Stats").Func().Params().Add(qr("Stats")),
		jen.Id("Close").Func().Params(jen.Qual("context", "Context")).Error(),
		jen.Id("Config").Func().Params().Add(qr("OptimizationConfig")),
		jen.Id("Import").Func().Params(jen.Index().Byte(), jen.String()).Error(),
	)
	body := []jen.Code{c("m := make(map[string]func(...{}) (FlujogenRunner, error))", qf("CoreOption"))}
	for _, pg := range pipes {
		in := g.typ(pg.p.In.Type, pg.p.Pos)
		call := "return e.ExecuteResult(ctx, v, opts...)"
		pre := []jen.Code{}
		if pg.stateKey != "" {
			call = "return e.ExecuteResult(ctx, v, nil, opts...)"
		}
		run := jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("in").Any(), jen.Id("opts").Op("...").Add(qf("ExecOption"))).Params(jen.Op("*").Add(qf("PipelineResult")), jen.Error()).Block(
			append(append([]jen.Code{
				c("v, ok := in.({})", in.Clone()),
				c("if in != nil && !ok { return nil, &{}{Node: "+strq(pg.p.Name)+", Expected: {}[{}](), Got: {}(in)} }", qf("InputTypeError"), jen.Qual("reflect", "TypeFor"), in.Clone(), jen.Qual("reflect", "TypeOf")),
			}, pre...), c(call))...)
		body = append(body, jen.Id("m").Index(jen.Lit(pg.p.Var)).Op("=").Func().Params(jen.Id("opts").Op("...").Add(qf("CoreOption"))).Params(jen.Id("FlujogenRunner"), jen.Error()).Block(
			c("e, err := "+pg.ctor+"(opts...)"),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("FlujogenRunner").Values(), jen.Err())),
			jen.Return(jen.Id("FlujogenRunner").Values(jen.Dict{
				jen.Id("Run"):    run,
				jen.Id("Stats"):  jen.Id("e.OptimizationStats"),
				jen.Id("Close"):  jen.Id("e.Close"),
				jen.Id("Config"): jen.Id("e.OptimizationConfig"),
				jen.Id("Import"): jen.Id("e.ImportConfig"),
			}), jen.Nil()),
		))
	}
	body = append(body, c("return m"))
	f.Comment("FlujogenRunners returns the constructors of the executors of this file, keyed by pipeline variable.")
	f.Func().Id("FlujogenRunners").Params().Map(jen.String()).Func().Params(jen.Op("...").Add(qf("CoreOption"))).Params(jen.Id("FlujogenRunner"), jen.Error()).Block(body...)
}
