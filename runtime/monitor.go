package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for MonitorOptions fields left at zero.
const (
	// DefaultMonitorBaselineWindows is the number of windows that form the
	// baseline a recent window is compared with.
	DefaultMonitorBaselineWindows = 3
	// DefaultMonitorMinWindowSamples is the least number of executions a
	// window needs before it is compared.
	DefaultMonitorMinWindowSamples = 20
)

// MonitorOptions configures NewMonitor.
type MonitorOptions struct {
	// SlowThreshold is slow_execution_threshold_ms: executions that take
	// longer are counted as slow and reported to OnSlow. Must be positive.
	SlowThreshold time.Duration
	// DegradationThreshold is performance_degradation_threshold: a step is
	// flagged as regressed when the median of its recent window exceeds the
	// median of its baseline by more than this fraction (0.2 is 20%).
	// Must be positive.
	DegradationThreshold float64
	// OnSlow, if set, is called for each slow execution, on the goroutine
	// that recorded it. It must return quickly; a panic in it propagates
	// to that goroutine.
	OnSlow func(step string, latency time.Duration)
	// WindowInterval is the length of a comparison window. When positive,
	// a background goroutine closes a window every interval (Close stops
	// it); when zero, a window closes only when Rotate is called, for
	// instance by the auto-tuner every optimization_analysis_interval.
	WindowInterval time.Duration
	// BaselineWindows is how many windows before the recent one form the
	// baseline; 0 means DefaultMonitorBaselineWindows. Each costs about
	// 7.5 KiB per step.
	BaselineWindows int
	// MinWindowSamples is the least number of executions the recent window
	// and the baseline each need to be compared; 0 means
	// DefaultMonitorMinWindowSamples.
	MinWindowSamples int
}

// Monitor tracks per-step latency, errors and slow executions, and detects
// regressions by comparing a recent window of executions with a baseline.
// Steps are registered ahead of time with Step; recording goes through the
// returned handle, so the hot path does no map lookup, takes no lock and
// allocates nothing. The monitor's totals are merged from its steps when a
// snapshot is taken, so recording touches only the step's own counters.
type Monitor struct {
	slowNs     int64
	threshold  float64
	onSlow     func(string, time.Duration)
	baseline   int
	minSamples uint64

	mu    sync.Mutex // guards steps and the rotation state of every step
	steps map[string]*StepMonitor
	// scratch readings for Rotate, guarded by mu.
	cur, recent, base histogramCounts

	windows atomic.Uint64 // windows closed so far

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// StepMonitor records the executions of one step. Get it from Monitor.Step.
type StepMonitor struct {
	name   string
	slowNs int64
	onSlow func(string, time.Duration)
	hist   Histogram
	// successes and errors count the executions by outcome, each on its
	// own, so that neither ever reads lower than before: successes derived
	// as the histogram's count less errors would, for a failed execution
	// counted in the one and not yet in the other.
	successes, errors atomic.Uint64
	slow              atomic.Uint64

	regressed   atomic.Bool
	baselineP50 atomic.Int64
	recentP50   atomic.Int64

	// readings are cumulative copies of hist taken at window boundaries,
	// oldest first in ring order; guarded by Monitor.mu.
	readings  []histogramCounts
	nReadings int
	newest    int
}

// NewMonitor validates opts and returns a Monitor. With a positive
// WindowInterval it starts the goroutine that closes windows; Close stops it.
func NewMonitor(opts MonitorOptions) (*Monitor, error) {
	var errs []error
	if opts.SlowThreshold <= 0 {
		errs = append(errs, fmt.Errorf("runtime: monitor SlowThreshold (slow_execution_threshold_ms) is %v; it must be positive", opts.SlowThreshold))
	}
	if !(opts.DegradationThreshold > 0) {
		errs = append(errs, fmt.Errorf("runtime: monitor DegradationThreshold (performance_degradation_threshold) is %v; it must be positive", opts.DegradationThreshold))
	}
	if opts.WindowInterval < 0 {
		errs = append(errs, fmt.Errorf("runtime: monitor WindowInterval is %v; it must be positive, or 0 to close windows with Rotate", opts.WindowInterval))
	}
	if opts.BaselineWindows < 0 {
		errs = append(errs, fmt.Errorf("runtime: monitor BaselineWindows is %d; it must be at least 1, or 0 for %d", opts.BaselineWindows, DefaultMonitorBaselineWindows))
	}
	if opts.MinWindowSamples < 0 {
		errs = append(errs, fmt.Errorf("runtime: monitor MinWindowSamples is %d; it must be at least 1, or 0 for %d", opts.MinWindowSamples, DefaultMonitorMinWindowSamples))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m := &Monitor{
		slowNs:     int64(opts.SlowThreshold),
		threshold:  opts.DegradationThreshold,
		onSlow:     opts.OnSlow,
		baseline:   cmp.Or(opts.BaselineWindows, DefaultMonitorBaselineWindows),
		minSamples: uint64(cmp.Or(opts.MinWindowSamples, DefaultMonitorMinWindowSamples)),
		steps:      make(map[string]*StepMonitor),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	if opts.WindowInterval > 0 {
		go m.run(opts.WindowInterval)
	} else {
		close(m.done)
	}
	return m, nil
}

// Step returns the handle of the named step, registering it on first use.
// Call it once per step when building an executor and keep the handle.
func (m *Monitor) Step(name string) *StepMonitor {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.steps[name]; ok {
		return s
	}
	s := &StepMonitor{
		name:     name,
		slowNs:   m.slowNs,
		onSlow:   m.onSlow,
		readings: make([]histogramCounts, m.baseline+1),
	}
	// The first window starts at registration, from an empty reading.
	s.nReadings = 1
	m.steps[name] = s
	return s
}

// Name returns the step's name.
func (s *StepMonitor) Name() string { return s.name }

// Record adds one execution that took latencyNs nanoseconds (the difference
// of the clock readings at the step's boundaries) and succeeded when ok.
// It takes no lock and allocates nothing.
func (s *StepMonitor) Record(latencyNs int64, ok bool) {
	s.hist.Record(latencyNs)
	if ok {
		s.successes.Add(1)
	} else {
		s.errors.Add(1)
	}
	if latencyNs > s.slowNs {
		s.recordSlow(latencyNs)
	}
}

// recordSlow counts a slow execution and reports it.
func (s *StepMonitor) recordSlow(latencyNs int64) {
	s.slow.Add(1)
	if s.onSlow != nil {
		s.onSlow(s.name, time.Duration(latencyNs))
	}
}

// Histogram returns the step's latency histogram, for reading.
func (s *StepMonitor) Histogram() *Histogram { return &s.hist }

// Regressed reports whether the last closed window was flagged as a
// regression.
func (s *StepMonitor) Regressed() bool { return s.regressed.Load() }

// Rotate closes the current window of every step and compares it with the
// baseline: the BaselineWindows windows before it. A step is flagged as
// regressed when both have at least MinWindowSamples executions and the
// recent median exceeds the baseline median by more than
// DegradationThreshold; otherwise its flag is cleared. Rotate runs off the
// hot path: it copies each step's counters once and never blocks recording.
func (m *Monitor) Rotate() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.steps {
		m.rotateStep(s)
	}
	m.windows.Add(1)
}

// Windows returns how many windows have closed so far.
func (m *Monitor) Windows() uint64 { return m.windows.Load() }

// rotateStep closes s's window; m.mu is held.
func (m *Monitor) rotateStep(s *StepMonitor) {
	m.cur.load(&s.hist)
	newest := &s.readings[s.newest]
	oldest := &s.readings[(s.newest-s.nReadings+1+len(s.readings))%len(s.readings)]
	m.recent.delta(&m.cur, newest)
	m.base.delta(newest, oldest)

	// A window with too few executions has no median worth reporting, and
	// without both medians there is no evidence of a regression.
	var baseP50, recentP50 time.Duration
	var q [1]time.Duration
	if n := m.recent.count(); n >= m.minSamples {
		m.recent.quantiles(n, []float64{0.5}, q[:])
		recentP50 = q[0]
	}
	if n := m.base.count(); n >= m.minSamples {
		m.base.quantiles(n, []float64{0.5}, q[:])
		baseP50 = q[0]
	}
	regressed := recentP50 > 0 && baseP50 > 0 &&
		float64(recentP50) > float64(baseP50)*(1+m.threshold)
	s.baselineP50.Store(int64(baseP50))
	s.recentP50.Store(int64(recentP50))
	s.regressed.Store(regressed)

	// The new reading replaces the oldest once the ring is full.
	s.newest = (s.newest + 1) % len(s.readings)
	s.readings[s.newest] = m.cur
	s.nReadings = min(s.nReadings+1, len(s.readings))
}

// run closes a window every interval until Close.
func (m *Monitor) run(interval time.Duration) {
	defer close(m.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			m.Rotate()
		case <-m.stop:
			return
		}
	}
}

// Close stops the window goroutine, if any, and waits for it or for ctx.
func (m *Monitor) Close(ctx context.Context) error {
	m.closeOnce.Do(func() { close(m.stop) })
	select {
	case <-m.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Regression describes a step whose recent window is slower than its
// baseline by more than the degradation threshold.
type Regression struct {
	// Step is the step's name.
	Step string `json:"step"`
	// Baseline is the median latency of the baseline windows.
	Baseline time.Duration `json:"baseline_p50_ns"`
	// Recent is the median latency of the last closed window.
	Recent time.Duration `json:"recent_p50_ns"`
	// Slowdown is Recent/Baseline - 1: 0.25 means 25% slower.
	Slowdown float64 `json:"slowdown"`
}

// Regressions returns the steps flagged by the last Rotate, sorted by name.
func (m *Monitor) Regressions() []Regression {
	var out []Regression
	for _, s := range m.sortedSteps() {
		if !s.regressed.Load() {
			continue
		}
		r := Regression{
			Step:     s.name,
			Baseline: time.Duration(s.baselineP50.Load()),
			Recent:   time.Duration(s.recentP50.Load()),
		}
		if r.Baseline > 0 {
			r.Slowdown = float64(r.Recent)/float64(r.Baseline) - 1
		}
		out = append(out, r)
	}
	return out
}

// sortedSteps returns the registered steps sorted by name.
func (m *Monitor) sortedSteps() []*StepMonitor {
	m.mu.Lock()
	steps := make([]*StepMonitor, 0, len(m.steps))
	for _, s := range m.steps {
		steps = append(steps, s)
	}
	m.mu.Unlock()
	slices.SortFunc(steps, func(a, b *StepMonitor) int { return strings.Compare(a.name, b.name) })
	return steps
}

// StepMonitorSnapshot is the monitor's view of one step, or of all steps
// together. Latencies are in milliseconds; percentiles carry
// HistogramRelativeError.
type StepMonitorSnapshot struct {
	// Step is the step's name; empty for the total.
	Step string `json:"step,omitempty"`
	// Count is the number of executions recorded.
	Count uint64 `json:"count"`
	// Errors is the number of failed executions.
	Errors uint64 `json:"errors"`
	// Slow is the number of executions above the slow threshold.
	Slow uint64 `json:"slow_executions"`
	// TotalMs is the sum of the recorded latencies.
	TotalMs       float64 `json:"total_ms"`
	AvgMs         float64 `json:"avg_time_ms"`
	P50Ms         float64 `json:"p50_ms"`
	P95Ms         float64 `json:"p95_ms"`
	P99Ms         float64 `json:"p99_ms"`
	MaxMs         float64 `json:"max_ms"`
	ErrorRate     float64 `json:"error_rate"`
	Regressed     bool    `json:"regressed"`
	BaselineP50Ms float64 `json:"baseline_p50_ms"`
	RecentP50Ms   float64 `json:"recent_p50_ms"`
}

// MonitorSnapshot is a point-in-time view of a Monitor.
type MonitorSnapshot struct {
	// Steps holds one entry per registered step, sorted by name.
	Steps []StepMonitorSnapshot `json:"steps"`
	// Total merges every step; it is Regressed when any step is.
	Total StepMonitorSnapshot `json:"total"`
}

// monitorMs converts a duration to fractional milliseconds.
func monitorMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fill sets the latency fields of snap from c, and the error rate from
// snap's Count and Errors.
func (snap *StepMonitorSnapshot) fill(c *histogramCounts) {
	h := c.snapshot()
	snap.TotalMs = monitorMs(h.Sum)
	snap.AvgMs = monitorMs(h.Avg)
	snap.P50Ms = monitorMs(h.P50)
	snap.P95Ms = monitorMs(h.P95)
	snap.P99Ms = monitorMs(h.P99)
	snap.MaxMs = monitorMs(h.Max)
	if snap.Count > 0 {
		snap.ErrorRate = float64(snap.Errors) / float64(snap.Count)
	}
}

// Snapshot returns every step's figures and their total.
func (m *Monitor) Snapshot() MonitorSnapshot {
	steps := m.sortedSteps()
	out := MonitorSnapshot{Steps: make([]StepMonitorSnapshot, len(steps))}
	var one, total histogramCounts
	for i, s := range steps {
		// Count is successes and errors, not the histogram's count: each
		// outcome then only grows from one snapshot to the next.
		errs := s.errors.Load()
		snap := StepMonitorSnapshot{
			Step:          s.name,
			Count:         s.successes.Load() + errs,
			Errors:        errs,
			Slow:          s.slow.Load(),
			Regressed:     s.regressed.Load(),
			BaselineP50Ms: monitorMs(time.Duration(s.baselineP50.Load())),
			RecentP50Ms:   monitorMs(time.Duration(s.recentP50.Load())),
		}
		one.load(&s.hist)
		snap.fill(&one)
		out.Steps[i] = snap
		total.add(&one)
		out.Total.Count += snap.Count
		out.Total.Errors += snap.Errors
		out.Total.Slow += snap.Slow
		out.Total.Regressed = out.Total.Regressed || snap.Regressed
	}
	out.Total.fill(&total)
	return out
}
