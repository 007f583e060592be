package flujo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo/internal/kernel"
	"github.com/flujo/flujo/internal/options"
	"github.com/flujo/flujo/runtime"
)

// ExecutorCore runs declarations dynamically. It is configured by a
// runtime.OptimizationConfig that can be replaced while it runs
// (ImportConfig), and is safe for concurrent use.
type ExecutorCore struct {
	// svc holds the configuration in force, the components built from it
	// and the run gate; the engine in force carries the core's own part.
	svc    *kernel.Services
	clock  runtime.Clock
	logger *slog.Logger
	sleep  func(ctx context.Context, d time.Duration) error
	plans  copyPlans
	trees  sync.Map // *nodeBase of a root -> *treeInfo
	steps  sync.Map // *nodeBase of a leaf, or a stepKey of an overridden one -> *stepRuntime

	// overrides are the step overrides (WithConfigFile, WithStepOverrides),
	// keyed "<pipeline>.<step>"; read-only once built.
	overrides   map[string]runtime.StepOverride
	overrideSrc map[string]string // key -> the file it came from, "" for WithStepOverrides

	// counters read by tests and stats
	analyses    atomic.Int64 // tree analyses performed
	stateCopies atomic.Int64 // deep copies of the state made for Parallel branches
}

// CoreOption configures an ExecutorCore, or a generated executor, at
// construction.
type CoreOption func(*options.Core)

// WithClock makes the executor read time from clock: latencies, circuit
// breaker recovery and cache expiry. Tests pass a *runtime.FakeClock.
func WithClock(clock runtime.Clock) CoreOption {
	return func(o *options.Core) { o.Clock = clock }
}

// WithLogger sets the logger for the executor's own events (configuration
// changes, breaker transitions). The default, and WithLogger(nil), discard
// them.
func WithLogger(l *slog.Logger) CoreOption {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return func(o *options.Core) { o.Logger = l }
}

// WithSink sends the telemetry events (enable_optimized_telemetry) to sink.
// Without it they go to the logger (WithLogger) at debug level.
func WithSink(sink runtime.Sink) CoreOption {
	return func(o *options.Core) { o.Sink = sink }
}

// WithResourceSampler makes the resource manager (enable_memory_optimization)
// read memory and CPU from s instead of the process's own figures.
func WithResourceSampler(s runtime.ResourceSampler) CoreOption {
	return func(o *options.Core) { o.Sampler = s }
}

// NewExecutorCore returns an executor configured by cfg. An invalid cfg is
// an error that lists every problem.
//
// With WithConfigFile, the file's optimization section replaces cfg.
func NewExecutorCore(cfg runtime.OptimizationConfig, opts ...CoreOption) (*ExecutorCore, error) {
	set := options.ApplyCore(opts)
	if err := errors.Join(set.Errs...); err != nil {
		return nil, err
	}
	if set.FileConfig != nil {
		cfg = *set.FileConfig
	}
	c := &ExecutorCore{
		clock: set.Clock, logger: set.Logger, sleep: sleepCtx,
		overrides: set.Overrides, overrideSrc: set.OverrideSources,
	}
	svc, err := kernel.NewServices(cfg, kernel.Deps{
		Clock: set.Clock, Logger: set.Logger, Sink: set.TelemetrySink(), Sampler: set.Sampler,
		Sleep: c.sleepFor, TunerTick: set.TunerTick, Name: "ExecutorCore", Shared: set.Shared, Distributed: set.Distributed,
		Build: c.buildEngine, Stats: c.addStats, Shrink: c.shrink, PauseCaches: pauseCaches, Close: closeEngine,
	})
	if err != nil {
		return nil, err
	}
	c.svc = svc
	return c, nil
}

// OptimizationConfig returns a copy of the configuration in force.
func (c *ExecutorCore) OptimizationConfig() runtime.OptimizationConfig { return c.svc.Config() }

// ExportConfig encodes the configuration in force in format ("json").
func (c *ExecutorCore) ExportConfig(format string) ([]byte, error) { return c.svc.Export(format) }

// ImportConfig lays data, a whole or partial configuration in format
// ("json"), over the configuration in force, validates the result and
// applies it at once: runs that start afterwards use it, runs in flight
// finish with the old one. A rejected document changes nothing. Every field
// takes effect without a restart; components whose settings changed start
// afresh (a new breaker threshold resets the breakers, a new cache size
// empties the cache), the others keep their state. After Close it returns
// ErrClosed and changes nothing.
func (c *ExecutorCore) ImportConfig(data []byte, format string) error {
	return c.svc.ImportConfig(data, format)
}

// Close stops the executor: later Execute calls return ErrClosed, and Close
// waits until every run and every goroutine the executor started has ended,
// abandoned attempts of steps that overran their Timeout included, or until
// ctx is done.
func (c *ExecutorCore) Close(ctx context.Context) error { return c.svc.Close(ctx) }

// TuningHistory returns the changes the auto-tuner applied, oldest first;
// nil when enable_automatic_optimization was never on.
func (c *ExecutorCore) TuningHistory() []runtime.TuningChange { return c.svc.TuningHistory() }

// ExecOption configures one run.
type ExecOption func(*options.Exec)

// WithState runs with ptr, a *S, as the pipeline state; the run updates it
// in place. Without WithState, a run whose steps read state starts from a
// new zero S, returned in PipelineResult.FinalState.
func WithState(ptr any) ExecOption {
	return func(o *options.Exec) { o.State = ptr }
}

// WithUsageLimits bounds the run's usage.
func WithUsageLimits(l UsageLimits) ExecOption {
	return func(o *options.Exec) { o.Limits = &l }
}

// InputTypeError is returned by Execute when the input does not fit the
// root node's input type.
type InputTypeError = runtime.InputTypeError

// StateTypeError is returned by Execute when WithState's value is not the
// *S the declaration's StepS use.
type StateTypeError = runtime.StateTypeError

// Execute runs node on input. A failed run returns its result and an error:
// a *StepError naming the node that failed, a *UsageLimitExceededError
// carrying the partial result, or the context's error when ctx was
// cancelled. Errors found before any step runs (wrong input or state type,
// closed executor) return a nil result.
func (c *ExecutorCore) Execute(ctx context.Context, node Node, input any, opts ...ExecOption) (*PipelineResult, error) {
	if !c.svc.Track.Enter() {
		return nil, ErrClosed
	}
	defer c.svc.Track.Exit()
	if node == nil {
		return nil, errors.New("flujo: Execute: node is nil")
	}
	o := options.ApplyExec(opts)
	eng := c.engine()
	b := node.base()
	if !b.accept(input) {
		return nil, &InputTypeError{Node: b.name, Expected: b.in, Got: reflect.TypeOf(input)}
	}
	r := execRun{core: c, eng: eng, tree: c.tree(eng, node)}
	if r.tree.err != nil {
		return nil, r.tree.err
	}
	fr := frame{state: o.State}
	if st := r.tree.state; st != nil {
		if o.State == nil {
			fr.state = reflect.New(st).Interface()
		} else if t := reflect.TypeOf(o.State); t != reflect.PointerTo(st) {
			return nil, &StateTypeError{Node: b.name, Expected: reflect.PointerTo(st), Got: t}
		}
	}
	budget, err := c.svc.RunBudget(&o)
	if err != nil {
		return nil, err
	}
	fr.budget = budget
	var res StepResult
	abort := r.exec(ctx, node, input, fr, &res)
	return c.svc.EndRecordedRun(&res, abort, fr.state, fr.budget, b.kind == kindPipeline)
}

// OutputTypeError is returned by Run when the node's declared output type
// can never be the Out asked for. It is found before any step runs.
type OutputTypeError struct {
	Node     string
	Declared reflect.Type
	Want     reflect.Type
}

// Error describes the problem.
func (e *OutputTypeError) Error() string {
	return fmt.Sprintf("flujo: Run: %q outputs %v, which is never a %v; call Run[%v] or change the node's output type", e.Node, e.Declared, e.Want, e.Declared)
}

// outputFits reports whether a value of the declared output type may be a
// want: false only when no value of declared ever can be, so an
// interface-typed output is left to the check after the run.
func outputFits(declared, want reflect.Type) bool {
	switch {
	case declared == nil || declared == want:
		return true
	case want.Kind() == reflect.Interface:
		return declared.Kind() == reflect.Interface || declared.Implements(want)
	case declared.Kind() == reflect.Interface:
		return want.Implements(declared)
	}
	return false
}

// Run executes node and returns its output as Out. It is Execute for callers
// that know the output type. An Out the node's declared output can never be
// is an *OutputTypeError before any step runs.
func Run[Out any](ctx context.Context, c *ExecutorCore, node Node, input any, opts ...ExecOption) (Out, *PipelineResult, error) {
	var out Out
	if node != nil {
		if b := node.base(); !outputFits(b.out, reflect.TypeFor[Out]()) {
			return out, nil, &OutputTypeError{Node: b.name, Declared: b.out, Want: reflect.TypeFor[Out]()}
		}
	}
	res, err := c.Execute(ctx, node, input, opts...)
	if err != nil {
		return out, res, err
	}
	if res.Output != nil {
		v, ok := res.Output.(Out)
		if !ok {
			return out, res, fmt.Errorf("flujo: Run: output is %T, not %v", res.Output, reflect.TypeFor[Out]())
		}
		out = v
	}
	return out, res, nil
}

// go runs f in a counted goroutine.
func (c *ExecutorCore) goTracked(f func()) {
	c.svc.Track.EnterChild()
	go func() {
		defer c.svc.Track.ExitChild()
		f()
	}()
}

// sleepFor waits d or until ctx is done, with the executor's sleep.
func (c *ExecutorCore) sleepFor(ctx context.Context, d time.Duration) error { return c.sleep(ctx, d) }

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error { return runtime.Sleep(ctx, d) }
