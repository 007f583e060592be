package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/flujo/flujo/internal/kernel"
)

// The executor-wide services (classifier, limiter, telemetry, monitor,
// resource manager, auto-tuner), the live ImportConfig, the run counters
// and the stats are the kernel's (flujoimpl.Services), as in the
// ExecutorCore. A generated executor builds only what is typed: its steps'
// breakers and caches and its scratch pool, through the Build hook.

// monitoring reports whether the configuration compiled in monitors step
// latencies.
func (pg *pipelineGen) monitoring() bool { return pg.g.cfg.Optimization.EnablePerformanceMonitoring }

// compresses reports whether a cache of the executor stores values
// encoded and compressed (cache_compression, for an output JSON carries).
func (pg *pipelineGen) compresses() bool {
	for _, lp := range pg.caches {
		if lp.encoded {
			return true
		}
	}
	return false
}

// shrinks reports whether the executor has caches to give back under
// memory pressure (the kernel's Parts shrink the pool).
func (pg *pipelineGen) shrinks() bool { return len(pg.caches) > 0 }

// fields returns the executor struct's fields.
func (pg *pipelineGen) fields() []jen.Code {
	fields := []jen.Code{
		jen.Id("flujogenMethods").Comment("OptimizationStats, LatencyHistograms, PerformanceRecommendations, OptimizationConfig, ExportConfig, ImportConfig, TuningHistory and Close, as the ExecutorCore has them"),
		jen.Id("svc").Op("*").Add(qi("Services")).Comment("configuration, components, run gate and counters"),
	}
	if pg.pooled() {
		fields = append(fields, jen.Id("scratch").Add(qi("Scratch").Types(jen.Id(pg.scratchUnion()))).Comment("working space of Parallel runs (enable_object_pool)"))
	}
	if len(pg.caches) > 0 {
		fields = append(fields, jen.Id("cachesShrunk").Qual("sync/atomic", "Bool").Comment("the caches admit no new results (memory pressure, auto-tuner)"))
		if pg.g.cfg.Optimization.EnableAlgorithmOptimization {
			fields = append(fields, jen.Id("seed").Add(qr("Hash")).Comment("cache keys"))
		}
		fields = append(fields, jen.Id("coarse").Op("*").Add(qr("CoarseClock")).Comment("cache expiry against the system clock"))
		if pg.compresses() {
			fields = append(fields, jen.Id("compressor").Op("*").Add(qr("Compressor")).Comment("shared by the caches"))
		}
	}
	for i, lp := range pg.leaves {
		field := jen.Id(pg.kstepName(lp.n)).Add(qi("Step").Types(pg.in(lp.n), pg.out(lp.n)))
		if i == 0 {
			field = jen.Line().Add(field)
		}
		fields = append(fields, field)
	}
	for _, lp := range pg.caches {
		fields = append(fields, jen.Id(pg.cacheName(lp.n)).Add(pg.cacheType(lp)))
	}
	return fields
}

// constructor returns the body of NewXExecutor: the steps' caches, the
// kernel steps, then the services, which register the steps.
func (pg *pipelineGen) constructor(cfgCall jen.Code) []jen.Code {
	cfg := pg.g.cfg.Optimization
	digest := kernel.StepsDigest(pg.p.Name, pg.g.cfg.Steps)
	b := []jen.Code{
		c("p, err := {}("+strq(pg.X)+", "+strq(pg.p.Name)+", {}, "+strq(digest)+", opts)", qi("NewParts"), cfgCall),
		c("if err != nil { return nil, err }"),
		jen.Id("e").Op(":=").Op("&").Id(pg.X).Values(),
	}
	fail := "return nil, err"
	if len(pg.caches) > 0 {
		fail = "return fail(err)"
		b = append(b, c("fail := func(err error) (*"+pg.X+", error) {\ne.closeParts()\nreturn nil, err\n}"))
	}
	check := func(assign string, args ...jen.Code) jen.Code {
		return c("if "+assign+"; err != nil { "+fail+" }", args...)
	}
	if len(pg.caches) > 0 {
		if cfg.EnableAlgorithmOptimization {
			b = append(b, c("e.seed = {}()", qr("NewHash")))
		}
		b = append(b,
			c("// Expiry is checked on every hit against a coarse reading of the system clock, as in the ExecutorCore."),
			c("cacheClock, coarse := {}(p.Clock())", qr("NewCacheClock")),
			c("e.coarse = coarse"),
		)
		codec := ""
		if pg.compresses() {
			// Values are stored encoded and compressed: every hit decodes
			// a fresh copy.
			b = append(b, check("e.compressor, err = {}()", qr("NewCompressor")))
			codec = ", Codec: {}, CompressAbove: {}, Compressor: e.compressor"
		}
		for _, lp := range pg.caches {
			args := []jen.Code{pg.cacheCtor(lp), qr("ResultCacheOptions"), durationLit(lp.cacheTTL)}
			withCodec := ""
			if lp.encoded {
				withCodec = codec
				args = append(args, qr("JSONCodec").Values(), qr("DefaultCompressAbove"))
			}
			b = append(b, check(fmt.Sprintf("e.%s, err = {}({}{MaxSize: %d, TTL: {}, Clock: cacheClock%s})", pg.cacheName(lp.n), cfg.CacheMaxSize, withCodec), args...))
			b = append(b, c("e.coarse.Need({})", durationLit(lp.cacheTTL)))
		}
	}
	b = append(b, pg.scopePoolInit(fail)...)
	pool := jen.Nil()
	if pg.pooled() {
		u := pg.scratchUnion()
		b = append(b, c("e.scratch.New, e.scratch.Reset = new"+u+", reset"+u))
		pool = jen.Op("&").Id("e.scratch")
	}
	for _, lp := range pg.leaves {
		b = append(b, pg.leafInit(lp)...)
	}
	deps := jen.Dict{}
	if len(pg.caches) > 0 {
		deps[jen.Id("Build")] = jen.Id("e.build")
		deps[jen.Id("Stats")] = jen.Id("e.addStats")
		deps[jen.Id("Close")] = jen.Func().Params(jen.Op("*").Add(qi("Engine"))).Index().Add(qi("Closer")).Block(c("e.closeParts()"), c("return nil"))
		deps[jen.Id("PauseCaches")] = jen.Func().Params(jen.Id("_").Op("*").Add(qi("Engine")), jen.Id("pause").Bool()).Block(c("e.cachesShrunk.Store(pause)"))
	}
	if pg.shrinks() {
		deps[jen.Id("Shrink")] = jen.Id("e.shrink")
	}
	steps := []jen.Code{qi("Deps").Values(deps), pool}
	for _, lp := range pg.leaves {
		steps = append(steps, jen.Op("&").Id("e."+pg.kstepName(lp.n)))
	}
	b = append(b, check("e.svc, err = p.Services({})", jen.List(steps...)), c("e.flujogenMethods = {}(e.svc)", qi("MethodsOf")))
	return append(b, c("return e, nil"))
}

// emitServices emits the methods through which the kernel reaches the
// executor's own parts: build, addStats, closeParts and shrink.
func (pg *pipelineGen) emitServices(f *jen.File) {
	recv := func() *jen.Statement { return jen.Func().Params(jen.Id("e").Op("*").Id(pg.X)) }
	engine := jen.Op("*").Add(qi("Engine"))

	// build: the caches rebuilt when their settings change, as the
	// ExecutorCore builds new ones. The kernel's Parts renew the breakers,
	// the pool and the monitor handles.
	var body, commit []jen.Code
	if len(pg.caches) == 0 {
		return // the kernel's Parts keep the rest
	}
	body = append(body, c("cfg := &next.Config"))
	if len(pg.caches) > 0 {
		// A TTL of the CacheTTL option or of a step override keeps its value.
		body = append(body,
			c("rebuild := old != nil && (cfg.CacheMaxSize != old.Config.CacheMaxSize || cfg.CacheTTLSeconds != old.Config.CacheTTLSeconds)"),
			c("ttl := {}(cfg.CacheTTLSeconds) * {}", jen.Qual("time", "Duration"), jen.Qual("time", "Second")))
		var rebuild []jen.Code
		for _, lp := range pg.caches {
			var t jen.Code = jen.Id("ttl")
			if lp.ownTTL {
				t = durationLit(lp.cacheTTL)
			}
			rebuild = append(rebuild, c("_ = e."+pg.cacheName(lp.n)+".Rebuild(cfg.CacheMaxSize, {}) // valid: Import checked it", t))
		}
		rebuild = append(rebuild, c("e.coarse.Need(ttl)"))
		commit = append(commit, jen.If(jen.Id("rebuild")).Block(rebuild...))
		body = append(body, c("next.Env.CachePaused = &e.cachesShrunk"))
	}
	if len(commit) == 0 {
		body = append(body, c("return nil, nil, nil"))
	} else {
		body = append(body, jen.Return(jen.Func().Params().Block(commit...), jen.Nil(), jen.Nil()))
	}
	f.Commentf("build builds the parts of next that %s keeps itself, taking over old's (nil for the first configuration); the changes to shared parts apply when the returned function runs.", pg.X)
	f.Add(recv()).Id("build").Params(jen.Id("old"), jen.Id("next").Add(engine)).Params(jen.Func().Params(), jen.Index().Add(qi("Closer")), jen.Error()).Block(body...)

	// addStats: the caches (the kernel's Parts add the steps' counters and
	// breakers, and the pool).
	var stats []jen.Code
	for _, lp := range pg.caches {
		// A cache counts from its first lookup, as the ExecutorCore
		// builds a step's cache then.
		stats = append(stats, c("if cs := e."+pg.cacheName(lp.n)+".Stats(); cs.Hits+cs.Misses > 0 { {}(s, "+strq(lp.n.Name)+", cs) }", qi("AddCache")))
	}
	if len(pg.caches) > 0 {
		stats = append(stats, c("s.Cache.AdmissionPaused = e.cachesShrunk.Load()"))
	}
	f.Comment("addStats adds the figures of the executor's own parts to s.")
	f.Add(recv()).Id("addStats").Params(jen.Id("_").Add(engine), jen.Id("s").Op("*").Add(qr("Stats"))).Block(stats...)

	// closeParts: the caches and what they share.
	var closing []jen.Code
	for _, lp := range pg.caches {
		closing = append(closing, c("if e."+pg.cacheName(lp.n)+" != nil { e."+pg.cacheName(lp.n)+".Close() }"))
	}
	if len(pg.caches) > 0 {
		closing = append(closing, c("if e.coarse != nil { e.coarse.Close() }"))
		if pg.compresses() {
			closing = append(closing, c("if e.compressor != nil { e.compressor.Close() }"))
		}
	}
	if len(closing) > 0 {
		f.Comment("closeParts stops the executor's own parts, those built so far when its constructor fails.")
		f.Add(recv()).Id("closeParts").Params().Block(closing...)
	}

	if pg.shrinks() {
		var shrink, restore []jen.Code
		for _, lp := range pg.caches {
			shrink = append(shrink, c("e."+pg.cacheName(lp.n)+".Shrink(0.5)"))
			restore = append(restore, c("e."+pg.cacheName(lp.n)+".RestoreCapacity()"))
		}
		var body []jen.Code
		if len(pg.caches) > 0 {
			body = append(body, jen.If(jen.Id("level").Op("<").Add(qr("PressureHigh"))).Block(
				append(append([]jen.Code{c("e.cachesShrunk.Store(false)")}, restore...), c("return"))...,
			), c("e.cachesShrunk.Store(true)"))
		} else {
			body = append(body, jen.If(jen.Id("level").Op("<").Add(qr("PressureHigh"))).Block(c("return")))
		}
		f.Comment("shrink reacts to memory pressure: from high pressure on, the caches admit no new results and give back half their capacity; below, they admit again at full capacity.")
		f.Add(recv()).Id("shrink").Params(jen.Id("level").Add(qr("PressureLevel"))).Block(append(body, shrink...)...)
	}
}
