package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// DefaultAutoTunerHistorySize is the number of changes an AutoTuner
// remembers when AutoTunerOptions.HistorySize is 0.
const DefaultAutoTunerHistorySize = 64

// ErrAutoTunerClosed is returned by an AutoTuner that was closed.
var ErrAutoTunerClosed = errors.New("auto-tuner closed")

// AutoTunerOptions configures an AutoTuner. Snapshot, Config and Apply are
// the executor's: the tuner reads through them and changes nothing itself.
type AutoTunerOptions struct {
	// Interval is the time between two analyses, from
	// optimization_analysis_interval_seconds. It must be positive. When the
	// tuner runs its own ticker, it follows later changes of that field.
	Interval time.Duration
	// Snapshot returns the executor's current, cumulative Stats. Required.
	Snapshot func() Stats
	// Config returns the configuration in force. Required.
	Config func() OptimizationConfig
	// Apply makes one run-time change: field is the JSON name of a run-time
	// field of ConfigFields or CacheAdmissionAction, value the recommended
	// value with the type ConfigChange documents. Required.
	Apply func(field string, value any) error
	// Logger receives one record per change and per failure; nil discards them.
	Logger *slog.Logger
	// HistorySize bounds History; 0 means DefaultAutoTunerHistorySize.
	HistorySize int
	// Tick, when set, triggers the analyses instead of a ticker of Interval,
	// so tests and callers with their own scheduling drive the tuner. The
	// loop ends when Tick is closed.
	Tick <-chan time.Time
	// Now stamps the changes in History; nil means time.Now.
	Now func() time.Time
}

// TuningChange is one change the AutoTuner applied.
type TuningChange struct {
	At               time.Time `json:"at"`
	Field            string    `json:"field"`
	From             any       `json:"from"`
	To               any       `json:"to"`
	RecommendationID string    `json:"recommendation_id"`
}

// AutoTuner applies automatic recommendations to a running executor. Every
// interval, when enable_automatic_optimization is on, it computes the
// activity since its previous analysis (Stats.Sub), runs Recommend on it, and
// applies each recommendation that is automatic and touches only run-time
// settings: max_concurrent_executions, telemetry_batch_size,
// telemetry_flush_interval_seconds and cache admission under memory pressure
// (CacheAdmissionAction). Changes that need regeneration are left to the
// user, through the executor's recommendations. Judging a window, not the
// whole history, lets a change show its effect by the next analysis; the
// first analysis judges everything since the executor started.
//
// An AutoTuner is safe for concurrent use. Start launches its one goroutine,
// Close stops it.
type AutoTuner struct {
	interval time.Duration
	snapshot func() Stats
	config   func() OptimizationConfig
	apply    func(string, any) error
	log      *slog.Logger
	tick     <-chan time.Time
	now      func() time.Time

	runMu   sync.Mutex // serializes analyses
	prev    Stats
	hasPrev bool

	histMu   sync.Mutex
	hist     []TuningChange // ring buffer of cap historySize
	histNext int            // index of the next write once the ring is full

	stateMu sync.Mutex
	started bool
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

// NewAutoTuner validates opts and returns a stopped AutoTuner.
func NewAutoTuner(opts AutoTunerOptions) (*AutoTuner, error) {
	var errs []error
	if opts.Interval <= 0 {
		errs = append(errs, fmt.Errorf("auto-tuner: Interval must be > 0, got %v", opts.Interval))
	}
	if opts.Snapshot == nil {
		errs = append(errs, errors.New("auto-tuner: Snapshot is required, got nil"))
	}
	if opts.Config == nil {
		errs = append(errs, errors.New("auto-tuner: Config is required, got nil"))
	}
	if opts.Apply == nil {
		errs = append(errs, errors.New("auto-tuner: Apply is required, got nil"))
	}
	if opts.HistorySize < 0 {
		errs = append(errs, fmt.Errorf("auto-tuner: HistorySize must be >= 0 (0 for the default %d), got %d", DefaultAutoTunerHistorySize, opts.HistorySize))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	size := opts.HistorySize
	if size == 0 {
		size = DefaultAutoTunerHistorySize
	}
	t := &AutoTuner{
		interval: opts.Interval,
		snapshot: opts.Snapshot,
		config:   opts.Config,
		apply:    opts.Apply,
		log:      opts.Logger,
		tick:     opts.Tick,
		now:      opts.Now,
		hist:     make([]TuningChange, 0, size),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.now == nil {
		t.now = time.Now
	}
	return t, nil
}

// Start launches the analysis loop. It fails if the tuner is already
// started or closed.
func (t *AutoTuner) Start() error {
	t.stateMu.Lock()
	defer t.stateMu.Unlock()
	switch {
	case t.closed:
		return ErrAutoTunerClosed
	case t.started:
		return errors.New("auto-tuner: already started")
	}
	t.started = true
	tick, ticker := t.tick, (*time.Ticker)(nil)
	if tick == nil {
		ticker = time.NewTicker(t.interval)
		tick = ticker.C
	}
	go t.loop(tick, ticker)
	return nil
}

func (t *AutoTuner) loop(tick <-chan time.Time, ticker *time.Ticker) {
	defer close(t.done)
	if ticker != nil {
		defer ticker.Stop()
	}
	interval := t.interval
	for {
		select {
		case <-t.stop:
			return
		case _, ok := <-tick:
			if !ok {
				return
			}
			_, cfg, _ := t.run()
			if ticker != nil {
				interval = t.followInterval(ticker, interval, cfg)
			}
		}
	}
}

// followInterval resets the ticker when optimization_analysis_interval_seconds
// changed at run time.
func (t *AutoTuner) followInterval(ticker *time.Ticker, cur time.Duration, cfg OptimizationConfig) time.Duration {
	secs := cfg.OptimizationAnalysisIntervalSeconds
	if !(secs > 0) || secs > float64(math.MaxInt64)/float64(time.Second) {
		return cur
	}
	d := time.Duration(secs * float64(time.Second))
	if d <= 0 || d == cur {
		return cur
	}
	ticker.Reset(d)
	t.log.Info("auto-tuner interval changed", slog.Duration("from", cur), slog.Duration("to", d))
	return d
}

// RunOnce runs one analysis now and returns the changes it applied, oldest
// first. Failed changes are logged, skipped and reported together in the
// error; the others are still applied. With enable_automatic_optimization
// off it applies nothing, but the analysis window still moves on.
func (t *AutoTuner) RunOnce() ([]TuningChange, error) {
	applied, _, err := t.run()
	return applied, err
}

func (t *AutoTuner) run() ([]TuningChange, OptimizationConfig, error) {
	t.runMu.Lock()
	defer t.runMu.Unlock()
	if t.isClosed() {
		return nil, OptimizationConfig{}, ErrAutoTunerClosed
	}
	var cur Stats
	var cfg OptimizationConfig
	if err := autoTuneGuard("Snapshot", func() error { cur = t.snapshot(); return nil }); err != nil {
		t.log.Error("auto-tuner analysis failed", slog.Any("error", err))
		return nil, cfg, err
	}
	if err := autoTuneGuard("Config", func() error { cfg = t.config(); return nil }); err != nil {
		t.log.Error("auto-tuner analysis failed", slog.Any("error", err))
		return nil, cfg, err
	}
	window := cur
	if t.hasPrev {
		window = cur.Sub(t.prev)
	}
	t.prev, t.hasPrev = cur, true
	if !cfg.EnableAutomaticOptimization {
		return nil, cfg, nil
	}
	var applied []TuningChange
	var errs []error
	for _, r := range Recommend(window, cfg) {
		c := r.Change
		if !r.Automatic || !c.IsRuntime() {
			continue
		}
		err := autoTuneGuard("Apply", func() error { return t.apply(c.Field, c.Recommended) })
		if err != nil {
			err = fmt.Errorf("auto-tuner: applying %s = %v (recommendation %s): %w", c.Field, c.Recommended, r.ID, err)
			t.log.Warn("auto-tuner change failed",
				slog.String("field", c.Field), slog.Any("from", c.Current), slog.Any("to", c.Recommended),
				slog.String("recommendation", r.ID), slog.Any("error", err))
			errs = append(errs, err)
			continue
		}
		ch := TuningChange{At: t.now(), Field: c.Field, From: c.Current, To: c.Recommended, RecommendationID: r.ID}
		t.log.Info("auto-tuner applied change",
			slog.String("field", ch.Field), slog.Any("from", ch.From), slog.Any("to", ch.To),
			slog.String("recommendation", ch.RecommendationID), slog.String("reason", r.Description))
		t.record(ch)
		applied = append(applied, ch)
	}
	return applied, cfg, errors.Join(errs...)
}

// autoTuneGuard runs fn, turning a panic into an error: the callbacks are
// the executor's, and a faulty one must not end the loop.
func autoTuneGuard(name string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("auto-tuner: %s panicked: %v", name, r)
		}
	}()
	return fn()
}

func (t *AutoTuner) record(ch TuningChange) {
	t.histMu.Lock()
	defer t.histMu.Unlock()
	if len(t.hist) < cap(t.hist) {
		t.hist = append(t.hist, ch)
		return
	}
	t.hist[t.histNext] = ch
	t.histNext = (t.histNext + 1) % len(t.hist)
}

// History returns the most recent changes applied, oldest first, at most
// HistorySize of them.
func (t *AutoTuner) History() []TuningChange {
	t.histMu.Lock()
	defer t.histMu.Unlock()
	out := make([]TuningChange, 0, len(t.hist))
	out = append(out, t.hist[t.histNext:]...)
	return append(out, t.hist[:t.histNext]...)
}

func (t *AutoTuner) isClosed() bool {
	t.stateMu.Lock()
	defer t.stateMu.Unlock()
	return t.closed
}

// Close stops the loop and waits for it to end, or for ctx to be done, in
// which case it returns ctx's error and the loop ends when its current
// analysis returns. Close may be called more than once; a closed tuner runs
// no more analyses.
func (t *AutoTuner) Close(ctx context.Context) error {
	t.stateMu.Lock()
	if !t.closed {
		t.closed = true
		close(t.stop)
	}
	started := t.started
	t.stateMu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
