package gen

import (
	"fmt"
	"time"

	"github.com/dave/jennifer/jen"

	"github.com/flujo/flujo/runtime"
)

// The runtime services an executor builds, as the configuration says:
// telemetry (enable_optimized_telemetry), the monitor
// (enable_performance_monitoring), the limiter (max_concurrent_executions,
// enable_concurrency_optimization) and the resource manager
// (enable_memory_optimization). A disabled service leaves no code.

// resourceInterval is the resource manager's sampling interval, as the
// ExecutorCore sets it.
const resourceInterval = time.Second

func (pg *pipelineGen) monitoring() bool { return pg.g.cfg.Optimization.EnablePerformanceMonitoring }
func (pg *pipelineGen) telemetry() bool  { return pg.g.cfg.Optimization.EnableOptimizedTelemetry }
func (pg *pipelineGen) resources() bool  { return pg.g.cfg.Optimization.EnableMemoryOptimization }

// autotune reports whether the executor runs an auto-tuner
// (enable_automatic_optimization). The field is fixed at generation: with
// it off, no tuner code is emitted.
func (pg *pipelineGen) autotune() bool { return pg.g.cfg.Optimization.EnableAutomaticOptimization }

// limiter reports whether step attempts go through a concurrency limiter:
// when max_concurrent_executions is set or the limit adapts.
func (pg *pipelineGen) limiter() bool {
	cfg := pg.g.cfg.Optimization
	return cfg.MaxConcurrentExecutions != nil || cfg.EnableConcurrencyOptimization
}

// adaptive reports whether the limiter adapts to step latencies. It needs
// them measured, which only monitoring or telemetry does: without either,
// the limit stays where the configuration puts it.
func (pg *pipelineGen) adaptive() bool {
	return pg.g.cfg.Optimization.EnableConcurrencyOptimization && pg.timed()
}

// raisableLimit reports whether the limiter holds a fixed
// max_concurrent_executions that ImportConfig (and so the auto-tuner) may
// raise or lower in place. The limiter is then built with the field's
// largest value as its ceiling and the configured cap as its limit, and the
// executor reports the largest cap set so far as Stats.Concurrency.Max, as
// the ExecutorCore does.
func (pg *pipelineGen) raisableLimit() bool {
	return pg.limiter() && !pg.adaptive() && pg.g.cfg.Optimization.MaxConcurrentExecutions != nil
}

// limitCeiling is the largest max_concurrent_executions the configuration accepts.
func limitCeiling() int {
	f, ok := runtime.LookupConfigField("max_concurrent_executions")
	if !ok {
		panic("gen: runtime.ConfigFields lacks max_concurrent_executions")
	}
	return int(f.Max)
}

// shrinks reports whether the executor gives memory back under pressure:
// with the resource manager, when it has caches or pools.
func (pg *pipelineGen) shrinks() bool {
	return pg.resources() && (len(pg.caches) > 0 || pg.pooled())
}

// fields returns the executor struct's fields.
func (pg *pipelineGen) fields() []jen.Code {
	fields := []jen.Code{
		jen.Id("clock").Add(qr("Clock")),
		jen.Id("env").Add(qi("Env")).Comment("what the steps' executions share"),
		jen.Id("mu").Qual("sync", "Mutex").Comment("serialises ImportConfig"),
		jen.Id("cfg").Qual("sync/atomic", "Pointer").Types(qr("OptimizationConfig")),
		jen.Id("track").Add(qr("RunGate")).Comment("admits runs until Close and counts them"),
		jen.Id("closeOnce").Qual("sync", "Once"),
		jen.Id("closeErr").Error(),
		jen.Line(),
		jen.Comment("Run counters."),
		jen.Id("failures, slow").Qual("sync/atomic", "Uint64"),
		jen.Id("slowNs").Qual("sync/atomic", "Int64").Comment("slow_execution_threshold_ms"),
	}
	if pg.monitoring() {
		fields = append(fields, jen.Id("runLatency").Add(qr("Histogram")).Comment("measured run latencies: total, maximum and the total's percentiles"))
	} else {
		fields = append(fields, jen.Id("totalNs, maxNs").Qual("sync/atomic", "Int64"))
	}
	fields = append(fields, jen.Line())
	if pg.g.cfg.Optimization.EnableOptimizedErrorHandling {
		fields = append(fields, jen.Id("classifier").Op("*").Add(qr("ErrorClassifier")))
	}
	if pg.limiter() {
		fields = append(fields, jen.Id("limiter").Op("*").Add(qr("Limiter")))
		if pg.raisableLimit() {
			fields = append(fields, jen.Id("limitMax").Qual("sync/atomic", "Int64").Comment("largest max_concurrent_executions set so far"))
		}
	}
	if pg.monitoring() {
		fields = append(fields, jen.Id("monitor").Op("*").Add(qr("Monitor")))
	}
	if pg.telemetry() {
		fields = append(fields, jen.Id("telemetry").Op("*").Add(qr("Telemetry")))
	}
	if pg.autotune() {
		fields = append(fields, jen.Id("tuner").Op("*").Add(qr("AutoTuner")).Comment("enable_automatic_optimization"))
	}
	if pg.pooled() {
		fields = append(fields, jen.Id("scratch").Op("*").Add(qr("Pool")).Types(jen.Id(pg.scratchUnion())).Comment("working space of Parallel runs (enable_object_pool)"))
	}
	if pg.resources() {
		fields = append(fields, jen.Id("resources").Op("*").Add(qr("ResourceManager")))
		if len(pg.caches) > 0 {
			fields = append(fields, jen.Id("cachesShrunk").Qual("sync/atomic", "Bool").Comment("the caches gave back capacity under memory pressure"))
		}
	}
	if len(pg.caches) > 0 {
		if pg.g.cfg.Optimization.EnableAlgorithmOptimization {
			fields = append(fields, jen.Id("seed").Add(qr("Hash")).Comment("cache keys"))
		}
		fields = append(fields, jen.Id("coarse").Op("*").Add(qr("CoarseClock")).Comment("cache expiry against the system clock"))
		if pg.g.cfg.Optimization.CacheCompression {
			fields = append(fields, jen.Id("compressor").Op("*").Add(qr("Compressor")).Comment("shared by the caches"))
		}
	}
	for _, lp := range pg.leaves {
		fields = append(fields, jen.Line(), jen.Comment(fmt.Sprintf("Step %q.", lp.n.Name)),
			jen.Id(pg.kstepName(lp.n)).Add(qi("Step").Types(pg.in(lp.n), pg.out(lp.n))),
			jen.Id(pg.cntName(lp.n)).Add(qi("StepCounters")))
		if lp.breaker {
			fields = append(fields, jen.Id(pg.brkName(lp.n)).Op("*").Add(qr("Breaker")))
		}
		if lp.cache {
			fields = append(fields, jen.Id(pg.cacheName(lp.n)).Add(pg.cacheType(lp)))
		}
		if pg.monitoring() {
			fields = append(fields, jen.Id(pg.monName(lp)).Op("*").Add(qr("StepMonitor")))
		}
	}
	return fields
}

// runTotals sets the stats' run count, total and maximum latency and slow
// count: the latencies from the run latency histogram with monitoring on,
// else from the two counters kept instead.
func (pg *pipelineGen) runTotals() jen.Code {
	if pg.monitoring() {
		return c("{\nhs := e.runLatency.Snapshot()\ns.Execution = {}{Count: e.track.Completed(), TotalMs: {}(int64(hs.Sum)), MaxMs: {}(int64(hs.Max)), Slow: e.slow.Load()}\n}", qr("StatsExecution"), qi("Ms"), qi("Ms"))
	}
	return c("s.Execution = {}{Count: e.track.Completed(), TotalMs: {}(e.totalNs.Load()), MaxMs: {}(e.maxNs.Load()), Slow: e.slow.Load()}", qr("StatsExecution"), qi("Ms"), qi("Ms"))
}

// constructor returns the body of NewXExecutor.
func (pg *pipelineGen) constructor(cfgFn string) []jen.Code {
	cfg := pg.g.cfg.Optimization
	slowNs := int64(cfg.SlowExecutionThreshold())
	b := []jen.Code{
		c("set := {}(opts)", qi("CoreOptionsOf")),
		c("clock := set.Clock"),
		c("if clock == nil { return nil, {}(\"flujo: WithClock(nil)\") }", jen.Qual("errors", "New")),
		c("e := &" + pg.X + "{clock: clock}"),
		c("cfg := " + cfgFn + "()"),
		c("e.cfg.Store(&cfg)"),
		c(fmt.Sprintf("e.slowNs.Store(%d)", slowNs)),
	}
	// fail and err are declared only when a component can fail to build:
	// with every component off, nothing can.
	head := len(b)
	checked := false
	check := func(assign string, args ...jen.Code) jen.Code {
		checked = true
		return c("if "+assign+"; err != nil { return fail(err) }", args...)
	}
	if cfg.EnableOptimizedErrorHandling {
		b = append(b, check(fmt.Sprintf("e.classifier, err = {}(%d, %d)", cfg.ErrorCacheSize, classifierPermanentAfter), qr("NewErrorClassifier")))
	}
	for _, lp := range pg.leaves {
		if lp.breaker {
			b = append(b, check(fmt.Sprintf("e.%s, err = {}(%s, {}{FailureThreshold: %d, RecoveryTimeout: {}, Clock: clock})",
				pg.brkName(lp.n), strq(lp.n.Name), lp.threshold), qr("NewBreaker"), qr("BreakerSettings"), durationLit(lp.recovery)))
		}
	}
	if pg.pooled() {
		u := pg.scratchUnion()
		b = append(b, check(fmt.Sprintf("e.scratch, err = {}(%d, %v, new%s, reset%s)", cfg.ObjectPoolMaxSize, cfg.ObjectPoolCleanupThreshold, u, u), qr("NewPool")))
	}
	if pg.limiter() {
		b = append(b, c("lo := {}()", qr("DefaultLimiterOptions")))
		if m := cfg.MaxConcurrentExecutions; m != nil && pg.raisableLimit() {
			b = append(b, c(fmt.Sprintf("lo.Max = %d", limitCeiling())), c(fmt.Sprintf("lo.Initial = %d", *m)),
				c(fmt.Sprintf("e.limitMax.Store(%d)", *m)))
		} else if m != nil {
			b = append(b, c(fmt.Sprintf("lo.Max = %d", *m)))
		}
		if !pg.adaptive() {
			b = append(b, c("lo.MinQueue = {}", qr("FixedLimiterMinQueue")))
		}
		b = append(b, c(fmt.Sprintf("lo.Adaptive = %v", pg.adaptive())),
			check("e.limiter, err = {}(lo)", qr("NewLimiter")))
	}
	if len(pg.caches) > 0 {
		if cfg.EnableAlgorithmOptimization {
			b = append(b, c("e.seed = {}()", qr("NewHash")))
		}
		b = append(b,
			c("// Expiry is checked on every hit against a coarse reading of the system clock, as in the ExecutorCore."),
			c("cacheClock, coarse := {}(clock)", qr("NewCacheClock")),
			c("e.coarse = coarse"),
		)
		codec := ""
		if cfg.CacheCompression {
			// Values are stored encoded and compressed: every hit decodes
			// a fresh copy.
			b = append(b, check("e.compressor, err = {}()", qr("NewCompressor")))
			codec = ", Codec: {}, CompressAbove: {}, Compressor: e.compressor"
		}
		for _, lp := range pg.caches {
			args := []jen.Code{pg.cacheCtor(lp), qr("ResultCacheOptions"), durationLit(lp.cacheTTL)}
			if codec != "" {
				args = append(args, qr("JSONCodec").Values(), qr("DefaultCompressAbove"))
			}
			b = append(b, check(fmt.Sprintf("e.%s, err = {}({}{MaxSize: %d, TTL: {}, Clock: cacheClock%s})", pg.cacheName(lp.n), cfg.CacheMaxSize, codec), args...))
			b = append(b, c("e.coarse.Need({})", durationLit(lp.cacheTTL)))
		}
	}
	if pg.monitoring() {
		window := cfg.AnalysisInterval()
		b = append(b, check("e.monitor, err = {}({}{SlowThreshold: {}, DegradationThreshold: {}, WindowInterval: {}})",
			qr("NewMonitor"), qr("MonitorOptions"), durationLit(time.Duration(slowNs)), jen.Lit(cfg.PerformanceDegradationThreshold), durationLit(window)))
		for _, lp := range pg.leaves {
			b = append(b, c("e."+pg.monName(lp)+" = e.monitor.Step("+strq(lp.n.Name)+")"))
		}
	}
	if pg.telemetry() {
		flush := cfg.TelemetryFlushInterval()
		b = append(b, check(fmt.Sprintf("e.telemetry, err = {}({}{BatchSize: %d, FlushInterval: {}, Sink: set.Sink, Logger: set.Logger})", cfg.TelemetryBatchSize),
			qr("NewTelemetry"), qr("TelemetryOptions"), durationLit(flush)))
	}
	if pg.resources() {
		limit := ""
		if pg.limiter() {
			limit = "Limit: e.limiter, "
		}
		b = append(b, check("e.resources, err = {}({}{MemoryThresholdMB: {}, CPUThresholdPercent: {}, Interval: {}, "+limit+"Sampler: set.Sampler, Logger: set.Logger})",
			qr("NewResourceManager"), qr("ResourceOptions"), jen.Lit(cfg.MemoryPressureThresholdMb), jen.Lit(cfg.CPUUsageThresholdPercent), durationLit(resourceInterval)))
		if pg.shrinks() {
			b = append(b, check("err = e.resources.RegisterShrinker(\"result-cache\", e.shrink)"))
		}
		b = append(b, check("err = e.resources.Start()"))
	}
	env := jen.Dict{jen.Id("Clock"): jen.Id("clock"), jen.Id("SlowNs"): jen.Id("&e.slowNs"), jen.Id("Track"): jen.Id("&e.track")}
	if !pg.timed() {
		env[jen.Id("Untimed")] = jen.True()
	}
	if pg.limiter() {
		env[jen.Id("Limiter")] = jen.Id("e.limiter")
	}
	if cfg.EnableOptimizedErrorHandling {
		env[jen.Id("Classifier")] = jen.Id("e.classifier")
	}
	if pg.telemetry() {
		env[jen.Id("Telemetry")] = jen.Id("e.telemetry")
	}
	if pg.resources() && len(pg.caches) > 0 {
		env[jen.Id("CachePaused")] = jen.Id("&e.cachesShrunk")
	}
	b = append(b, jen.Id("e.env").Op("=").Add(qi("Env")).Values(env))
	for _, lp := range pg.leaves {
		b = append(b, pg.leafInit(lp))
	}
	if pg.autotune() {
		// The tuner reads and changes the executor only through its
		// methods, so it starts last, on a complete executor.
		interval := cfg.AnalysisInterval()
		b = append(b,
			check("e.tuner, err = {}({}{Interval: {}, Snapshot: e.OptimizationStats, Config: e.OptimizationConfig, Apply: e.applyTuning, Logger: set.Logger})",
				qr("NewAutoTuner"), qr("AutoTunerOptions"), durationLit(interval)),
			check("err = e.tuner.Start()"))
	}
	if checked {
		decl := []jen.Code{
			c("fail := func(err error) (*"+pg.X+", error) {\ne.closeComponents({}())\nreturn nil, err\n}", jen.Qual("context", "Background")),
			c("var err error"),
		}
		b = append(b[:head], append(decl, b[head:]...)...)
	}
	b = append(b, c("return e, nil"))
	return b
}

// closeComponents returns the body of closeComponents: every component
// that holds a goroutine or a resource, nil ones skipped.
func (pg *pipelineGen) closeComponents() []jen.Code {
	b := []jen.Code{c("var errs []error")}
	if pg.autotune() {
		// First, so that no analysis runs against stopped components.
		b = append(b, c("if e.tuner != nil { errs = append(errs, e.tuner.Close(ctx)) }"))
	}
	if pg.resources() {
		b = append(b, c("if e.resources != nil { errs = append(errs, e.resources.Close(ctx)) }"))
	}
	if pg.telemetry() {
		b = append(b, c("if e.telemetry != nil { errs = append(errs, e.telemetry.Close(ctx)) }"))
	}
	if pg.monitoring() {
		b = append(b, c("if e.monitor != nil { errs = append(errs, e.monitor.Close(ctx)) }"))
	}
	for _, lp := range pg.caches {
		b = append(b, c("if e."+pg.cacheName(lp.n)+" != nil { e."+pg.cacheName(lp.n)+".Close() }"))
	}
	if len(pg.caches) > 0 {
		b = append(b, c("e.coarse.Close()"))
		if pg.g.cfg.Optimization.CacheCompression {
			b = append(b, c("if e.compressor != nil { e.compressor.Close() }"))
		}
	}
	return append(b, c("return {}(errs...)", jen.Qual("errors", "Join")))
}

// stats returns the body of OptimizationStats, which mirrors the
// ExecutorCore's.
func (pg *pipelineGen) stats() []jen.Code {
	cfg := pg.g.cfg.Optimization
	b := []jen.Code{
		c("cfg := *e.cfg.Load()"),
		c("s := {}{Config: cfg.Clone(), Steps: make(map[string]{})}", qr("Stats"), qr("StatsStep")),
		c("s.Memory.UsageMB = {}()", qi("HeapMB")),
		pg.runTotals(),
	}
	if pg.limiter() {
		maxOf := "l.Max()"
		if pg.raisableLimit() {
			maxOf = "int(e.limitMax.Load())"
		}
		b = append(b, c("l := e.limiter"),
			c("s.Concurrency = {}{Level: l.InFlight(), Limit: l.Limit(), Max: "+maxOf+", Waiting: l.Waiting(), Rejected: l.Rejected()}", qr("StatsConcurrency")))
	} else {
		b = append(b, c("s.Concurrency.Level = int(e.track.Running())"))
	}
	if pg.resources() {
		b = append(b, jen.Block(
			c("snap := e.resources.Snapshot()"),
			c("if snap.Samples > 0 { s.Memory.UsageMB = snap.MemoryUsageMB }"),
			c("s.Memory.PressureLevel = {}(snap.MemoryPressureLevel)", qr("StatsPressureLevel")),
			c("s.CPU.UsagePercent = snap.CPUPercent"),
		))
	}
	if pg.telemetry() {
		b = append(b, c("tc := e.telemetry.Counters()"),
			c("s.Telemetry = {}{Recorded: tc.Recorded, Exported: tc.Exported, Dropped: tc.Dropped, SinkErrors: tc.SinkErrors + tc.SinkPanics, Batches: tc.Batches, BatchSize: e.telemetry.BatchSize(), FlushIntervalSeconds: e.telemetry.FlushInterval().Seconds()}", qr("StatsTelemetry")))
	}
	for _, lp := range pg.leaves {
		name := strq(lp.n.Name)
		b = append(b, c("e."+pg.cntName(lp.n)+".AddTo(s.Steps, "+name+")"))
		if lp.cache {
			// A cache counts from its first lookup, as the ExecutorCore
			// builds a step's cache then.
			cn := pg.cacheName(lp.n)
			b = append(b, c("cs := e."+cn+".Stats()"), jen.If(jen.Id("cs.Hits+cs.Misses > 0")).Block(
				c("st := s.Steps["+name+"]"),
				c("st.Cache.Evictions += cs.Evictions"),
				c("st.Cache.Expiries += cs.Expiries"),
				c("st.Cache.Size += cs.Size"),
				c("st.Cache.Capacity += cs.Capacity"),
				c("s.Steps["+name+"] = st"),
				c("s.Cache.Hits += cs.Hits"),
				c("s.Cache.Misses += cs.Misses"),
				c("s.Cache.Evictions += cs.Evictions"),
				c("s.Cache.Expiries += cs.Expiries"),
				c("s.Cache.Size += cs.Size"),
				c("s.Cache.Capacity += cs.Capacity"),
			))
		}
		if lp.breaker {
			b = append(b, jen.Block(
				c("bc := e."+pg.brkName(lp.n)+".Counters()"),
				c("st := s.Steps["+name+"]"),
				c("st.CircuitBreaker.Calls += bc.Calls"),
				c("st.CircuitBreaker.Failures += bc.Failures"),
				c("st.CircuitBreaker.Rejections += bc.Rejections"),
				c("st.CircuitBreaker.Opens += bc.Opens"),
				c("st.CircuitBreaker.State = max(st.CircuitBreaker.State, bc.State.StatsState())"),
				c("s.Steps["+name+"] = st"),
			))
		}
	}
	if pg.monitoring() {
		b = append(b, jen.Block(
			c("snap := e.monitor.Snapshot()"),
			c("for _, ms := range snap.Steps {\nif st, ok := s.Steps[ms.Step]; ok {\nflujogenPercentiles(&st.Execution, ms)\ns.Steps[ms.Step] = st\n}\n}"),
			c("hs := e.runLatency.Snapshot()"),
			c("s.Execution.P50Ms, s.Execution.P95Ms, s.Execution.P99Ms = {}(int64(hs.P50)), {}(int64(hs.P95)), {}(int64(hs.P99))", qi("Ms"), qi("Ms"), qi("Ms")),
			c("s.Execution.Regression = snap.Total.Regressed"),
		))
	}
	b = append(b, c(`for _, st := range s.Steps {
	s.Errors.Executions += st.Errors.Executions
	s.Errors.Failures += st.Errors.Failures
	s.Errors.Retries += st.Errors.Retries
	s.Errors.RecoveryAttempts += st.Errors.RecoveryAttempts
	s.Errors.Recoveries += st.Errors.Recoveries
}`))
	if cfg.EnableOptimizedErrorHandling {
		b = append(b, c("cc := e.classifier.Counters()"), c("s.Errors.SkippedRetries = cc.SkippedRetries"), c("s.Errors.CachedPatterns = cc.Patterns"))
	}
	if pg.resources() && len(pg.caches) > 0 {
		b = append(b, c("s.Cache.AdmissionPaused = e.cachesShrunk.Load()"))
	}
	if pg.pooled() {
		b = append(b, jen.Block(
			c("ps := e.scratch.Stats()"),
			c("s.Memory.ObjectPool = {}{Gets: ps.Gets, Hits: ps.Hits, Misses: ps.Misses, Puts: ps.Puts - ps.Drops, Drops: ps.Drops, Idle: ps.Idle, Capacity: ps.Capacity}", qr("StatsPool")),
		))
	}
	return append(b, c("return s"))
}

// emitImportConfig emits ImportConfig and the methods that apply run-time
// fields to the running components.
func (pg *pipelineGen) emitImportConfig(f *jen.File) {
	X := pg.X
	recv := func() *jen.Statement { return jen.Func().Params(jen.Id("e").Op("*").Id(X)) }
	f.Commentf("ImportConfig lays data over the configuration in force and applies the run-time fields that %s applies while it runs. The other fields were fixed when it was generated or built: when data changes any, they are named in the error and the rest is applied all the same. A document that is invalid, or a change a component refuses, changes nothing. After Close it returns flujo.ErrClosed and changes nothing.", X)
	f.Add(recv()).Id("ImportConfig").Params(jen.Id("data").Index().Byte(), jen.Id("format").String()).Error().Block(
		c("e.mu.Lock()"),
		c("defer e.mu.Unlock()"),
		c("if e.track.Closed() { return {} }", jen.Qual(flujoPath, "ErrClosed")),
		c("cfg, err := flujogenImportConfig(*e.cfg.Load(), data, format, "+strq(X)+", e.live)"),
		c("if cfg == nil { return err }"),
		c("// applyLive checks every change before it makes any: an error leaves the executor as it was."),
		c("if aerr := e.applyLive(*cfg); aerr != nil { return aerr }"),
		c("e.cfg.Store(cfg)"),
		c("return err"),
	)
	cases := []jen.Code{jen.Case(jen.Lit("slow_execution_threshold_ms")).Block(c("return true"))}
	// The telemetry's retuning is the one change that can be refused: it
	// goes first and changes both of its fields or neither.
	var apply []jen.Code
	if pg.telemetry() {
		cases = append(cases, jen.Case(jen.Lit("telemetry_batch_size")).Block(c("return next.TelemetryBatchSize <= {}", qr("DefaultTelemetryBufferSize"))),
			jen.Case(jen.Lit("telemetry_flush_interval_seconds")).Block(c("return true")))
		apply = append(apply, c("if err := e.telemetry.Retune(cfg.TelemetryBatchSize, cfg.TelemetryFlushInterval()); err != nil { return err }"))
	}
	apply = append(apply, c("e.slowNs.Store(int64(cfg.SlowExecutionThreshold()))"))
	if pg.resources() {
		// New thresholds apply from the next sample on, as the
		// ExecutorCore's new resource manager does.
		cases = append(cases, jen.Case(jen.Lit("memory_pressure_threshold_mb"), jen.Lit("cpu_usage_threshold_percent")).Block(c("return true")))
		apply = append(apply, c("_ = e.resources.SetThresholds(cfg.MemoryPressureThresholdMb, cfg.CPUUsageThresholdPercent) // valid: Import checked them"))
	}
	// New breaker settings renew every breaker, as the ExecutorCore builds
	// new ones: closed, counters at zero. A step override keeps its value.
	var renew []jen.Code
	for _, lp := range pg.leaves {
		if !lp.breaker {
			continue
		}
		threshold, recovery := "cfg.CircuitBreakerFailureThreshold", "{}(cfg.CircuitBreakerRecoveryTimeoutSeconds) * {}"
		rargs := []jen.Code{jen.Qual("time", "Duration"), jen.Qual("time", "Second")}
		if lp.ownThreshold {
			threshold = fmt.Sprint(lp.threshold)
		}
		if lp.ownRecovery {
			recovery, rargs = "{}", []jen.Code{durationLit(lp.recovery)}
		}
		renew = append(renew, c("_ = e."+pg.brkName(lp.n)+".Renew({}{FailureThreshold: "+threshold+", RecoveryTimeout: "+recovery+"})", append([]jen.Code{qr("BreakerSettings")}, rargs...)...))
	}
	if len(renew) > 0 {
		cases = append(cases, jen.Case(jen.Lit("circuit_breaker_failure_threshold"), jen.Lit("circuit_breaker_recovery_timeout_seconds")).Block(c("return true")))
		// Checked first with the telemetry, so that nothing changes when
		// either is refused.
		apply = append([]jen.Code{
			c("old := e.cfg.Load()"),
			c("renew := cfg.CircuitBreakerFailureThreshold != old.CircuitBreakerFailureThreshold || cfg.CircuitBreakerRecoveryTimeoutSeconds != old.CircuitBreakerRecoveryTimeoutSeconds"),
			c("if err := {}(\"\", {}{FailureThreshold: cfg.CircuitBreakerFailureThreshold, RecoveryTimeout: {}(cfg.CircuitBreakerRecoveryTimeoutSeconds) * {}}); renew && err != nil { return err }",
				qr("CheckBreakerSettings"), qr("BreakerSettings"), jen.Qual("time", "Duration"), jen.Qual("time", "Second")),
		}, apply...)
		apply = append(apply, jen.If(jen.Id("renew")).Block(renew...))
	}
	// New cache settings rebuild every cache, empty, with counters at
	// zero, as the ExecutorCore builds a new cache set. A TTL of the
	// CacheTTL option or a step override keeps its value.
	if len(pg.caches) > 0 {
		cases = append(cases, jen.Case(jen.Lit("cache_ttl_seconds"), jen.Lit("cache_max_size")).Block(c("return true")))
		var rebuild []jen.Code
		for _, lp := range pg.caches {
			if lp.ownTTL {
				rebuild = append(rebuild, c("_ = e."+pg.cacheName(lp.n)+".Rebuild(cfg.CacheMaxSize, {}) // valid: Import checked it", durationLit(lp.cacheTTL)))
			} else {
				rebuild = append(rebuild, c("_ = e."+pg.cacheName(lp.n)+".Rebuild(cfg.CacheMaxSize, ttl) // valid: Import checked them"))
			}
		}
		rebuild = append(rebuild, c("e.coarse.Need(ttl)"))
		apply = append(apply, jen.If(c("prev := e.cfg.Load()"), jen.Id("cfg.CacheMaxSize != prev.CacheMaxSize || cfg.CacheTTLSeconds != prev.CacheTTLSeconds")).Block(
			append([]jen.Code{c("ttl := {}(cfg.CacheTTLSeconds) * {}", jen.Qual("time", "Duration"), jen.Qual("time", "Second"))}, rebuild...)...))
	}
	// A new cap applies only when it changed: the limit may stand lower
	// because the resource manager lowered it under pressure, and an import
	// of other fields must not lift it.
	switch {
	case pg.raisableLimit():
		// Any fixed cap applies in place: the limiter's ceiling is the
		// field's largest value.
		cases = append(cases, jen.Case(jen.Lit("max_concurrent_executions")).Block(
			c("return next.MaxConcurrentExecutions != nil")))
		apply = append(apply, c("if m, o := cfg.MaxConcurrentExecutions, e.cfg.Load().MaxConcurrentExecutions; m != nil && (o == nil || *m != *o) { e.limiter.SetLimit(*m); if int64(*m) > e.limitMax.Load() { e.limitMax.Store(int64(*m)) } }"))
	case pg.limiter() && !pg.adaptive():
		// A lower cap than the derived one applies in place; a higher one
		// would need a new limiter, as the ExecutorCore builds.
		cases = append(cases, jen.Case(jen.Lit("max_concurrent_executions")).Block(
			c("m := next.MaxConcurrentExecutions"),
			c("return m != nil && *m <= e.limiter.Max()")))
		apply = append(apply, c("if m, o := cfg.MaxConcurrentExecutions, e.cfg.Load().MaxConcurrentExecutions; m != nil && *m <= e.limiter.Max() && (o == nil || *m != *o) { e.limiter.SetLimit(*m) }"))
	}
	// A field of a component this executor was generated without applies
	// to nothing: it is taken, as the ExecutorCore takes it with the
	// component off, and only reported by OptimizationConfig.
	if inert := pg.inertFields(); len(inert) > 0 {
		var names []jen.Code
		for _, n := range inert {
			names = append(names, jen.Lit(n))
		}
		cases = append(cases, jen.Case(names...).Block(c("return true")))
	}
	f.Commentf("live reports whether %s applies a change of the run-time field name, to the value in next, while it runs.", X)
	f.Add(recv()).Id("live").Params(jen.Id("name").String(), jen.Id("next").Add(qr("OptimizationConfig"))).Bool().Block(
		jen.Switch(jen.Id("name")).Block(cases...), c("return false"))
	f.Comment("applyLive applies the run-time fields of cfg to the running components; when it returns an error it has changed nothing.")
	f.Add(recv()).Id("applyLive").Params(jen.Id("cfg").Add(qr("OptimizationConfig"))).Error().Block(
		append(apply, c("return nil"))...)

	if pg.autotune() {
		pg.emitTuning(f)
	}

	if pg.shrinks() {
		var shrink, restore []jen.Code
		for _, lp := range pg.caches {
			shrink = append(shrink, c("e."+pg.cacheName(lp.n)+".Shrink(0.5)"))
			restore = append(restore, c("e."+pg.cacheName(lp.n)+".RestoreCapacity()"))
		}
		if pg.pooled() {
			shrink = append(shrink, c("e.scratch.Shrink()"))
		}
		body := []jen.Code{}
		if len(pg.caches) > 0 {
			body = append(body, jen.If(jen.Id("level").Op("<").Add(qr("PressureHigh"))).Block(
				jen.If(jen.Id("e.cachesShrunk.Swap(false)")).Block(restore...),
				c("return"),
			), c("e.cachesShrunk.Store(true)"))
		} else {
			body = append(body, jen.If(jen.Id("level").Op("<").Add(qr("PressureHigh"))).Block(c("return")))
		}
		f.Comment("shrink reacts to memory pressure: from high pressure on, every sample halves the caches' capacity, pauses their admission and empties the pools; below, the caches get their capacity back.")
		f.Add(recv()).Id("shrink").Params(jen.Id("level").Add(qr("PressureLevel"))).Block(append(body, shrink...)...)
	}
}

// inertFields returns the configuration fields of components the executor
// was generated without, which a change cannot reach.
func (pg *pipelineGen) inertFields() []string {
	cfg := pg.g.cfg.Optimization
	var out []string
	add := func(off bool, names ...string) {
		if off {
			out = append(out, names...)
		}
	}
	breakers := false
	for _, lp := range pg.leaves {
		breakers = breakers || lp.breaker
	}
	add(!breakers, "circuit_breaker_failure_threshold", "circuit_breaker_recovery_timeout_seconds")
	add(!pg.telemetry(), "telemetry_batch_size", "telemetry_flush_interval_seconds")
	add(len(pg.caches) == 0, "cache_ttl_seconds", "cache_max_size")
	add(!cfg.EnableOptimizedErrorHandling, "error_cache_size")
	add(!pg.pooled(), "object_pool_max_size", "object_pool_cleanup_threshold")
	add(!pg.resources(), "memory_pressure_threshold_mb", "cpu_usage_threshold_percent")
	add(!pg.monitoring(), "performance_degradation_threshold")
	add(!pg.monitoring() && !pg.autotune(), "optimization_analysis_interval_seconds")
	return out
}

// emitTuning emits the auto-tuner's Apply and TuningHistory, which mirror
// the ExecutorCore's: a run-time field goes through ImportConfig, so the
// tuner changes exactly what ImportConfig applies live.
func (pg *pipelineGen) emitTuning(f *jen.File) {
	X := pg.X
	recv := func() *jen.Statement { return jen.Func().Params(jen.Id("e").Op("*").Id(X)) }
	check := c("_, ok := value.(bool)")
	admit := []jen.Code{c("return nil // no cache admission to control")}
	if pg.resources() && len(pg.caches) > 0 {
		// Admission is paused the way memory pressure pauses it: the
		// caches give back capacity until it resumes.
		var shrink, restore []jen.Code
		for _, lp := range pg.caches {
			shrink = append(shrink, c("e."+pg.cacheName(lp.n)+".Shrink(0.5)"))
			restore = append(restore, c("e."+pg.cacheName(lp.n)+".RestoreCapacity()"))
		}
		check = c("admit, ok := value.(bool)")
		admit = []jen.Code{
			jen.If(jen.Id("admit")).Block(jen.If(jen.Id("e.cachesShrunk.Swap(false)")).Block(restore...), c("return nil")),
			jen.If(jen.Id("!e.cachesShrunk.Swap(true)")).Block(shrink...),
			c("return nil"),
		}
	}
	f.Comment("applyTuning makes one run-time change for the auto-tuner: a run-time configuration field, through ImportConfig, or the cache admission action.")
	f.Add(recv()).Id("applyTuning").Params(jen.Id("field").String(), jen.Id("value").Any()).Error().Block(
		jen.If(jen.Id("field").Op("==").Add(qr("CacheAdmissionAction"))).Block(append([]jen.Code{
			check,
			c("if !ok { return {}(\"flujo: %s wants a bool, got %T\", field, value) }", jen.Qual("fmt", "Errorf")),
		}, admit...)...),
		c("data, err := {}(map[string]any{field: value})", jen.Qual("encoding/json", "Marshal")),
		c("if err != nil { return err }"),
		c("return e.ImportConfig(data, \"json\")"),
	)
	f.Comment("TuningHistory returns the changes the auto-tuner applied, oldest first.")
	f.Add(recv()).Id("TuningHistory").Params().Index().Add(qr("TuningChange")).Block(
		c("if e.tuner == nil { return nil }"),
		c("return e.tuner.History()"),
	)
}
