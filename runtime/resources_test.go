package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

const resourceMB = 1 << 20

// resourceFakeSampler returns whatever the test last set.
type resourceFakeSampler struct {
	mu     sync.Mutex
	sample ResourceSample
	err    error
	calls  int
	called chan struct{} // receives a value per call when non-nil
}

func (f *resourceFakeSampler) SampleResources(s *ResourceSample) error {
	f.mu.Lock()
	f.calls++
	*s = f.sample
	err, called := f.err, f.called
	f.mu.Unlock()
	if called != nil {
		select {
		case called <- struct{}{}:
		default:
		}
	}
	return err
}

func (f *resourceFakeSampler) set(fn func(s *ResourceSample)) {
	f.mu.Lock()
	fn(&f.sample)
	f.mu.Unlock()
}

// resourceFakeLimit records SetLimit calls.
type resourceFakeLimit struct {
	mu    sync.Mutex
	limit int
	sets  []int
}

func (l *resourceFakeLimit) SetLimit(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit = n
	l.sets = append(l.sets, n)
}

func (l *resourceFakeLimit) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

func newTestResourceManager(t *testing.T, mutate func(*ResourceOptions)) (*ResourceManager, *resourceFakeSampler) {
	t.Helper()
	fake := &resourceFakeSampler{}
	opts := resourceTestOptions()
	opts.Sampler = fake
	opts.MemoryThresholdMB = 100
	opts.Clock = NewFakeClock(0)
	if mutate != nil {
		mutate(&opts)
	}
	m, err := NewResourceManager(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, fake
}

func TestNewResourceManagerRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*ResourceOptions)
		field  string
	}{
		{"zero threshold", func(o *ResourceOptions) { o.MemoryThresholdMB = 0 }, "MemoryThresholdMB"},
		{"negative threshold", func(o *ResourceOptions) { o.MemoryThresholdMB = -5 }, "MemoryThresholdMB"},
		{"zero cpu", func(o *ResourceOptions) { o.CPUThresholdPercent = 0 }, "CPUThresholdPercent"},
		{"cpu above 100", func(o *ResourceOptions) { o.CPUThresholdPercent = 101 }, "CPUThresholdPercent"},
		{"zero interval", func(o *ResourceOptions) { o.Interval = 0 }, "Interval"},
		{"negative interval", func(o *ResourceOptions) { o.Interval = -time.Second }, "Interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := resourceTestOptions()
			tt.mutate(&opts)
			_, err := NewResourceManager(opts)
			if err == nil || !strings.Contains(err.Error(), "ResourceOptions."+tt.field) {
				t.Fatalf("error %v; want one naming ResourceOptions.%s", err, tt.field)
			}
		})
	}
}

func TestPressureLevelText(t *testing.T) {
	for l, want := range map[PressureLevel]string{PressureNone: "none", PressureModerate: "moderate", PressureHigh: "high", PressureCritical: "critical"} {
		b, err := l.MarshalText()
		if err != nil || string(b) != want || l.String() != want {
			t.Errorf("%d: MarshalText %q, %v; String %q; want %q", uint32(l), b, err, l.String(), want)
		}
		var back PressureLevel
		if err := back.UnmarshalText(b); err != nil || back != l {
			t.Errorf("UnmarshalText(%q) = %v, %v", b, back, err)
		}
	}
	if _, err := PressureLevel(9).MarshalText(); err == nil {
		t.Error("MarshalText accepted an invalid level")
	}
	var p PressureLevel
	if err := p.UnmarshalText([]byte("severe")); err == nil {
		t.Error("UnmarshalText accepted an unknown name")
	}
	if got := PressureLevel(9).String(); got != "PressureLevel(9)" {
		t.Errorf("String of an invalid level = %q", got)
	}
}

func TestResourceNextLevelHysteresis(t *testing.T) {
	steps := []struct {
		ratio float64
		want  PressureLevel
	}{
		{0.50, PressureNone},
		{0.79, PressureNone},
		{0.80, PressureModerate},
		{0.76, PressureModerate}, // within the band
		{0.74, PressureNone},
		{0.95, PressureHigh},
		{0.86, PressureHigh},
		{1.20, PressureCritical},
		{0.96, PressureCritical},
		{0.94, PressureHigh},
		{0.50, PressureNone}, // a big drop passes through every level
		{1.00, PressureCritical},
		{0.80, PressureModerate},
	}
	level := PressureNone
	for i, s := range steps {
		level = resourceNextLevel(level, s.ratio)
		if level != s.want {
			t.Fatalf("step %d: ratio %.2f gave %v; want %v", i, s.ratio, level, s.want)
		}
	}
}

func TestResourceManagerReactsToMemoryPressure(t *testing.T) {
	limit := &resourceFakeLimit{limit: 40}
	m, fake := newTestResourceManager(t, func(o *ResourceOptions) { o.Limit = limit })
	var mu sync.Mutex
	var calls []PressureLevel
	if err := m.RegisterShrinker("cache", func(l PressureLevel) {
		mu.Lock()
		calls = append(calls, l)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		mb         uint64
		level      PressureLevel
		limit      int
		shrinkCall bool
	}{
		{50, PressureNone, 40, false},
		{85, PressureModerate, 30, true},
		{85, PressureModerate, 30, false},
		{92, PressureHigh, 20, true},
		{100, PressureCritical, 10, true},
		{101, PressureCritical, 10, true}, // critical: shrink every sample
		{97, PressureCritical, 10, true},
		{70, PressureNone, 40, true}, // relief: restored and shrinkers told
		{70, PressureNone, 40, false},
	}
	for i, s := range steps {
		fake.set(func(r *ResourceSample) { r.TotalBytes, r.HeapBytes = s.mb*resourceMB, s.mb*resourceMB/2 })
		mu.Lock()
		before := len(calls)
		mu.Unlock()
		snap := m.Sample()
		mu.Lock()
		called := len(calls) > before
		last := PressureNone
		if len(calls) > 0 {
			last = calls[len(calls)-1]
		}
		mu.Unlock()
		if m.Pressure() != s.level || snap.MemoryPressureLevel != s.level {
			t.Fatalf("step %d (%d MB): level %v / snapshot %v; want %v", i, s.mb, m.Pressure(), snap.MemoryPressureLevel, s.level)
		}
		if limit.Limit() != s.limit || snap.ConcurrencyLimit != s.limit {
			t.Fatalf("step %d: concurrency limit %d / snapshot %d; want %d", i, limit.Limit(), snap.ConcurrencyLimit, s.limit)
		}
		if called != s.shrinkCall {
			t.Fatalf("step %d: shrinker called %v; want %v", i, called, s.shrinkCall)
		}
		if called && last != s.level {
			t.Fatalf("step %d: shrinker got %v; want %v", i, last, s.level)
		}
		if snap.MemoryUsageMB != float64(s.mb) || snap.HeapMB != float64(s.mb)/2 || snap.MemoryLimitMB != 100 || snap.MemoryLimitSource != "threshold" {
			t.Fatalf("step %d: snapshot %+v", i, snap)
		}
	}
	if got := m.Snapshot(); got.Samples != uint64(len(steps)) || got.ShrinkerCalls != 6 {
		t.Fatalf("final snapshot %+v; want %d samples and 6 shrinker calls", got, len(steps))
	}
}

func TestResourceManagerEffectiveLimit(t *testing.T) {
	tests := []struct {
		name               string
		cgroup, gomemlimit uint64
		wantMB             float64
		wantSource         string
	}{
		{"threshold only", 0, 0, 100, "threshold"},
		{"cgroup tighter", 50 * resourceMB, 0, 50, "cgroup"},
		{"cgroup looser", 800 * resourceMB, 0, 100, "threshold"},
		{"gomemlimit tightest", 50 * resourceMB, 40 * resourceMB, 40, "gomemlimit"},
		{"gomemlimit looser", 50 * resourceMB, 60 * resourceMB, 50, "cgroup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fake := newTestResourceManager(t, nil)
			fake.set(func(r *ResourceSample) {
				r.TotalBytes, r.CgroupLimit, r.GoMemLimit = 45*resourceMB, tt.cgroup, tt.gomemlimit
			})
			snap := m.Sample()
			if snap.MemoryLimitMB != tt.wantMB || snap.MemoryLimitSource != tt.wantSource {
				t.Fatalf("limit %v MB from %q; want %v MB from %q", snap.MemoryLimitMB, snap.MemoryLimitSource, tt.wantMB, tt.wantSource)
			}
			want := resourceNextLevel(PressureNone, 45/tt.wantMB)
			if snap.MemoryPressureLevel != want {
				t.Fatalf("level %v; want %v", snap.MemoryPressureLevel, want)
			}
		})
	}
}

func TestResourceManagerCPU(t *testing.T) {
	clock := NewFakeClock(0)
	limit := &resourceFakeLimit{limit: 16}
	m, fake := newTestResourceManager(t, func(o *ResourceOptions) {
		o.Clock, o.Limit, o.CPUThresholdPercent = clock, limit, 80
	})
	procs := float64(goruntime.GOMAXPROCS(0))
	cpu := time.Duration(0)
	step := func(percent float64) ResourceSnapshot {
		clock.Advance(time.Second)
		cpu += time.Duration(percent / 100 * procs * float64(time.Second))
		fake.set(func(r *ResourceSample) { r.CPUTime = cpu })
		return m.Sample()
	}
	if s := m.Sample(); s.CPUPercent != 0 || s.CPUOverloaded {
		t.Fatalf("first sample without a baseline: %+v", s)
	}
	steps := []struct {
		percent float64
		over    bool
		limit   int
	}{
		{50, false, 16},
		{90, true, 12},
		{77, true, 12}, // within the hysteresis band
		{74, false, 16},
		{80, true, 12},
	}
	for i, st := range steps {
		s := step(st.percent)
		if diff := s.CPUPercent - st.percent; diff > 0.01 || diff < -0.01 {
			t.Fatalf("step %d: cpu %.3f%%; want %.1f%%", i, s.CPUPercent, st.percent)
		}
		if s.CPUOverloaded != st.over || limit.Limit() != st.limit {
			t.Fatalf("step %d: overloaded %v, limit %d; want %v, %d", i, s.CPUOverloaded, limit.Limit(), st.over, st.limit)
		}
		if s.MemoryPressureLevel != PressureNone {
			t.Fatalf("step %d: CPU load raised memory pressure to %v", i, s.MemoryPressureLevel)
		}
	}
}

// TestResourceManagerRaisesLimitWhenPressureEases checks that the limit the
// manager lowered under critical memory pressure rises to the overloaded
// CPU's level once memory is relieved, instead of staying at the critical
// level until every pressure is gone.
func TestResourceManagerRaisesLimitWhenPressureEases(t *testing.T) {
	clock := NewFakeClock(0)
	limit := &resourceFakeLimit{limit: 16}
	m, fake := newTestResourceManager(t, func(o *ResourceOptions) {
		o.Clock, o.Limit, o.CPUThresholdPercent = clock, limit, 80
	})
	procs := float64(goruntime.GOMAXPROCS(0))
	cpu := time.Duration(0)
	step := func(mb uint64, percent float64) ResourceSnapshot {
		clock.Advance(time.Second)
		cpu += time.Duration(percent / 100 * procs * float64(time.Second))
		fake.set(func(r *ResourceSample) {
			r.CPUTime = cpu
			r.TotalBytes, r.HeapBytes = mb*resourceMB, mb*resourceMB/2
		})
		return m.Sample()
	}
	m.Sample() // the CPU baseline
	steps := []struct {
		mb      uint64
		percent float64
		limit   int
	}{
		{100, 90, 4}, // critical memory, CPU overloaded: a quarter
		{50, 90, 12}, // memory relieved, CPU still overloaded: three quarters
		{50, 90, 12}, // held there
		{50, 10, 16}, // CPU relieved too: restored
		{100, 10, 4}, // critical again
		{50, 10, 16}, // relieved at once: restored
	}
	for i, st := range steps {
		s := step(st.mb, st.percent)
		if limit.Limit() != st.limit || s.ConcurrencyLimit != st.limit {
			t.Fatalf("step %d (%d MB, %.0f%% CPU): limit %d / snapshot %d; want %d", i, st.mb, st.percent, limit.Limit(), s.ConcurrencyLimit, st.limit)
		}
	}
	// A limit lowered further by someone else is left to them.
	step(100, 90)
	limit.SetLimit(2)
	if step(50, 90); limit.Limit() != 2 {
		t.Fatalf("the manager raised a limit it did not set: %d", limit.Limit())
	}
}

func TestResourceManagerHoldsAdaptiveLimiterDown(t *testing.T) {
	clock := NewFakeClock(time.Hour)
	lim, err := NewLimiter(LimiterOptions{Max: 64, Min: 2, Initial: 32, Adaptive: true, MinWindowSamples: 1, Window: time.Millisecond, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	m, fake := newTestResourceManager(t, func(o *ResourceOptions) { o.Limit = lim })
	fake.set(func(r *ResourceSample) { r.TotalBytes = 95 * resourceMB })
	m.Sample()
	if lim.Limit() != 16 {
		t.Fatalf("high pressure: limit %d; want 16", lim.Limit())
	}
	// The adaptive limiter grows while utilised...
	for lim.TryAcquire() {
	}
	for range 2 { // a baseline window, then a growing one
		clock.Advance(time.Millisecond)
		lim.Observe(1000, false)
	}
	if lim.Limit() <= 16 {
		t.Fatalf("adaptive limiter did not grow: %d", lim.Limit())
	}
	// ...and the next sample puts it back under the pressure target.
	m.Sample()
	if lim.Limit() != 16 {
		t.Fatalf("next sample under pressure: limit %d; want 16", lim.Limit())
	}
	fake.set(func(r *ResourceSample) { r.TotalBytes = 10 * resourceMB })
	m.Sample()
	if lim.Limit() != 32 {
		t.Fatalf("after relief: limit %d; want the pre-pressure 32", lim.Limit())
	}
}

func TestResourceManagerSamplerAndShrinkerFailures(t *testing.T) {
	var logs bytes.Buffer
	m, fake := newTestResourceManager(t, func(o *ResourceOptions) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if err := m.RegisterShrinker("bad", func(PressureLevel) { panic("shrinker bug") }); err != nil {
		t.Fatal(err)
	}
	good := 0
	if err := m.RegisterShrinker("good", func(PressureLevel) { good++ }); err != nil {
		t.Fatal(err)
	}
	fake.set(func(r *ResourceSample) { r.TotalBytes = 85 * resourceMB })
	s := m.Sample()
	if s.MemoryPressureLevel != PressureModerate || s.ShrinkerPanics != 1 || s.ShrinkerCalls != 2 || good != 1 {
		t.Fatalf("after a panicking shrinker: %+v, good shrinker ran %d times", s, good)
	}
	fake.mu.Lock()
	fake.err = errors.New("sensor offline")
	fake.sample.TotalBytes = 5 * resourceMB
	fake.mu.Unlock()
	s = m.Sample()
	if s.SampleErrors != 1 || s.Samples != 2 || s.MemoryPressureLevel != PressureModerate || m.Pressure() != PressureModerate {
		t.Fatalf("after a sampler error: %+v (pressure %v); want the level kept", s, m.Pressure())
	}
	for _, want := range []string{"shrinker panicked", "shrinker bug", "sensor offline", "memory pressure changed"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestResourceManagerRegisterShrinkerErrors(t *testing.T) {
	m, _ := newTestResourceManager(t, nil)
	noop := func(PressureLevel) {}
	if err := m.RegisterShrinker("", noop); err == nil {
		t.Error("empty name accepted")
	}
	if err := m.RegisterShrinker("x", nil); err == nil {
		t.Error("nil fn accepted")
	}
	if err := m.RegisterShrinker("x", noop); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterShrinker("x", noop); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Errorf("duplicate name: %v", err)
	}
}

func TestResourceManagerLifecycle(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	m, fake := newTestResourceManager(t, func(o *ResourceOptions) { o.Interval = time.Millisecond })
	fake.called = make(chan struct{}, 1)
	fake.set(func(r *ResourceSample) { r.TotalBytes = 95 * resourceMB })
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err == nil {
		t.Fatal("second Start succeeded")
	}
	for range 3 {
		<-fake.called
	}
	if m.Pressure() != PressureHigh {
		t.Fatalf("background sampling left pressure at %v; want high", m.Pressure())
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := m.Start(); err == nil {
		t.Fatal("Start after Close succeeded")
	}
	fake.mu.Lock()
	calls := fake.calls
	fake.mu.Unlock()
	if calls < 3 {
		t.Fatalf("%d background samples; want at least 3", calls)
	}

	unstarted, _ := newTestResourceManager(t, nil)
	if err := unstarted.Close(context.Background()); err != nil {
		t.Fatalf("Close without Start: %v", err)
	}
}

func TestResourceManagerPressureDoesNotAllocate(t *testing.T) {
	m, _ := newTestResourceManager(t, nil)
	var sink PressureLevel
	if allocs := testing.AllocsPerRun(1000, func() { sink = m.Pressure() }); allocs != 0 {
		t.Fatalf("Pressure allocates %v times", allocs)
	}
	_ = sink
}

func TestResourceSnapshotJSON(t *testing.T) {
	m, fake := newTestResourceManager(t, nil)
	fake.set(func(r *ResourceSample) { r.TotalBytes = 92 * resourceMB })
	b, err := json.Marshal(m.Sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"memory_usage_mb":92`, `"memory_pressure_level":"high"`, `"cpu_percent":0`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}

func TestSystemResourceSampler(t *testing.T) {
	s := NewSystemResourceSampler()
	var first ResourceSample
	if err := s.SampleResources(&first); err != nil {
		t.Fatal(err)
	}
	if first.TotalBytes == 0 || first.HeapBytes == 0 || first.HeapBytes > first.TotalBytes {
		t.Fatalf("implausible memory figures: %+v", first)
	}
	// Burn some CPU; the cumulative figure must not go backwards.
	x := 0
	for i := range 20_000_000 {
		x ^= i * i
	}
	_ = x
	var second ResourceSample
	if err := s.SampleResources(&second); err != nil {
		t.Fatal(err)
	}
	if second.CPUTime < first.CPUTime || second.CPUTime == 0 {
		t.Fatalf("CPU time went %v -> %v", first.CPUTime, second.CPUTime)
	}

	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	debug.SetMemoryLimit(3 << 30)
	if err := s.SampleResources(&second); err != nil {
		t.Fatal(err)
	}
	if second.GoMemLimit != 3<<30 {
		t.Fatalf("GoMemLimit %d; want %d", second.GoMemLimit, uint64(3<<30))
	}
	debug.SetMemoryLimit(1<<63 - 1)
	if err := s.SampleResources(&second); err != nil {
		t.Fatal(err)
	}
	if second.GoMemLimit != 0 {
		t.Fatalf("no GOMEMLIMIT read as %d; want 0", second.GoMemLimit)
	}
}

func TestResourceManagerDefaultSampler(t *testing.T) {
	opts := resourceTestOptions()
	m, err := NewResourceManager(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Sample()
	if s.MemoryUsageMB <= 0 || s.SampleErrors != 0 {
		t.Fatalf("default sampler snapshot %+v", s)
	}
}

func BenchmarkResourcePressure(b *testing.B) {
	m, err := NewResourceManager(resourceTestOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if m.Pressure() > PressureCritical {
				b.Fatal("invalid level")
			}
		}
	})
}

// BenchmarkResourceSampleSystem is the cost of one background sample with
// the real sampler (runtime/metrics and getrusage).
func BenchmarkResourceSampleSystem(b *testing.B) {
	m, err := NewResourceManager(resourceTestOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Sample()
	}
}

// TestResourceSetThresholds: new thresholds decide the next sample; invalid
// ones change nothing.
func TestResourceSetThresholds(t *testing.T) {
	m, err := NewResourceManager(ResourceOptions{MemoryThresholdMB: 1000, CPUThresholdPercent: 80, Interval: time.Second,
		Sampler: &resourceFakeSampler{sample: ResourceSample{TotalBytes: 600 * resourceBytesPerMB}}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	if lv := m.Sample().MemoryPressureLevel; lv != PressureNone {
		t.Fatalf("level %v at 60%%, want none", lv)
	}
	if err := m.SetThresholds(0, 80); err == nil {
		t.Fatal("a zero memory threshold was accepted")
	}
	if err := m.SetThresholds(600, 80); err != nil {
		t.Fatal(err)
	}
	if lv := m.Sample().MemoryPressureLevel; lv == PressureNone {
		t.Errorf("level %v at 100%% of the new threshold, want pressure", lv)
	}
}

// resourceTestOptions returns the default memory_pressure_threshold_mb (500)
// and cpu_usage_threshold_percent (80) with a one-second sampling interval.
func resourceTestOptions() ResourceOptions {
	return ResourceOptions{MemoryThresholdMB: 500, CPUThresholdPercent: 80, Interval: time.Second}
}
