package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo/runtime"
)

// classifierPermanentAfter is how many failed retries of an error pattern,
// none recovering, class the pattern permanent.
const classifierPermanentAfter = 3

// resourceInterval is the resource manager's sampling interval.
const resourceInterval = time.Second

// ErrClosed is returned by runs and ImportConfig after Close.
var ErrClosed = errors.New("flujo: executor is closed")

// Closer stops a component that an engine no longer uses.
type Closer func(ctx context.Context) error

// Engine is one configuration in force with the components built from it.
// A run loads it once and uses it throughout, so a configuration change
// never reaches a run half way. An engine never changes once in force.
type Engine struct {
	// Config is the configuration in force.
	Config runtime.OptimizationConfig
	// Env is what the engine's step executions share.
	Env Env
	// Classifier, Limiter, Telemetry, Monitor and Resources are the
	// executor-wide components the configuration turns on; nil when off.
	Classifier *runtime.ErrorClassifier
	Limiter    *runtime.Limiter
	Telemetry  *runtime.Telemetry
	Monitor    *runtime.Monitor
	Resources  *runtime.ResourceManager
	// Parts are the front end's own components (caches, breakers, pools),
	// built by Deps.Build.
	Parts any

	slowNs atomic.Int64
}

// Deps are what an executor gives its services: the options it was built
// with, and the hooks through which the services reach the components the
// front end builds itself.
type Deps struct {
	Clock   runtime.Clock
	Logger  *slog.Logger
	Sink    runtime.Sink
	Sampler runtime.ResourceSampler
	// Sleep waits between attempts; nil means runtime.Sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// TunerTick drives the auto-tuner in tests; nil means its own ticker.
	TunerTick <-chan time.Time
	// Name names the executor in errors ("TriageExecutor").
	Name string
	// Shared are the services shared with other replicas (WithShared);
	// nil without them.
	Shared *runtime.Shared
	// Distributed is the distributed section of the configuration file
	// (WithConfigFile); nil without one. The executor does not connect to
	// it: it warns when the section shares a part and Shared is nil.
	Distributed *runtime.DistributedConfig
	// Pipeline names the pipeline of a generated executor: shared cache
	// keys and breakers are keyed by it.
	Pipeline string
	// sharing is the sharing of Shared, built by NewParts or NewServices.
	sharing *Sharing

	// Build builds the front end's parts of next, taking over what it can
	// from old (nil for the first engine) and setting next.Parts; it may
	// set next.Env.CachePaused. It
	// changes nothing in force: commit, run once every part of next is
	// built, applies changes to shared parts in place, and retired are
	// the closers of old's parts that next does not use. commit runs right
	// before next replaces old, under the lock Stats takes, with what the
	// front end reports (Stats) read just before and just after it: the
	// counters of the parts replaced or renewed are kept.
	Build func(old, next *Engine) (commit func(), retired []Closer, err error)
	// Fixed names the configuration fields the front end cannot change
	// from old to next while it runs; nil means none.
	Fixed func(old, next *runtime.OptimizationConfig) []string
	// Stats adds the front end's figures to s: per step, caches, pools.
	Stats func(eng *Engine, s *runtime.Stats)
	// Shrink reacts to memory pressure on the front end's parts.
	Shrink func(level runtime.PressureLevel)
	// PauseCaches pauses or resumes the caches' admission of new results,
	// for the auto-tuner.
	PauseCaches func(eng *Engine, pause bool)
	// Close closes the front end's parts of eng when the executor closes.
	Close func(eng *Engine) []Closer
}

// Services are an executor's configuration in force and the components
// built from it, with the rules to replace them while it runs
// (ImportConfig), to report on them (Stats) and to stop them (Close). Both
// engines hold one.
type Services struct {
	eng  atomic.Pointer[Engine]
	mu   sync.Mutex // serialises configuration changes
	deps Deps

	// Track admits runs until Close and counts them and the goroutines
	// they start.
	Track runtime.RunGate
	runs  RunCounters

	// foldMu orders the replacement of the engine in force with Stats and
	// LatencyHistograms, which hold it while they read: a reading sees
	// one engine's components and the figures of those replaced before
	// it, so no counter it reports is ever lower than before. folded
	// holds, by step, the executions that the monitors replaced so far
	// recorded, which the steps' counters do not count.
	foldMu sync.Mutex
	folded map[string]runtime.StatsStep
	// foldedLatency holds, by step, the latency histograms of the
	// monitors replaced so far, so that a step's histogram keeps growing
	// across configurations.
	foldedLatency map[string]runtime.LatencyBuckets
	// retired holds the counters of the executor-wide components that
	// configuration changes replaced.
	retired retiredCounters

	// sharing is the executor's use of Deps.Shared; nil without it.
	sharing *Sharing

	closed    bool               // guarded by mu
	tuner     *runtime.AutoTuner // guarded by mu
	closeOnce sync.Once
	closeErr  error
}

// NewServices builds the services of cfg. An invalid cfg is an error that
// lists every problem; a component that fails to build is an error, and
// nothing is left running.
func NewServices(cfg runtime.OptimizationConfig, deps Deps) (*Services, error) {
	if deps.Clock == nil {
		return nil, errors.New("flujo: WithClock(nil)")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.sharing == nil {
		deps.sharing = NewSharing(deps.Shared, deps.Clock)
	}
	s := &Services{deps: deps, sharing: deps.sharing}
	eng, commit, _, err := s.newEngine(cfg.Clone(), nil)
	if err != nil {
		return nil, err
	}
	commit()
	s.sharing.start()
	if s.notWired() {
		deps.Logger.Warn("flujo: "+runtime.DistributedNotWired, "executor", deps.Name, "distributed", deps.Distributed.String())
	}
	s.eng.Store(eng)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.startTunerLocked(cfg); err != nil {
		closeAll(context.Background(), s.closers(eng))
		s.sharing.close()
		return nil, err
	}
	return s, nil
}

// notWired reports that the configuration file's distributed section
// shares a part while the executor shares nothing.
func (s *Services) notWired() bool {
	return s.sharing == nil && s.configured()
}

// configured reports that the configuration file's distributed section
// shares a part.
func (s *Services) configured() bool {
	return s.deps.Distributed != nil && s.deps.Distributed.Enabled()
}

// Engine returns the engine in force.
func (s *Services) Engine() *Engine { return s.eng.Load() }

// Sharing returns the executor's use of the services it shares with other
// replicas; nil without them.
func (s *Services) Sharing() *Sharing { return s.sharing }

// Config returns a copy of the configuration in force.
func (s *Services) Config() runtime.OptimizationConfig { return s.eng.Load().Config.Clone() }

// Export encodes the configuration in force in format ("json").
func (s *Services) Export(format string) ([]byte, error) { return s.eng.Load().Config.Export(format) }

// RecordRun counts one finished run of latency ns (0 when it was not
// measured) that succeeded or not.
func (s *Services) RecordRun(ns int64, ok bool) { s.runs.Record(ns, ok, &s.eng) }

// ImportConfig lays data, a whole or partial configuration in format
// ("json"), over the configuration in force, validates the result and
// applies it at once: runs that start afterwards use it, runs in flight
// finish with the old one. A rejected document changes nothing. Fields the
// front end cannot change while it runs (Deps.Fixed) keep their values and
// are named in the error; the rest is applied all the same. After Close it
// returns ErrClosed and changes nothing.
func (s *Services) ImportConfig(data []byte, format string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	old := s.eng.Load()
	cfg, err := old.Config.Import(data, format)
	if err != nil {
		return err
	}
	var fixedErr error
	if s.deps.Fixed != nil {
		if fixed := s.deps.Fixed(&old.Config, &cfg); len(fixed) > 0 {
			cfg, err = keepFields(old.Config, cfg, fixed)
			if err != nil {
				return err
			}
			fixedErr = &FixedFieldsError{Executor: s.deps.Name, Fields: fixed}
		}
	}
	tuner, err := s.newTunerLocked(cfg)
	if err != nil {
		return err
	}
	eng, commit, retired, err := s.newEngine(cfg, old)
	if err != nil {
		return err
	}
	s.foldMu.Lock()
	before := s.frontFigures(old)
	commit()
	after := s.frontFigures(eng)
	s.retired.retireParts(&before, &after)
	if old.Monitor != nil && eng.Monitor != old.Monitor {
		// The steps' executions that the old monitor recorded are counted
		// nowhere else. An execution of a run still in flight that ends
		// after this point is counted in the run's figures and telemetry
		// only.
		if s.folded == nil {
			s.folded = map[string]runtime.StatsStep{}
			s.foldedLatency = map[string]runtime.LatencyBuckets{}
		}
		addMonitorFigures(s.folded, old.Monitor.Snapshot(), true)
		old.Monitor.AddLatencyBuckets(s.foldedLatency)
	}
	oldTel := s.retired.retire(old, eng)
	s.eng.Store(eng)
	s.foldMu.Unlock()
	s.deps.Logger.Info("flujo: configuration applied")
	// Runs still using the old components finish against closed ones:
	// telemetry then counts their events as dropped.
	if err := closeAll(context.Background(), retired); err != nil {
		s.deps.Logger.Warn("flujo: closing replaced components", "error", err)
	}
	if oldTel != nil {
		// Closing flushed what the old telemetry still held.
		s.foldMu.Lock()
		s.retired.flushed(oldTel)
		s.foldMu.Unlock()
	}
	if tuner != nil {
		if err := s.runTunerLocked(tuner); err != nil {
			return err
		}
	}
	return fixedErr
}

// frontFigures returns what the front end reports of eng's parts
// (Deps.Stats).
func (s *Services) frontFigures(eng *Engine) runtime.Stats {
	st := runtime.Stats{Steps: map[string]runtime.StatsStep{}}
	if s.deps.Stats != nil {
		s.deps.Stats(eng, &st)
	}
	return st
}

// FixedFieldsError is the error of an ImportConfig that changed fields the
// executor fixed when it was generated: they kept their values, and the
// other fields were applied.
type FixedFieldsError struct {
	Executor string
	Fields   []string
}

// Error names the fields and says how to change them.
func (e *FixedFieldsError) Error() string {
	return fmt.Sprintf("flujo: %s: not changed, fixed when the executor was generated: %v (the other fields were applied); run flujogen generate to change a fixed field", e.Executor, e.Fields)
}

// keepFields returns next with the named fields as they are in old.
func keepFields(old, next runtime.OptimizationConfig, names []string) (runtime.OptimizationConfig, error) {
	was := old.ToMap()
	patch := make(map[string]any, len(names))
	for _, n := range names {
		patch[n] = was[n]
	}
	data, err := json.Marshal(patch)
	if err != nil {
		return next, err
	}
	return next.Import(data, "json")
}

// Close stops the services: later runs are refused (Track), and Close waits
// until every run and every goroutine the executor started has ended, or
// until ctx is done; then it stops the components.
func (s *Services) Close(ctx context.Context) error {
	idle := s.Track.Close()
	// From here on ImportConfig builds no components that Close would miss.
	s.mu.Lock()
	s.closed = true
	t := s.tuner
	s.mu.Unlock()
	if t != nil {
		if err := t.Close(ctx); err != nil {
			return fmt.Errorf("flujo: close: %w", err)
		}
	}
	select {
	case <-idle:
		s.closeOnce.Do(func() {
			s.closeErr = closeAll(ctx, s.closers(s.eng.Load()))
			s.sharing.close()
		})
		return s.closeErr
	case <-ctx.Done():
		return fmt.Errorf("flujo: close: %w (runs or step goroutines still running)", ctx.Err())
	}
}

// TuningHistory returns the changes the auto-tuner applied, oldest first;
// nil when enable_automatic_optimization was never on.
func (s *Services) TuningHistory() []runtime.TuningChange {
	s.mu.Lock()
	t := s.tuner
	s.mu.Unlock()
	if t == nil {
		return nil
	}
	return t.History()
}

// Recommendations derives recommendations from Stats and the
// configuration in force.
func (s *Services) Recommendations() []runtime.Recommendation {
	return runtime.Recommend(s.Stats(), s.Config())
}

func closeAll(ctx context.Context, cs []Closer) error {
	var errs []error
	for _, cl := range cs {
		errs = append(errs, cl(ctx))
	}
	return errors.Join(errs...)
}

// closers returns every component of eng that needs closing.
func (s *Services) closers(eng *Engine) []Closer {
	cs := eng.ownClosers(&Engine{})
	if s.deps.Close != nil {
		cs = append(cs, s.deps.Close(eng)...)
	}
	return cs
}

// newEngine builds the engine of cfg. Components whose settings did not
// change are taken over from old; the ones old used and the new engine
// does not are returned, to be closed once runs in flight are done with
// them. It is atomic: changes to components old shares (a retuned
// telemetry, a lowered limit) are checked with everything else and applied
// only once every component is built, so an error leaves old exactly as it
// was. The caller runs commit, the front end's (Deps.Build), right before
// the engine goes into force.
func (s *Services) newEngine(cfg runtime.OptimizationConfig, old *Engine) (eng *Engine, commit func(), retired []Closer, err error) {
	first := old == nil
	if first {
		old = &Engine{}
	}
	e := &Engine{Config: cfg}
	slowNs := int64(cfg.SlowExecutionThreshold())
	e.slowNs.Store(slowNs)
	var errs []error
	// inPlace changes components old shares; run only when nothing failed.
	var inPlace []func()
	oc := old.Config

	if cfg.EnableOptimizedErrorHandling {
		if old.Classifier != nil && oc.ErrorCacheSize == cfg.ErrorCacheSize {
			e.Classifier = old.Classifier
		} else if cl, err := runtime.NewErrorClassifier(cfg.ErrorCacheSize, classifierPermanentAfter); err != nil {
			errs = append(errs, err)
		} else {
			e.Classifier = cl
		}
	}

	// The limit adapts to step latencies: it needs them measured, which
	// only monitoring or telemetry does. Without either, the limit stays
	// where the configuration puts it and no step reads the clock.
	adaptive, wasAdaptive := adaptiveLimit(&cfg), adaptiveLimit(&oc)
	e.Limiter = old.Limiter
	switch {
	case e.Limiter != nil && equalMax(oc.MaxConcurrentExecutions, cfg.MaxConcurrentExecutions) && adaptive == wasAdaptive:
	case e.Limiter != nil && !adaptive && !wasAdaptive &&
		cfg.MaxConcurrentExecutions != nil && *cfg.MaxConcurrentExecutions <= e.Limiter.Max():
		// A lower fixed cap: lowering the limit in place never frees a
		// permit, where a new limiter would admit its whole limit on top
		// of the executions still holding the old one's permits.
		l, n := e.Limiter, *cfg.MaxConcurrentExecutions
		inPlace = append(inPlace, func() { l.SetLimit(n) })
	default:
		opts := runtime.DefaultLimiterOptions()
		if m := cfg.MaxConcurrentExecutions; m != nil {
			opts.Max = *m
		}
		opts.Adaptive = adaptive
		if !opts.Adaptive {
			opts.MinQueue = runtime.FixedLimiterMinQueue
		}
		l, err := runtime.NewLimiter(opts)
		if err != nil {
			errs = append(errs, err)
		}
		e.Limiter = l
	}

	if cfg.EnableOptimizedTelemetry {
		flush := cfg.TelemetryFlushInterval()
		if t := old.Telemetry; t != nil {
			e.Telemetry = t
			if err := t.CheckRetune(cfg.TelemetryBatchSize, flush); err != nil {
				errs = append(errs, err)
			} else {
				n := cfg.TelemetryBatchSize
				inPlace = append(inPlace, func() { _ = t.Retune(n, flush) })
			}
		} else if t, err := runtime.NewTelemetry(runtime.TelemetryOptions{
			BatchSize: cfg.TelemetryBatchSize, FlushInterval: flush, Sink: s.deps.Sink, Logger: s.deps.Logger,
		}); err != nil {
			errs = append(errs, err)
		} else {
			e.Telemetry = t
		}
	}
	if old.Telemetry != nil && e.Telemetry != old.Telemetry {
		retired = append(retired, old.Telemetry.Close)
	}

	if cfg.EnablePerformanceMonitoring {
		if old.Monitor != nil && oc.SlowExecutionThresholdMs == cfg.SlowExecutionThresholdMs &&
			oc.PerformanceDegradationThreshold == cfg.PerformanceDegradationThreshold &&
			oc.OptimizationAnalysisIntervalSeconds == cfg.OptimizationAnalysisIntervalSeconds {
			e.Monitor = old.Monitor
		} else if m, err := runtime.NewMonitor(runtime.MonitorOptions{
			SlowThreshold:        time.Duration(slowNs),
			DegradationThreshold: cfg.PerformanceDegradationThreshold,
			WindowInterval:       cfg.AnalysisInterval(),
		}); err != nil {
			errs = append(errs, err)
		} else {
			e.Monitor = m
		}
	}
	if old.Monitor != nil && e.Monitor != old.Monitor {
		retired = append(retired, old.Monitor.Close)
	}

	if cfg.EnableMemoryOptimization {
		if old.Resources != nil && e.Limiter == old.Limiter && oc.MemoryPressureThresholdMb == cfg.MemoryPressureThresholdMb &&
			oc.CPUUsageThresholdPercent == cfg.CPUUsageThresholdPercent {
			e.Resources = old.Resources
		} else if rm, err := s.newResources(cfg, e); err != nil {
			errs = append(errs, err)
		} else {
			e.Resources = rm
		}
	}
	if old.Resources != nil && e.Resources != old.Resources {
		retired = append(retired, old.Resources.Close)
	}

	// The front end may add to the environment (CachePaused).
	e.Env = Env{
		Clock:      s.deps.Clock,
		Limiter:    e.Limiter,
		Classifier: e.Classifier,
		Telemetry:  e.Telemetry,
		SlowNs:     &e.slowNs,
		Untimed:    e.Monitor == nil && e.Telemetry == nil && (e.Limiter == nil || !e.Limiter.Adaptive()),
		Sleep:      s.deps.Sleep,
		Track:      &s.Track,
		// Shared cache values are compressed as the local ones are.
		CompressShared: cfg.CacheCompression,
	}
	commit = func() {}
	if s.deps.Build != nil && len(errs) == 0 {
		var prev *Engine
		if !first {
			prev = old
		}
		c, r, err := s.deps.Build(prev, e)
		if err != nil {
			errs = append(errs, err)
		} else {
			if c != nil {
				commit = c
			}
			retired = append(retired, r...)
		}
	}

	if err := errors.Join(errs...); err != nil {
		// Close what was built for this engine alone.
		closeAll(context.Background(), e.ownClosers(old))
		return nil, nil, nil, err
	}
	for _, f := range inPlace {
		f()
	}
	return e, commit, retired, nil
}

// ownClosers returns the closers of the components e built itself.
func (e *Engine) ownClosers(old *Engine) []Closer {
	var cs []Closer
	if e.Telemetry != nil && e.Telemetry != old.Telemetry {
		cs = append(cs, e.Telemetry.Close)
	}
	if e.Monitor != nil && e.Monitor != old.Monitor {
		cs = append(cs, e.Monitor.Close)
	}
	if e.Resources != nil && e.Resources != old.Resources {
		cs = append(cs, e.Resources.Close)
	}
	return cs
}

func (s *Services) newResources(cfg runtime.OptimizationConfig, e *Engine) (*runtime.ResourceManager, error) {
	rm, err := runtime.NewResourceManager(runtime.ResourceOptions{
		MemoryThresholdMB:   cfg.MemoryPressureThresholdMb,
		CPUThresholdPercent: cfg.CPUUsageThresholdPercent,
		Interval:            resourceInterval,
		Limit:               e.Limiter,
		Sampler:             s.deps.Sampler,
		Logger:              s.deps.Logger,
	})
	if err != nil {
		return nil, err
	}
	// Under pressure the caches stop growing and give back half their
	// capacity and the pools drop their idle objects; the limiter is
	// lowered by the manager itself.
	if shrink := s.deps.Shrink; shrink != nil {
		if err := rm.RegisterShrinker("result-cache", shrink); err != nil {
			return nil, err
		}
	}
	if err := rm.Start(); err != nil {
		return nil, err
	}
	return rm, nil
}

// adaptiveLimit reports whether cfg's limiter adapts to step latencies.
func adaptiveLimit(cfg *runtime.OptimizationConfig) bool {
	return cfg.EnableConcurrencyOptimization && (cfg.EnablePerformanceMonitoring || cfg.EnableOptimizedTelemetry)
}

func equalMax(a, b *int) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// startTunerLocked starts the auto-tuner when the configuration asks for it
// and none runs yet. Called with s.mu held.
func (s *Services) startTunerLocked(cfg runtime.OptimizationConfig) error {
	t, err := s.newTunerLocked(cfg)
	if err != nil || t == nil {
		return err
	}
	return s.runTunerLocked(t)
}

// newTunerLocked builds, without starting it, the auto-tuner cfg asks for;
// nil when it asks for none or one runs already. Called with s.mu held.
func (s *Services) newTunerLocked(cfg runtime.OptimizationConfig) (*runtime.AutoTuner, error) {
	if !cfg.EnableAutomaticOptimization || s.tuner != nil {
		return nil, nil
	}
	return runtime.NewAutoTuner(runtime.AutoTunerOptions{
		Interval: cfg.AnalysisInterval(),
		Snapshot: s.Stats,
		Config:   s.Config,
		Apply:    s.ApplyTuning,
		Logger:   s.deps.Logger,
		Tick:     s.deps.TunerTick,
	})
}

// runTunerLocked starts t as the executor's auto-tuner. Called with s.mu
// held.
func (s *Services) runTunerLocked(t *runtime.AutoTuner) error {
	if err := t.Start(); err != nil {
		return err
	}
	s.tuner = t
	return nil
}

// ApplyTuning makes one run-time change for the auto-tuner: a run-time
// configuration field, through ImportConfig, or the cache admission
// action.
func (s *Services) ApplyTuning(field string, value any) error {
	if field == runtime.CacheAdmissionAction {
		admit, ok := value.(bool)
		if !ok {
			return fmt.Errorf("flujo: %s wants a bool, got %T", field, value)
		}
		if s.deps.PauseCaches != nil {
			s.deps.PauseCaches(s.eng.Load(), !admit)
		}
		return nil
	}
	data, err := json.Marshal(map[string]any{field: value})
	if err != nil {
		return err
	}
	return s.ImportConfig(data, "json")
}

// TunerRunning reports whether the auto-tuner runs.
func (s *Services) TunerRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tuner != nil
}

// compiledIn are the configuration fields a generated executor compiles in:
// the code it was generated with depends on them.
var compiledIn = []string{
	"enable_cache_optimization",
	"enable_circuit_breaker",
	"enable_object_pool",
	"enable_algorithm_optimization",
	"enable_context_optimization",
	"enable_step_optimization",
	"cache_compression",
}

// CompiledIn names the fields a generated executor cannot change from old
// to next while it runs: those that decide what code it was generated with
// (Deps.Fixed). Every other field applies live, as in the ExecutorCore.
func CompiledIn(old, next *runtime.OptimizationConfig) []string {
	was, now := old.ToMap(), next.ToMap()
	var out []string
	for _, name := range compiledIn {
		if fmt.Sprint(was[name]) != fmt.Sprint(now[name]) {
			out = append(out, name)
		}
	}
	return out
}

// RunTunerOnce runs one analysis of the auto-tuner now; an error when none
// runs.
func (s *Services) RunTunerOnce() ([]runtime.TuningChange, error) {
	s.mu.Lock()
	t := s.tuner
	s.mu.Unlock()
	if t == nil {
		return nil, errors.New("flujo: no auto-tuner runs (enable_automatic_optimization is off)")
	}
	return t.RunOnce()
}

// Methods are the methods an executor has on its services, as the
// ExecutorCore has them: a generated executor embeds them.
type Methods struct{ s *Services }

// MethodsOf returns the methods on s.
func MethodsOf(s *Services) Methods { return Methods{s} }

// OptimizationStats returns a snapshot of the executor's live counters with
// the configuration in force.
func (m Methods) OptimizationStats() runtime.Stats { return m.s.Stats() }

// LatencyHistograms reads the latency histograms of the executor's runs
// and steps, for exposition formats that need buckets.
func (m Methods) LatencyHistograms() runtime.LatencyHistograms { return m.s.LatencyHistograms() }

// PerformanceRecommendations derives recommendations from
// OptimizationStats and the configuration in force.
func (m Methods) PerformanceRecommendations() []runtime.Recommendation { return m.s.Recommendations() }

// OptimizationConfig returns a copy of the configuration in force.
func (m Methods) OptimizationConfig() runtime.OptimizationConfig { return m.s.Config() }

// ExportConfig encodes the configuration in force in format ("json").
func (m Methods) ExportConfig(format string) ([]byte, error) { return m.s.Export(format) }

// ImportConfig lays data over the configuration in force and applies it as
// the ExecutorCore does; the fields that decide what code the executor was
// generated with keep their values and are named in the error.
func (m Methods) ImportConfig(data []byte, format string) error {
	return m.s.ImportConfig(data, format)
}

// TuningHistory returns the changes the auto-tuner applied, oldest first.
func (m Methods) TuningHistory() []runtime.TuningChange { return m.s.TuningHistory() }

// Close stops the executor: later runs return ErrClosed, and Close waits
// until every run and every goroutine the executor started has ended, or
// until ctx is done.
func (m Methods) Close(ctx context.Context) error { return m.s.Close(ctx) }
