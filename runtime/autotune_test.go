package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var autoTuneErrInjected = errors.New("injected apply failure")

// autoTuneExec stands in for an executor: cumulative counters, a live
// configuration that Apply changes, and a cache admission switch.
type autoTuneExec struct {
	mu         sync.Mutex
	cfg        OptimizationConfig
	stats      Stats
	saturated  bool
	paused     bool
	applied    []string
	failField  string
	panicField string
	notify     chan string   // receives each applied field when set
	entered    chan struct{} // receives when Apply starts, when set
	block      chan struct{} // Apply waits on it, when set
}

func newAutoTuneExec() *autoTuneExec {
	s, cfg := recommendTestBase()
	cfg.EnableAutomaticOptimization = true
	// Nothing is reused: activity makes the cache and pools look useless.
	s.Cache.Hits, s.Memory.ObjectPool.Hits = 0, 0
	return &autoTuneExec{cfg: cfg, stats: s}
}

func (e *autoTuneExec) Snapshot() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats.Clone()
	s.Config = e.cfg.Clone()
	s.Cache.AdmissionPaused = e.paused
	s.Telemetry.BatchSize = e.cfg.TelemetryBatchSize
	s.Telemetry.FlushIntervalSeconds = e.cfg.TelemetryFlushIntervalSeconds
	s.Concurrency.Max = *e.cfg.MaxConcurrentExecutions
	s.Concurrency.Limit = s.Concurrency.Max
	if e.saturated {
		s.Concurrency.Level, s.Concurrency.Waiting = s.Concurrency.Limit, 1
	}
	return s
}

func (e *autoTuneExec) Config() OptimizationConfig {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg.Clone()
}

func (e *autoTuneExec) Apply(field string, v any) error {
	if e.entered != nil {
		e.entered <- struct{}{}
	}
	if e.block != nil {
		<-e.block
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch field {
	case e.failField:
		return autoTuneErrInjected
	case e.panicField:
		panic("apply exploded")
	case CacheAdmissionAction:
		e.paused = !v.(bool)
	default:
		if f, ok := LookupConfigField(field); !ok || !f.Runtime {
			return fmt.Errorf("%s is not a run-time field", field)
		}
		doc, err := json.Marshal(map[string]any{field: v})
		if err != nil {
			return err
		}
		cfg, err := e.cfg.Import(doc, "json")
		if err != nil {
			return err
		}
		e.cfg = cfg
	}
	e.applied = append(e.applied, field)
	if e.notify != nil {
		e.notify <- field
	}
	return nil
}

// activity adds one busy interval: executions, dropped telemetry, a cache
// that does not pay off, an idle pool and (when saturated) waiting callers.
func (e *autoTuneExec) activity() {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &e.stats
	const n = 1000
	s.Execution.Count += n
	s.Execution.TotalMs += n
	s.Errors.Executions += n
	s.Telemetry.Recorded += n
	s.Telemetry.Dropped += n / 10
	s.Cache.Misses += n
	s.Memory.ObjectPool.Idle = recommendPoolIdleMinObjects
	e.saturated = true
}

func (e *autoTuneExec) options() AutoTunerOptions {
	return AutoTunerOptions{Interval: time.Minute, Snapshot: e.Snapshot, Config: e.Config, Apply: e.Apply}
}

// autoTuneLogBuffer is a goroutine-safe log sink.
type autoTuneLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *autoTuneLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *autoTuneLogBuffer) records(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func autoTuneFields(chs []TuningChange) []string {
	var f []string
	for _, c := range chs {
		f = append(f, c.Field)
	}
	slices.Sort(f)
	return f
}

var autoTuneRuntimeFields = []string{"max_concurrent_executions", "telemetry_batch_size", "telemetry_flush_interval_seconds"}

func TestNewAutoTunerValidates(t *testing.T) {
	e := newAutoTuneExec()
	cases := []struct {
		name   string
		mutate func(*AutoTunerOptions)
		want   []string
	}{
		{"zero interval", func(o *AutoTunerOptions) { o.Interval = 0 }, []string{"Interval must be > 0, got 0s"}},
		{"negative interval", func(o *AutoTunerOptions) { o.Interval = -time.Second }, []string{"Interval must be > 0, got -1s"}},
		{"no snapshot", func(o *AutoTunerOptions) { o.Snapshot = nil }, []string{"Snapshot is required"}},
		{"no config", func(o *AutoTunerOptions) { o.Config = nil }, []string{"Config is required"}},
		{"no apply", func(o *AutoTunerOptions) { o.Apply = nil }, []string{"Apply is required"}},
		{"negative history", func(o *AutoTunerOptions) { o.HistorySize = -3 }, []string{"HistorySize must be >= 0", "got -3"}},
		{"everything wrong", func(o *AutoTunerOptions) { *o = AutoTunerOptions{HistorySize: -1} },
			[]string{"Interval", "Snapshot", "Config", "Apply", "HistorySize"}},
	}
	for _, c := range cases {
		o := e.options()
		c.mutate(&o)
		tu, err := NewAutoTuner(o)
		if err == nil || tu != nil {
			t.Errorf("%s: NewAutoTuner accepted %+v", c.name, o)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
	tu, err := NewAutoTuner(e.options())
	if err != nil {
		t.Fatal(err)
	}
	if cap(tu.hist) != DefaultAutoTunerHistorySize {
		t.Errorf("default history size = %d, want %d", cap(tu.hist), DefaultAutoTunerHistorySize)
	}
}

func TestAutoTunerAppliesRunTimeChangesOnly(t *testing.T) {
	e := newAutoTuneExec()
	e.activity()
	var logs autoTuneLogBuffer
	var clock atomic.Int64
	o := e.options()
	o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	o.Now = func() time.Time { return time.Unix(clock.Add(1), 0) }
	tu, err := NewAutoTuner(o)
	if err != nil {
		t.Fatal(err)
	}
	// The same window also asks for manual changes: no cache, smaller pools.
	manual := Recommend(e.Snapshot(), e.Config())
	for _, id := range []string{"cache-low-hit-rate", "pool-idle"} {
		if r, ok := recommendFind(manual, id); !ok || r.Automatic {
			t.Fatalf("test setup: want manual recommendation %s, got %+v", id, manual)
		}
	}

	got, err := tu.RunOnce()
	if err != nil {
		t.Fatal(err)
	}
	if f := autoTuneFields(got); !slices.Equal(f, autoTuneRuntimeFields) {
		t.Fatalf("applied %v, want %v", f, autoTuneRuntimeFields)
	}
	cfg := e.Config()
	def := DefaultOptimizationConfig()
	if cfg.EnableCacheOptimization != true || cfg.ObjectPoolMaxSize != def.ObjectPoolMaxSize {
		t.Errorf("manual settings changed: %+v", cfg)
	}
	if cfg.TelemetryBatchSize <= def.TelemetryBatchSize || cfg.TelemetryFlushIntervalSeconds >= def.TelemetryFlushIntervalSeconds || *cfg.MaxConcurrentExecutions <= 8 {
		t.Errorf("run-time settings not applied: %+v", cfg)
	}
	for _, c := range got {
		if want := cfg.ToMap()[c.Field]; !reflect.DeepEqual(c.To, want) {
			t.Errorf("%s: To = %v, executor has %v", c.Field, c.To, want)
		}
		if c.RecommendationID == "" || c.At.IsZero() || reflect.DeepEqual(c.From, c.To) {
			t.Errorf("incomplete change record %+v", c)
		}
	}
	if h := tu.History(); !reflect.DeepEqual(h, got) {
		t.Errorf("History = %+v, want %+v", h, got)
	}
	logged := map[string]bool{}
	for _, r := range logs.records(t) {
		if r["msg"] == "auto-tuner applied change" && r["recommendation"] != "" && r["reason"] != "" {
			logged[r["field"].(string)] = true
		}
	}
	for _, f := range autoTuneRuntimeFields {
		if !logged[f] {
			t.Errorf("change of %s not logged: %v", f, logs.records(t))
		}
	}

	// No new activity since the last analysis: nothing to judge.
	if again, err := tu.RunOnce(); err != nil || len(again) != 0 {
		t.Fatalf("idle window applied %+v (err %v)", again, err)
	}

	// New activity: the tuner starts from the settings it changed.
	before := e.Config()
	e.activity()
	third, err := tu.RunOnce()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range third {
		if want := before.ToMap()[c.Field]; !reflect.DeepEqual(c.From, want) {
			t.Errorf("%s: From = %v, want the current %v", c.Field, c.From, want)
		}
	}
	if f := autoTuneFields(third); !slices.Equal(f, autoTuneRuntimeFields) {
		t.Errorf("second busy window applied %v, want %v", f, autoTuneRuntimeFields)
	}
}

func TestAutoTunerCacheAdmissionFollowsPressure(t *testing.T) {
	e := newAutoTuneExec()
	tu, err := NewAutoTuner(e.options())
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.stats.Memory.PressureLevel = StatsPressureHigh
	e.mu.Unlock()
	got, err := tu.RunOnce()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Field != CacheAdmissionAction || got[0].To != false {
		t.Fatalf("under high pressure applied %+v, want cache admission paused only", got)
	}
	if e.Snapshot().Cache.AdmissionPaused != true {
		t.Fatal("admission not paused")
	}
	if got, _ := tu.RunOnce(); len(got) != 0 {
		t.Fatalf("paused twice: %+v", got)
	}
	e.mu.Lock()
	e.stats.Memory.PressureLevel = StatsPressureNone
	e.mu.Unlock()
	got, err = tu.RunOnce()
	if err != nil || len(got) != 1 || got[0].Field != CacheAdmissionAction || got[0].To != true {
		t.Fatalf("after the pressure applied %+v (err %v), want cache admission resumed", got, err)
	}
}

func TestAutoTunerDisabledStillMovesTheWindow(t *testing.T) {
	e := newAutoTuneExec()
	e.cfg.EnableAutomaticOptimization = false
	e.activity()
	tu, err := NewAutoTuner(e.options())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tu.RunOnce(); err != nil || got != nil || len(e.applied) != 0 {
		t.Fatalf("disabled tuner applied %+v / %v (err %v)", got, e.applied, err)
	}
	e.mu.Lock()
	e.cfg.EnableAutomaticOptimization = true
	e.mu.Unlock()
	if got, err := tu.RunOnce(); err != nil || len(got) != 0 {
		t.Fatalf("activity judged while disabled was applied later: %+v (err %v)", got, err)
	}
	e.activity()
	if got, err := tu.RunOnce(); err != nil || len(got) == 0 {
		t.Fatalf("enabled tuner applied nothing on a busy window (err %v)", err)
	}
}

func TestAutoTunerFailingApply(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*autoTuneExec)
		field string
		want  string
		is    error
	}{
		{"error", func(e *autoTuneExec) { e.failField = "telemetry_batch_size" }, "telemetry_batch_size", "telemetry_batch_size", autoTuneErrInjected},
		{"panic", func(e *autoTuneExec) { e.panicField = "max_concurrent_executions" }, "max_concurrent_executions", "Apply panicked: apply exploded", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newAutoTuneExec()
			c.setup(e)
			e.activity()
			var logs autoTuneLogBuffer
			o := e.options()
			o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			tu, err := NewAutoTuner(o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tu.RunOnce()
			if err == nil || !strings.Contains(err.Error(), c.want) || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("RunOnce error = %v, want one about %q", err, c.want)
			}
			want := slices.DeleteFunc(slices.Clone(autoTuneRuntimeFields), func(f string) bool { return f == c.field })
			if f := autoTuneFields(got); !slices.Equal(f, want) {
				t.Errorf("applied %v, want the others %v", f, want)
			}
			if f := autoTuneFields(tu.History()); !slices.Equal(f, want) {
				t.Errorf("history %v, want %v", f, want)
			}
			warned := false
			for _, r := range logs.records(t) {
				warned = warned || (r["level"] == "WARN" && r["field"] == c.field)
			}
			if !warned {
				t.Errorf("failure not logged: %v", logs.records(t))
			}
		})
	}
}

func TestAutoTunerSurvivesPanickingSnapshot(t *testing.T) {
	e := newAutoTuneExec()
	o := e.options()
	var calls atomic.Int32
	o.Snapshot = func() Stats {
		if calls.Add(1) == 1 {
			panic("snapshot exploded")
		}
		return e.Snapshot()
	}
	tu, err := NewAutoTuner(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tu.RunOnce(); err == nil || !strings.Contains(err.Error(), "Snapshot panicked") {
		t.Fatalf("err = %v, want the snapshot panic", err)
	}
	e.activity()
	if got, err := tu.RunOnce(); err != nil || len(got) == 0 {
		t.Fatalf("tuner did not recover from the panic: %+v, %v", got, err)
	}
}

func TestAutoTunerHistoryIsBounded(t *testing.T) {
	for _, size := range []int{1, 2, 4, 7} {
		e := newAutoTuneExec()
		o := e.options()
		o.HistorySize = size
		var clock atomic.Int64
		o.Now = func() time.Time { return time.Unix(clock.Add(1), 0) }
		tu, err := NewAutoTuner(o)
		if err != nil {
			t.Fatal(err)
		}
		var all []TuningChange
		for range 4 {
			e.activity()
			got, err := tu.RunOnce()
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, got...)
		}
		if want := all[max(0, len(all)-size):]; !reflect.DeepEqual(tu.History(), want) {
			t.Errorf("size %d: History = %+v, want the last %d changes %+v", size, tu.History(), size, want)
		}
	}
}

func TestAutoTunerLoopWithTick(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := newAutoTuneExec()
	e.notify = make(chan string, 16)
	e.activity()
	tick := make(chan time.Time)
	o := e.options()
	o.Tick = tick
	tu, err := NewAutoTuner(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tu.Start(); err != nil {
		t.Fatal(err)
	}
	if err := tu.Start(); err == nil {
		t.Error("second Start succeeded")
	}
	tick <- time.Time{}
	var applied []string
	for range autoTuneRuntimeFields {
		select {
		case f := <-e.notify:
			applied = append(applied, f)
		case <-time.After(10 * time.Second):
			t.Fatalf("tick did not run an analysis; applied so far %v", applied)
		}
	}
	slices.Sort(applied)
	if !slices.Equal(applied, autoTuneRuntimeFields) {
		t.Errorf("loop applied %v, want %v", applied, autoTuneRuntimeFields)
	}
	if err := tu.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tu.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := tu.Start(); !errors.Is(err, ErrAutoTunerClosed) {
		t.Errorf("Start after Close = %v, want ErrAutoTunerClosed", err)
	}
	if _, err := tu.RunOnce(); !errors.Is(err, ErrAutoTunerClosed) {
		t.Errorf("RunOnce after Close = %v, want ErrAutoTunerClosed", err)
	}
}

func TestAutoTunerCloseWaitsForTheAnalysis(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := newAutoTuneExec()
	e.entered = make(chan struct{}, 16)
	e.block = make(chan struct{})
	e.activity()
	tick := make(chan time.Time, 1)
	o := e.options()
	o.Tick = tick
	tu, err := NewAutoTuner(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tu.Start(); err != nil {
		t.Fatal(err)
	}
	tick <- time.Time{}
	<-e.entered // Apply is running and blocked
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tu.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close with a blocked Apply = %v, want context.Canceled", err)
	}
	close(e.block)
	if err := tu.Close(context.Background()); err != nil {
		t.Fatalf("Close after Apply returned: %v", err)
	}
}

func TestAutoTunerStopsWhenTickCloses(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := newAutoTuneExec()
	tick := make(chan time.Time)
	o := e.options()
	o.Tick = tick
	tu, err := NewAutoTuner(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tu.Start(); err != nil {
		t.Fatal(err)
	}
	close(tick)
	if err := tu.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestAutoTunerOwnTickerStops(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := newAutoTuneExec()
	o := e.options()
	o.Interval = time.Hour
	tu, err := NewAutoTuner(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tu.Start(); err != nil {
		t.Fatal(err)
	}
	if err := tu.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Closing a tuner that never started is fine too.
	idle, _ := NewAutoTuner(o)
	if err := idle.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := idle.Start(); !errors.Is(err, ErrAutoTunerClosed) {
		t.Errorf("Start after Close = %v", err)
	}
}

func TestAutoTunerFollowsIntervalChanges(t *testing.T) {
	e := newAutoTuneExec()
	tu, err := NewAutoTuner(e.options())
	if err != nil {
		t.Fatal(err)
	}
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	cfg := e.Config()
	cases := []struct {
		secs float64
		cur  time.Duration
		want time.Duration
	}{
		{7200, time.Hour, 2 * time.Hour},
		{3600, time.Hour, time.Hour},
		{0.5, time.Hour, 500 * time.Millisecond},
		{0, time.Hour, time.Hour},
		{-1, time.Hour, time.Hour},
		{math.NaN(), time.Hour, time.Hour},
		{math.Inf(1), time.Hour, time.Hour},
	}
	for _, c := range cases {
		cfg.OptimizationAnalysisIntervalSeconds = c.secs
		if got := tu.followInterval(ticker, c.cur, cfg); got != c.want {
			t.Errorf("followInterval(%v s) = %v, want %v", c.secs, got, c.want)
		}
	}
}

func TestAutoTunerConcurrentUse(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := newAutoTuneExec()
	tick := make(chan time.Time)
	o := e.options()
	o.Tick = tick
	o.HistorySize = 5
	tu, err := NewAutoTuner(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tu.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				switch g % 3 {
				case 0:
					e.activity()
					tick <- time.Time{}
				case 1:
					if _, err := tu.RunOnce(); err != nil {
						t.Error(err)
					}
				default:
					if h := tu.History(); len(h) > o.HistorySize {
						t.Errorf("history grew to %d", len(h))
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := tu.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Ticks and RunOnce calls race to apply the same recommendations, so
	// which of them applies a change varies; together they apply more than
	// the history keeps, and the history stays bounded.
	if h := tu.History(); len(h) != o.HistorySize {
		t.Fatalf("history %d entries, want %d", len(h), o.HistorySize)
	}
}
