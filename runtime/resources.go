package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	goruntime "runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// PressureLevel grades memory pressure.
type PressureLevel uint32

const (
	// PressureNone: usage below 80% of the effective memory limit.
	PressureNone PressureLevel = iota
	// PressureModerate: usage at 80% or more.
	PressureModerate
	// PressureHigh: usage at 90% or more.
	PressureHigh
	// PressureCritical: usage at or above the limit.
	PressureCritical
)

// resourceLevelEntry is the fraction of the effective limit at which each
// level is entered. A level is left only once usage falls
// resourceHysteresis below its entry point, so a reading that hovers at a
// boundary does not flap between levels (and shrink caches each time).
var resourceLevelEntry = [...]float64{PressureModerate: 0.80, PressureHigh: 0.90, PressureCritical: 1.00}

const (
	resourceHysteresis    = 0.05
	resourceCPUHysteresis = 5.0 // percentage points
	resourceBytesPerMB    = 1 << 20
)

// String returns "none", "moderate", "high" or "critical".
func (p PressureLevel) String() string {
	switch p {
	case PressureNone:
		return "none"
	case PressureModerate:
		return "moderate"
	case PressureHigh:
		return "high"
	case PressureCritical:
		return "critical"
	}
	return fmt.Sprintf("PressureLevel(%d)", uint32(p))
}

// MarshalText encodes the level by name.
func (p PressureLevel) MarshalText() ([]byte, error) {
	if p > PressureCritical {
		return nil, fmt.Errorf("runtime: invalid PressureLevel %d", uint32(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText decodes a level name.
func (p *PressureLevel) UnmarshalText(b []byte) error {
	for l := PressureNone; l <= PressureCritical; l++ {
		if string(b) == l.String() {
			*p = l
			return nil
		}
	}
	return fmt.Errorf("runtime: unknown pressure level %q; want none, moderate, high or critical", b)
}

// resourceNextLevel applies the entry thresholds and the hysteresis to a
// usage ratio (usage / effective limit).
func resourceNextLevel(cur PressureLevel, ratio float64) PressureLevel {
	up := PressureNone
	for l := PressureCritical; l > PressureNone; l-- {
		if ratio >= resourceLevelEntry[l] {
			up = l
			break
		}
	}
	if up >= cur {
		return up
	}
	for cur > up && ratio < resourceLevelEntry[cur]-resourceHysteresis {
		cur--
	}
	return cur
}

// ResourceSample is one reading of the process's resources.
type ResourceSample struct {
	// HeapBytes is the memory held by heap objects, live or not yet swept.
	HeapBytes uint64
	// TotalBytes is the memory the Go runtime has mapped from the OS,
	// minus what it has returned; this is what the limits are compared to.
	TotalBytes uint64
	// GoMemLimit is the runtime's soft memory limit (GOMEMLIMIT or
	// debug.SetMemoryLimit); 0 when none is set.
	GoMemLimit uint64
	// CgroupLimit is the cgroup memory limit; 0 when there is none.
	CgroupLimit uint64
	// CPUTime is the process's cumulative user plus system CPU time.
	CPUTime time.Duration
}

// ResourceSampler reads the process's resources. A ResourceManager calls it
// from one goroutine at a time; tests substitute their own.
type ResourceSampler interface {
	SampleResources(s *ResourceSample) error
}

// SystemResourceSampler reads memory from runtime/metrics, which does not
// stop the world as runtime.ReadMemStats does, and CPU time from getrusage
// on Linux (elsewhere from the runtime's own CPU estimates).
type SystemResourceSampler struct {
	samples     []metrics.Sample
	cgroupLimit uint64
}

const (
	resourceMetricTotal    = "/memory/classes/total:bytes"
	resourceMetricReleased = "/memory/classes/heap/released:bytes"
	resourceMetricObjects  = "/memory/classes/heap/objects:bytes"
	resourceMetricLimit    = "/gc/gomemlimit:bytes"
	resourceMetricUserCPU  = "/cpu/classes/user:cpu-seconds"
	resourceMetricGCCPU    = "/cpu/classes/gc/total:cpu-seconds"
	resourceMetricScavCPU  = "/cpu/classes/scavenge/total:cpu-seconds"
)

// NewSystemResourceSampler returns a sampler for the current process. The
// cgroup limit is read once, here: limits rarely change under a running
// process, and the files are not free to read.
func NewSystemResourceSampler() *SystemResourceSampler {
	names := []string{
		resourceMetricTotal, resourceMetricReleased, resourceMetricObjects, resourceMetricLimit,
		resourceMetricUserCPU, resourceMetricGCCPU, resourceMetricScavCPU,
	}
	s := &SystemResourceSampler{samples: make([]metrics.Sample, len(names)), cgroupLimit: resourceCgroupMemoryLimit()}
	for i, n := range names {
		s.samples[i].Name = n
	}
	return s
}

// SampleResources reads the current figures into out.
func (s *SystemResourceSampler) SampleResources(out *ResourceSample) error {
	metrics.Read(s.samples)
	u := func(i int) uint64 {
		if s.samples[i].Value.Kind() == metrics.KindUint64 {
			return s.samples[i].Value.Uint64()
		}
		return 0
	}
	f := func(i int) float64 {
		if s.samples[i].Value.Kind() == metrics.KindFloat64 {
			return s.samples[i].Value.Float64()
		}
		return 0
	}
	total, released := u(0), u(1)
	*out = ResourceSample{
		HeapBytes:   u(2),
		TotalBytes:  total - min(released, total),
		CgroupLimit: s.cgroupLimit,
	}
	if l := u(3); l < math.MaxInt64 {
		out.GoMemLimit = l
	}
	estimate := time.Duration((f(4) + f(5) + f(6)) * float64(time.Second))
	out.CPUTime = resourceProcessCPU(estimate)
	return nil
}

// AdjustableLimit is a concurrency limit the ResourceManager lowers under
// pressure. *Limiter implements it.
type AdjustableLimit interface {
	SetLimit(n int)
	Limit() int
}

// ResourceOptions configures a ResourceManager.
type ResourceOptions struct {
	// MemoryThresholdMB is memory_pressure_threshold_mb: usage at this
	// figure is critical pressure. It must be positive.
	MemoryThresholdMB float64
	// CPUThresholdPercent is cpu_usage_threshold_percent, within (0, 100]:
	// process CPU use at or above which the process counts as
	// CPU-overloaded. Use is measured against GOMAXPROCS processors, not
	// NumCPU, because that is what the process can run on: the runtime
	// lowers GOMAXPROCS to a container's CPU quota.
	CPUThresholdPercent float64
	// Interval is the time between background samples; it must be positive.
	Interval time.Duration
	// Sampler supplies the readings; nil means NewSystemResourceSampler().
	Sampler ResourceSampler
	// Limit, when set, is lowered under pressure and restored on relief.
	Limit AdjustableLimit
	// Clock times the CPU measurements; nil means SystemClock.
	Clock Clock
	// Logger receives level changes and failures; nil discards them.
	Logger *slog.Logger
}

// ResourceSnapshot is the ResourceManager's latest reading.
type ResourceSnapshot struct {
	// MemoryUsageMB is the memory_usage_mb metric: ResourceSample.TotalBytes in MiB.
	MemoryUsageMB float64 `json:"memory_usage_mb"`
	// HeapMB is the heap object memory in MiB.
	HeapMB float64 `json:"heap_mb"`
	// MemoryLimitMB is the effective limit the usage is graded against.
	MemoryLimitMB float64 `json:"memory_limit_mb"`
	// MemoryLimitSource names the limit that won: "threshold", "cgroup" or "gomemlimit".
	MemoryLimitSource string `json:"memory_limit_source"`
	// MemoryPressureLevel is the memory_pressure_level metric.
	MemoryPressureLevel PressureLevel `json:"memory_pressure_level"`
	// CPUPercent is process CPU use over the last interval, as a share of
	// GOMAXPROCS processors.
	CPUPercent float64 `json:"cpu_percent"`
	// CPUOverloaded reports CPUPercent at or over the threshold (with
	// hysteresis).
	CPUOverloaded bool `json:"cpu_overloaded"`
	// ConcurrencyLimit is the managed limit after this sample; 0 without one.
	ConcurrencyLimit int `json:"concurrency_limit"`
	// Samples and SampleErrors count sampler calls and failures.
	Samples      uint64 `json:"samples"`
	SampleErrors uint64 `json:"sample_errors"`
	// ShrinkerCalls and ShrinkerPanics count shrinker invocations and the
	// panics recovered from them.
	ShrinkerCalls  uint64 `json:"shrinker_calls"`
	ShrinkerPanics uint64 `json:"shrinker_panics"`
}

// resourceShrinker is a registered reaction to memory pressure.
type resourceShrinker struct {
	name string
	fn   func(PressureLevel)
}

// ResourceManager watches the process's memory and CPU and reacts to
// pressure: it calls the registered shrinkers (caches, pools) and lowers
// the concurrency limit, and restores the limit once pressure is gone.
//
// Memory usage is graded against the effective limit, the smallest of
// memory_pressure_threshold_mb, the cgroup memory limit and GOMEMLIMIT
// among those set: crossing any of them hurts (a GC that runs constantly,
// the OOM killer, or the operator's own budget), so the tightest governs.
// Levels are entered at 80%, 90% and 100% of it and left 5 points below.
//
// Shrinkers are called, with the new level, whenever the memory level
// changes, and again on every sample while it is critical. The concurrency
// limit is scaled from its value when pressure began: ×3/4 at moderate
// (or when CPU is overloaded), ×1/2 at high, ×1/4 at critical; it is put
// back when memory and CPU are both clear.
//
// The level is published through an atomic, so Pressure is one load.
type ResourceManager struct {
	level atomic.Uint32

	threshold    uint64 // bytes
	cpuThreshold float64
	interval     time.Duration
	sampler      ResourceSampler
	limit        AdjustableLimit
	clock        Clock
	logger       *slog.Logger

	regMu     sync.Mutex
	shrinkers []resourceShrinker

	// sampleMu serialises samples and owns the fields below it.
	sampleMu  sync.Mutex
	haveCPU   bool
	lastCPU   time.Duration
	lastWall  int64
	cpuOver   bool
	reduced   bool
	baseLimit int
	lastSet   int // the limit this manager last set while reduced
	sample    ResourceSample

	snapMu sync.Mutex
	snap   ResourceSnapshot

	lifeMu  sync.Mutex
	started bool
	closed  bool
	stop    chan struct{}
	exited  chan struct{}
}

// NewResourceManager validates opts and returns a stopped manager; Start
// begins background sampling, and Sample takes a reading on demand.
func NewResourceManager(opts ResourceOptions) (*ResourceManager, error) {
	if err := checkResourceThresholds(opts.MemoryThresholdMB, opts.CPUThresholdPercent); err != nil {
		return nil, err
	}
	if opts.Interval <= 0 {
		return nil, fmt.Errorf("runtime: ResourceOptions.Interval is %v; want a positive duration", opts.Interval)
	}
	m := &ResourceManager{
		threshold:    uint64(opts.MemoryThresholdMB * resourceBytesPerMB),
		cpuThreshold: opts.CPUThresholdPercent,
		interval:     opts.Interval,
		sampler:      opts.Sampler,
		limit:        opts.Limit,
		clock:        opts.Clock,
		logger:       opts.Logger,
	}
	if m.sampler == nil {
		m.sampler = NewSystemResourceSampler()
	}
	if m.clock == nil {
		m.clock = SystemClock{}
	}
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	return m, nil
}

// Pressure returns the current memory pressure level.
func (m *ResourceManager) Pressure() PressureLevel { return PressureLevel(m.level.Load()) }

// RegisterShrinker adds fn, called with the new level when memory pressure
// changes and on every sample while it is critical. fn must not call the
// manager's Sample; a panic in fn is recovered, counted and logged.
func (m *ResourceManager) RegisterShrinker(name string, fn func(level PressureLevel)) error {
	if name == "" {
		return errors.New("runtime: RegisterShrinker name is empty")
	}
	if fn == nil {
		return fmt.Errorf("runtime: RegisterShrinker %q: fn is nil", name)
	}
	m.regMu.Lock()
	defer m.regMu.Unlock()
	for _, s := range m.shrinkers {
		if s.name == name {
			return fmt.Errorf("runtime: RegisterShrinker %q: name already registered", name)
		}
	}
	m.shrinkers = append(m.shrinkers, resourceShrinker{name: name, fn: fn})
	return nil
}

// Start begins sampling every Interval on a background goroutine, which
// Close stops.
func (m *ResourceManager) Start() error {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	if m.closed {
		return errors.New("runtime: ResourceManager.Start after Close")
	}
	if m.started {
		return errors.New("runtime: ResourceManager already started")
	}
	m.started = true
	m.stop = make(chan struct{})
	m.exited = make(chan struct{})
	go m.loop(m.stop, m.exited)
	return nil
}

func (m *ResourceManager) loop(stop <-chan struct{}, exited chan<- struct{}) {
	defer close(exited)
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			m.Sample()
		}
	}
}

// Close stops background sampling and waits for the goroutine to exit, or
// for ctx to end. Later calls return nil at once.
func (m *ResourceManager) Close(ctx context.Context) error {
	m.lifeMu.Lock()
	if m.closed {
		m.lifeMu.Unlock()
		return nil
	}
	m.closed = true
	started, exited := m.started, m.exited
	if started {
		close(m.stop)
	}
	m.lifeMu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("runtime: ResourceManager.Close: %w", ctx.Err())
	}
}

// Snapshot returns the latest reading without taking a new one.
func (m *ResourceManager) Snapshot() ResourceSnapshot {
	m.snapMu.Lock()
	defer m.snapMu.Unlock()
	return m.snap
}

func checkResourceThresholds(memoryMB, cpuPercent float64) error {
	if !(memoryMB > 0) || math.IsInf(memoryMB, 0) {
		return fmt.Errorf("runtime: ResourceOptions.MemoryThresholdMB (memory_pressure_threshold_mb) is %v; want a positive number", memoryMB)
	}
	if !(cpuPercent > 0 && cpuPercent <= 100) {
		return fmt.Errorf("runtime: ResourceOptions.CPUThresholdPercent (cpu_usage_threshold_percent) is %v; want a value in (0, 100]", cpuPercent)
	}
	return nil
}

// SetThresholds changes the memory and CPU thresholds in place, from the
// next sample on (memory_pressure_threshold_mb and
// cpu_usage_threshold_percent imported into a generated executor; the
// ExecutorCore builds a new manager). It checks them as NewResourceManager
// does and changes nothing when either is invalid.
func (m *ResourceManager) SetThresholds(memoryMB, cpuPercent float64) error {
	if err := checkResourceThresholds(memoryMB, cpuPercent); err != nil {
		return err
	}
	m.sampleMu.Lock()
	defer m.sampleMu.Unlock()
	m.threshold, m.cpuThreshold = uint64(memoryMB*resourceBytesPerMB), cpuPercent
	return nil
}

// Sample takes a reading now, reacts to it and returns the new snapshot. If
// the sampler fails, the levels stay as they were and the failure is
// counted in SampleErrors.
func (m *ResourceManager) Sample() ResourceSnapshot {
	m.sampleMu.Lock()
	defer m.sampleMu.Unlock()

	prev := m.Snapshot()
	next := prev
	next.Samples++
	if err := m.sampler.SampleResources(&m.sample); err != nil {
		next.SampleErrors++
		m.logger.Warn("resource sampling failed", "err", err)
		m.publish(next)
		return next
	}
	s := &m.sample

	limit, source := m.threshold, "threshold"
	if s.CgroupLimit > 0 && s.CgroupLimit < limit {
		limit, source = s.CgroupLimit, "cgroup"
	}
	if s.GoMemLimit > 0 && s.GoMemLimit < limit {
		limit, source = s.GoMemLimit, "gomemlimit"
	}
	ratio := float64(s.TotalBytes) / float64(limit)
	oldLevel := m.Pressure()
	level := resourceNextLevel(oldLevel, ratio)

	now := m.clock.Nanotime()
	cpuPct := prev.CPUPercent
	if m.haveCPU && now > m.lastWall {
		wall := float64(now - m.lastWall)
		cpuPct = 100 * float64(s.CPUTime-m.lastCPU) / (wall * float64(goruntime.GOMAXPROCS(0)))
		cpuPct = max(cpuPct, 0)
	}
	m.haveCPU, m.lastCPU, m.lastWall = true, s.CPUTime, now
	switch {
	case cpuPct >= m.cpuThreshold:
		m.cpuOver = true
	case cpuPct < m.cpuThreshold-resourceCPUHysteresis:
		m.cpuOver = false
	}

	m.level.Store(uint32(level))
	if level != oldLevel {
		m.logger.Log(context.Background(), resourceLogLevel(level), "memory pressure changed",
			"from", oldLevel.String(), "to", level.String(),
			"usage_mb", float64(s.TotalBytes)/resourceBytesPerMB, "limit_mb", float64(limit)/resourceBytesPerMB, "limit_source", source)
	}
	if level != oldLevel || level == PressureCritical {
		calls, panics := m.runShrinkers(level)
		next.ShrinkerCalls += calls
		next.ShrinkerPanics += panics
	}
	next.ConcurrencyLimit = m.adjustLimit(level)

	next.MemoryUsageMB = float64(s.TotalBytes) / resourceBytesPerMB
	next.HeapMB = float64(s.HeapBytes) / resourceBytesPerMB
	next.MemoryLimitMB = float64(limit) / resourceBytesPerMB
	next.MemoryLimitSource = source
	next.MemoryPressureLevel = level
	next.CPUPercent = cpuPct
	next.CPUOverloaded = m.cpuOver
	m.publish(next)
	return next
}

func (m *ResourceManager) publish(s ResourceSnapshot) {
	m.snapMu.Lock()
	m.snap = s
	m.snapMu.Unlock()
}

func resourceLogLevel(l PressureLevel) slog.Level {
	if l >= PressureHigh {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// runShrinkers calls every shrinker with level, outside regMu so a shrinker
// may register another.
func (m *ResourceManager) runShrinkers(level PressureLevel) (calls, panics uint64) {
	m.regMu.Lock()
	list := m.shrinkers[:len(m.shrinkers):len(m.shrinkers)]
	m.regMu.Unlock()
	for _, s := range list {
		calls++
		if m.callShrinker(s, level) {
			panics++
		}
	}
	return calls, panics
}

func (m *ResourceManager) callShrinker(s resourceShrinker, level PressureLevel) (panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			m.logger.Error("shrinker panicked", "shrinker", s.name, "level", level.String(), "panic", fmt.Sprint(r))
		}
	}()
	s.fn(level)
	return false
}

// resourceLimitFactor scales the concurrency limit at each level, as
// numerator over 4.
var resourceLimitFactor = [...]int{PressureNone: 4, PressureModerate: 3, PressureHigh: 2, PressureCritical: 1}

// adjustLimit lowers or restores the managed concurrency limit and returns
// it (0 without one).
func (m *ResourceManager) adjustLimit(level PressureLevel) int {
	if m.limit == nil {
		return 0
	}
	if m.cpuOver && level < PressureModerate {
		level = PressureModerate
	}
	cur := m.limit.Limit()
	if level == PressureNone {
		if m.reduced {
			m.reduced, m.lastSet = false, 0
			m.limit.SetLimit(m.baseLimit)
			m.logger.Info("concurrency limit restored", "limit", m.baseLimit)
			return m.limit.Limit()
		}
		return cur
	}
	if !m.reduced {
		m.reduced, m.baseLimit = true, cur
	}
	target := max(1, m.baseLimit*resourceLimitFactor[level]/4)
	switch {
	case cur > target:
		// Re-applied on every sample, so an adaptive limiter growing back
		// under pressure is held down.
		m.limit.SetLimit(target)
		m.lastSet = target
		m.logger.Info("concurrency limit lowered", "from", cur, "to", target, "pressure", level.String(), "cpu_overloaded", m.cpuOver)
		return m.limit.Limit()
	case cur < target && cur == m.lastSet:
		// Pressure eased but not gone: the limit this manager lowered rises
		// to the new level's. A limit someone else lowered further (the
		// adaptive limiter) is theirs to raise.
		m.limit.SetLimit(target)
		m.lastSet = target
		m.logger.Info("concurrency limit raised", "from", cur, "to", target, "pressure", level.String(), "cpu_overloaded", m.cpuOver)
		return m.limit.Limit()
	}
	return cur
}
