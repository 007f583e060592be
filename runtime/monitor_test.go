package runtime

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func monitorNewTest(t testing.TB, opts MonitorOptions) *Monitor {
	t.Helper()
	m, err := NewMonitor(opts)
	if err != nil {
		t.Fatalf("NewMonitor: %v", err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func TestNewMonitorRejectsBadOptions(t *testing.T) {
	valid := MonitorOptions{SlowThreshold: time.Second, DegradationThreshold: 0.2}
	cases := []struct {
		name   string
		change func(*MonitorOptions)
		want   []string
	}{
		{"slow threshold zero", func(o *MonitorOptions) { o.SlowThreshold = 0 }, []string{"SlowThreshold (slow_execution_threshold_ms) is 0s"}},
		{"slow threshold negative", func(o *MonitorOptions) { o.SlowThreshold = -time.Millisecond }, []string{"is -1ms; it must be positive"}},
		{"degradation zero", func(o *MonitorOptions) { o.DegradationThreshold = 0 }, []string{"DegradationThreshold (performance_degradation_threshold) is 0"}},
		{"degradation negative", func(o *MonitorOptions) { o.DegradationThreshold = -0.5 }, []string{"is -0.5"}},
		{"degradation NaN", func(o *MonitorOptions) { o.DegradationThreshold = math.NaN() }, []string{"is NaN"}},
		{"window negative", func(o *MonitorOptions) { o.WindowInterval = -time.Second }, []string{"WindowInterval is -1s"}},
		{"baseline negative", func(o *MonitorOptions) { o.BaselineWindows = -1 }, []string{"BaselineWindows is -1"}},
		{"min samples negative", func(o *MonitorOptions) { o.MinWindowSamples = -2 }, []string{"MinWindowSamples is -2"}},
		{"every problem at once", func(o *MonitorOptions) { *o = MonitorOptions{WindowInterval: -1} }, []string{"SlowThreshold", "DegradationThreshold", "WindowInterval"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			opts := valid
			tc.change(&opts)
			m, err := NewMonitor(opts)
			if err == nil {
				m.Close(context.Background())
				t.Fatalf("NewMonitor(%+v) succeeded, want an error", opts)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMonitorSnapshot(t *testing.T) {
	m := monitorNewTest(t, MonitorOptions{SlowThreshold: time.Hour, DegradationThreshold: 0.2})
	a, b := m.Step("b-second"), m.Step("a-first")
	if m.Step("b-second") != a {
		t.Fatal("Step returned a new handle for a registered name")
	}
	if a.Name() != "b-second" {
		t.Fatalf("Name() = %q", a.Name())
	}
	// a: 1..100 ms, every tenth fails. b: 4 executions of 2 ms, none fails.
	for i := 1; i <= 100; i++ {
		a.Record(int64(i)*int64(time.Millisecond), i%10 != 0)
	}
	for range 4 {
		b.Record(int64(2*time.Millisecond), true)
	}
	snap := m.Snapshot()
	if len(snap.Steps) != 2 || snap.Steps[0].Step != "a-first" || snap.Steps[1].Step != "b-second" {
		t.Fatalf("steps = %+v, want a-first then b-second", snap.Steps)
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > want*HistogramRelativeError+1e-9 {
			t.Errorf("%s = %v, want %v within %.1f%%", what, got, want, HistogramRelativeError*100)
		}
	}
	sa := snap.Steps[1]
	if sa.Count != 100 || sa.Errors != 10 || sa.ErrorRate != 0.1 || sa.Slow != 0 {
		t.Errorf("b-second = %+v, want 100 executions, 10 errors", sa)
	}
	if sa.AvgMs != 50.5 || sa.MaxMs != 100 {
		t.Errorf("b-second avg %v max %v, want 50.5 and 100 exactly", sa.AvgMs, sa.MaxMs)
	}
	near("p50", sa.P50Ms, 50)
	near("p95", sa.P95Ms, 95)
	near("p99", sa.P99Ms, 99)
	sb := snap.Steps[0]
	if sb.Count != 4 || sb.Errors != 0 || sb.AvgMs != 2 || sb.MaxMs != 2 {
		t.Errorf("a-first = %+v, want 4 executions of 2 ms", sb)
	}
	tot := snap.Total
	if tot.Step != "" || tot.Count != 104 || tot.Errors != 10 || tot.MaxMs != 100 {
		t.Errorf("total = %+v, want 104 executions, 10 errors, max 100", tot)
	}
	if want := (5050.0 + 8) / 104; math.Abs(tot.AvgMs-want) > 1e-6 {
		t.Errorf("total avg = %v, want %v", tot.AvgMs, want)
	}
	near("total p50", tot.P50Ms, 48)
}

func TestMonitorSlowExecutions(t *testing.T) {
	type call struct {
		step    string
		latency time.Duration
	}
	var mu sync.Mutex
	var calls []call
	m := monitorNewTest(t, MonitorOptions{
		SlowThreshold:        10 * time.Millisecond,
		DegradationThreshold: 0.2,
		OnSlow: func(step string, latency time.Duration) {
			mu.Lock()
			calls = append(calls, call{step, latency})
			mu.Unlock()
		},
	})
	s := m.Step("fetch")
	for _, d := range []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 10*time.Millisecond + 1, 50 * time.Millisecond} {
		s.Record(int64(d), true)
	}
	want := []call{{"fetch", 10*time.Millisecond + 1}, {"fetch", 50 * time.Millisecond}}
	if len(calls) != len(want) || calls[0] != want[0] || calls[1] != want[1] {
		t.Fatalf("OnSlow calls = %v, want %v", calls, want)
	}
	// Many goroutines: every slow execution is counted and reported once.
	const goroutines, per = 8, 1000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range per {
				ms := time.Duration(1 + (g+i)%20)
				s.Record(int64(ms*time.Millisecond), true)
			}
		})
	}
	wg.Wait()
	slowPer := 0
	for g := range goroutines {
		for i := range per {
			if 1+(g+i)%20 > 10 {
				slowPer++
			}
		}
	}
	snap := m.Snapshot().Steps[0]
	if snap.Slow != uint64(2+slowPer) || len(calls) != 2+slowPer {
		t.Fatalf("slow = %d, callbacks = %d, want %d", snap.Slow, len(calls), 2+slowPer)
	}
	if m.Snapshot().Total.Slow != snap.Slow {
		t.Fatalf("total slow differs from the only step's")
	}
}

// monitorWindow records n executions of d into s and closes the window.
func monitorWindow(m *Monitor, s *StepMonitor, n int, d time.Duration) {
	for range n {
		s.Record(int64(d), true)
	}
	m.Rotate()
}

func TestMonitorRegressionDetection(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name      string
		baseline  int
		windows   []time.Duration // all but the last form the history
		lastN     int
		regressed bool
	}{
		{"steady", 3, []time.Duration{ms, ms, ms, ms}, 50, false},
		{"30% slower", 3, []time.Duration{ms, ms, ms, 1300 * time.Microsecond}, 50, true},
		{"just under the threshold", 3, []time.Duration{ms, ms, ms, 1150 * time.Microsecond}, 50, false},
		{"faster", 3, []time.Duration{ms, ms, ms, 500 * time.Microsecond}, 50, false},
		{"too few recent samples", 3, []time.Duration{ms, ms, ms, 5 * ms}, 19, false},
		{"no baseline yet", 3, []time.Duration{5 * ms}, 50, false},
		// The baseline is the last BaselineWindows windows only.
		{"one-window baseline sees the fast window", 1, []time.Duration{2 * ms, 2 * ms, ms, 1500 * time.Microsecond}, 50, true},
		{"three-window baseline sees the slow windows", 3, []time.Duration{2 * ms, 2 * ms, ms, 1500 * time.Microsecond}, 50, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := monitorNewTest(t, MonitorOptions{
				SlowThreshold: time.Hour, DegradationThreshold: 0.2,
				BaselineWindows: tc.baseline, MinWindowSamples: 20,
			})
			s := m.Step("s")
			last := len(tc.windows) - 1
			for _, d := range tc.windows[:last] {
				monitorWindow(m, s, 50, d)
			}
			monitorWindow(m, s, tc.lastN, tc.windows[last])
			if s.Regressed() != tc.regressed {
				t.Fatalf("Regressed() = %v, want %v; snapshot %+v", s.Regressed(), tc.regressed, m.Snapshot().Steps[0])
			}
			regs := m.Regressions()
			if tc.regressed != (len(regs) == 1) || m.Snapshot().Total.Regressed != tc.regressed {
				t.Fatalf("Regressions() = %+v, total regressed %v, want regressed %v", regs, m.Snapshot().Total.Regressed, tc.regressed)
			}
			if tc.regressed {
				r := regs[0]
				wantSlow := float64(tc.windows[last])/float64(r.Baseline) - 1
				if r.Step != "s" || r.Recent <= r.Baseline || math.Abs(r.Slowdown-wantSlow) > 2*HistogramRelativeError {
					t.Fatalf("regression = %+v, want step s, about %.2f slower", r, wantSlow)
				}
			}
		})
	}
}

func TestMonitorRegressionClearsOnRecovery(t *testing.T) {
	m := monitorNewTest(t, MonitorOptions{SlowThreshold: time.Hour, DegradationThreshold: 0.2, BaselineWindows: 1, MinWindowSamples: 10})
	fast, slow := m.Step("fast"), m.Step("slow")
	monitorWindow(m, slow, 20, time.Millisecond)
	for range 20 {
		fast.Record(int64(time.Millisecond), true)
	}
	monitorWindow(m, slow, 20, 3*time.Millisecond)
	if regs := m.Regressions(); len(regs) != 1 || regs[0].Step != "slow" {
		t.Fatalf("Regressions() = %+v, want only slow", regs)
	}
	monitorWindow(m, slow, 20, 3*time.Millisecond)
	if slow.Regressed() {
		t.Fatal("a step still flagged once its baseline caught up with it")
	}
	monitorWindow(m, slow, 20, 9*time.Millisecond)
	monitorWindow(m, slow, 0, 0) // an idle window clears the flag: no evidence
	if slow.Regressed() || len(m.Regressions()) != 0 {
		t.Fatal("flag kept through a window without executions")
	}
}

func TestMonitorConcurrentUse(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	m := monitorNewTest(t, MonitorOptions{SlowThreshold: 5 * time.Millisecond, DegradationThreshold: 0.2, WindowInterval: time.Millisecond})
	names := []string{"a", "b", "c", "d"}
	const goroutines, per = 8, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			s := m.Step(names[g%len(names)])
			for i := range per {
				s.Record(int64(i%10)*int64(time.Millisecond), i%4 != 0)
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			m.Rotate()
			snap := m.Snapshot()
			if snap.Total.Errors > snap.Total.Count {
				t.Errorf("snapshot shows %d errors for %d executions", snap.Total.Errors, snap.Total.Count)
			}
			m.Regressions()
		}
	})
	wg.Wait()
	tot := m.Snapshot().Total
	if tot.Count != goroutines*per || tot.Errors != goroutines*per/4 || tot.Slow != goroutines*per*4/10 {
		t.Fatalf("total = %+v, want %d executions, %d errors, %d slow", tot, goroutines*per, goroutines*per/4, goroutines*per*4/10)
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestMonitorWindowGoroutineRotates(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	m, err := NewMonitor(MonitorOptions{SlowThreshold: time.Second, DegradationThreshold: 0.2, WindowInterval: time.Millisecond, MinWindowSamples: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Step("s")
	// Nothing here calls Rotate: every window is closed by the goroutine.
	telemetryWait(t, "windows to close on their own", func() bool {
		s.Record(int64(time.Millisecond), true)
		return m.Windows() >= 3
	})
	if err := m.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestStepMonitorRecordAllocs(t *testing.T) {
	m := monitorNewTest(t, MonitorOptions{SlowThreshold: time.Microsecond, DegradationThreshold: 0.2, OnSlow: func(string, time.Duration) {}})
	s := m.Step("s")
	v := int64(0)
	if a := testing.AllocsPerRun(1000, func() { v += 997; s.Record(v, v%3 != 0) }); a != 0 {
		t.Fatalf("StepMonitor.Record allocates %v times per call", a)
	}
}

func BenchmarkStepMonitorRecord(b *testing.B) {
	m := monitorNewTest(b, MonitorOptions{SlowThreshold: time.Second, DegradationThreshold: 0.2})
	s := m.Step("s")
	b.ReportAllocs()
	v := int64(1000)
	for b.Loop() {
		s.Record(v, true)
		v = (v + 7919) & (1<<24 - 1)
	}
}

func ExampleMonitor() {
	m, err := NewMonitor(MonitorOptions{
		SlowThreshold:        time.Second,
		DegradationThreshold: 0.2,
		BaselineWindows:      1,
		MinWindowSamples:     1,
		OnSlow: func(step string, latency time.Duration) {
			fmt.Println("slow:", step, latency)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close(context.Background())
	fetch := m.Step("fetch") // once, when the executor is built
	fetch.Record(int64(100*time.Millisecond), true)
	m.Rotate()
	fetch.Record(int64(1500*time.Millisecond), false)
	m.Rotate()
	for _, r := range m.Regressions() {
		fmt.Printf("regressed: %s, recent median %v, over %.0fx the baseline\n", r.Step, r.Recent, math.Floor(1+r.Slowdown))
	}
	s := m.Snapshot().Steps[0]
	fmt.Println(s.Step, s.Count, s.Errors, s.Slow, s.MaxMs)
	// Output:
	// slow: fetch 1.5s
	// regressed: fetch, recent median 1.5s, over 15x the baseline
	// fetch 2 1 1 1500
}
