package runtime

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Stats is one snapshot of an executor's optimization state: in total and per
// step, with the configuration in force when it was taken. The executor fills
// it from the live counters of its components (monitor, cache, pools,
// breakers, error classifier, limiter, telemetry, resource manager). The
// structs hold counters and gauges only; every rate is a method computed from
// them, never a stored figure, and the JSON encoding adds the rates under the
// guide's names (memory.usage_mb, cache.hit_rate, execution.avg_time_ms, ...).
// Rates are fractions from 0 to 1, and 0 when their denominator is 0.
//
// Stats is plain data: building one is off the hot path, and two snapshots
// give the activity between them through Sub.
type Stats struct {
	Memory      StatsMemory      `json:"memory"`
	CPU         StatsCPU         `json:"cpu"`
	Execution   StatsExecution   `json:"execution"`
	Cache       StatsCache       `json:"cache"`
	Concurrency StatsConcurrency `json:"concurrency"`
	Errors      StatsErrors      `json:"errors"`
	Telemetry   StatsTelemetry   `json:"telemetry"`
	// Steps holds the per-step figures keyed by step name. JSON encodes map
	// keys sorted, and StepNames returns them sorted, so output and iteration
	// are deterministic.
	Steps map[string]StatsStep `json:"steps"`
	// Distributed holds the figures of the services shared with other
	// replicas (flujo.WithShared); zero without them.
	Distributed StatsShared `json:"distributed"`
	// Config is the configuration in force, run-time changes included.
	Config OptimizationConfig `json:"config"`
}

// StatsStep holds the figures of one step.
type StatsStep struct {
	Execution      StatsExecution `json:"execution"`
	Cache          StatsCache     `json:"cache"`
	Errors         StatsErrors    `json:"errors"`
	CircuitBreaker StatsBreaker   `json:"circuit_breaker"`
}

// StatsMemory holds the resource manager's memory figures and the object
// pools' counters (summed over every pooled type).
type StatsMemory struct {
	UsageMB       float64            `json:"usage_mb"`
	PressureLevel StatsPressureLevel `json:"pressure_level"`
	ObjectPool    StatsPool          `json:"object_pool"`
}

// MarshalJSON adds object_pool_utilization, computed from the pool counters.
func (m StatsMemory) MarshalJSON() ([]byte, error) {
	type plain StatsMemory
	return json.Marshal(struct {
		plain
		ObjectPoolUtilization float64 `json:"object_pool_utilization"`
	}{plain(m), m.ObjectPool.Utilization()})
}

// StatsCPU holds the resource manager's CPU figure.
type StatsCPU struct {
	// UsagePercent is the process's CPU use over the last sample, in percent
	// of the available cores (0 to 100).
	UsagePercent float64 `json:"usage_percent"`
}

// StatsPool holds object pool counters.
type StatsPool struct {
	Gets     uint64 `json:"gets"`     // objects requested
	Hits     uint64 `json:"hits"`     // requests served by an idle object
	Misses   uint64 `json:"misses"`   // requests that allocated
	Puts     uint64 `json:"puts"`     // objects returned and kept
	Drops    uint64 `json:"drops"`    // objects returned and discarded (pool full or trimmed)
	Idle     int    `json:"idle"`     // objects idle in the pool now
	Capacity int    `json:"capacity"` // most idle objects the pool keeps
}

// HitRate is the share of requests served by an idle object.
func (p StatsPool) HitRate() float64 { return statsRatio(p.Hits, p.Hits+p.Misses) }

// MissRate is the share of requests that had to allocate.
func (p StatsPool) MissRate() float64 { return statsRatio(p.Misses, p.Hits+p.Misses) }

// DropRate is the share of returned objects the pool discarded.
func (p StatsPool) DropRate() float64 { return statsRatio(p.Drops, p.Puts+p.Drops) }

// Utilization is the share of the pool's capacity held by idle objects (the
// guide's object_pool_utilization: "percentage of pool capacity used").
func (p StatsPool) Utilization() float64 { return statsIntRatio(p.Idle, p.Capacity) }

// MarshalJSON adds hit_rate, miss_rate, drop_rate and utilization.
func (p StatsPool) MarshalJSON() ([]byte, error) {
	type plain StatsPool
	return json.Marshal(struct {
		plain
		HitRate     float64 `json:"hit_rate"`
		MissRate    float64 `json:"miss_rate"`
		DropRate    float64 `json:"drop_rate"`
		Utilization float64 `json:"utilization"`
	}{plain(p), p.HitRate(), p.MissRate(), p.DropRate(), p.Utilization()})
}

// StatsExecution holds the performance monitor's latency figures. Count,
// TotalMs and Slow are counters; the percentiles and Max are read from the
// latency histogram and cover its whole life, so Sub keeps them as they are.
type StatsExecution struct {
	Count      uint64  `json:"count"`
	TotalMs    float64 `json:"total_ms"` // sum of all latencies
	P50Ms      float64 `json:"p50_ms"`
	P95Ms      float64 `json:"p95_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	Slow       uint64  `json:"slow"`       // executions slower than slow_execution_threshold_ms
	Regression bool    `json:"regression"` // the recent window is slower than the baseline by more than performance_degradation_threshold
	// Failures counts the runs that failed, in Stats.Execution; a step's
	// failed executions are in its StatsStep.Errors, and this is 0 there.
	Failures uint64 `json:"failures"`
}

// AvgTimeMs is the mean latency in milliseconds (the guide's execution_time_ms).
func (e StatsExecution) AvgTimeMs() float64 {
	if e.Count == 0 {
		return 0
	}
	return e.TotalMs / float64(e.Count)
}

// SlowRate is the share of executions that were slow.
func (e StatsExecution) SlowRate() float64 { return statsRatio(e.Slow, e.Count) }

// MarshalJSON adds avg_time_ms and slow_rate.
func (e StatsExecution) MarshalJSON() ([]byte, error) {
	type plain StatsExecution
	return json.Marshal(struct {
		plain
		AvgTimeMs float64 `json:"avg_time_ms"`
		SlowRate  float64 `json:"slow_rate"`
	}{plain(e), e.AvgTimeMs(), e.SlowRate()})
}

// StatsCache holds result cache counters.
type StatsCache struct {
	Hits      uint64 `json:"hits"`
	Misses    uint64 `json:"misses"`
	Evictions uint64 `json:"evictions"` // entries removed to make room
	Expiries  uint64 `json:"expiries"`  // entries removed because their TTL ran out
	Size      int    `json:"size"`      // entries held now
	Capacity  int    `json:"capacity"`  // most entries held
	// AdmissionPaused reports that new results are not being stored (lookups
	// still serve what is cached); see CacheAdmissionAction.
	AdmissionPaused bool `json:"admission_paused"`
}

// Lookups is the number of cache lookups.
func (c StatsCache) Lookups() uint64 { return c.Hits + c.Misses }

// HitRate is the share of lookups that found a result (the guide's cache_hit_rate).
func (c StatsCache) HitRate() float64 { return statsRatio(c.Hits, c.Lookups()) }

// EvictionRate is evictions per miss. Every miss may store one new result,
// so this is about the share of new entries that pushed another one out.
func (c StatsCache) EvictionRate() float64 { return statsRatio(c.Evictions, c.Misses) }

// ExpiryRate is expiries per miss.
func (c StatsCache) ExpiryRate() float64 { return statsRatio(c.Expiries, c.Misses) }

// Utilization is the share of the capacity in use.
func (c StatsCache) Utilization() float64 { return statsIntRatio(c.Size, c.Capacity) }

// MarshalJSON adds lookups, hit_rate, eviction_rate, expiry_rate and utilization.
func (c StatsCache) MarshalJSON() ([]byte, error) {
	type plain StatsCache
	return json.Marshal(struct {
		plain
		Lookups      uint64  `json:"lookups"`
		HitRate      float64 `json:"hit_rate"`
		EvictionRate float64 `json:"eviction_rate"`
		ExpiryRate   float64 `json:"expiry_rate"`
		Utilization  float64 `json:"utilization"`
	}{plain(c), c.Lookups(), c.HitRate(), c.EvictionRate(), c.ExpiryRate(), c.Utilization()})
}

// StatsConcurrency holds the concurrency limiter's figures.
type StatsConcurrency struct {
	Level    int    `json:"level"`    // executions in flight now (the guide's concurrency_level)
	Limit    int    `json:"limit"`    // current limit; adaptive mode moves it up to Max
	Max      int    `json:"max"`      // the cap: max_concurrent_executions, or runtime.DefaultConcurrencyCeiling when unset
	Waiting  int    `json:"waiting"`  // callers waiting for a permit now
	Rejected uint64 `json:"rejected"` // acquisitions that gave up (context done)
}

// Saturation is Level over Limit.
func (c StatsConcurrency) Saturation() float64 { return statsIntRatio(c.Level, c.Limit) }

// MarshalJSON adds saturation.
func (c StatsConcurrency) MarshalJSON() ([]byte, error) {
	type plain StatsConcurrency
	return json.Marshal(struct {
		plain
		Saturation float64 `json:"saturation"`
	}{plain(c), c.Saturation()})
}

// StatsErrors holds the outcome and error classifier counters.
type StatsErrors struct {
	Executions uint64 `json:"executions"` // finished executions
	Failures   uint64 `json:"failures"`   // executions that ended in an error, breaker rejections included
	// RecoveryAttempts counts executions that had a failed attempt and tried
	// to recover from it by retry or fallback; Recoveries those that succeeded.
	RecoveryAttempts uint64 `json:"recovery_attempts"`
	Recoveries       uint64 `json:"recoveries"`
	Retries          uint64 `json:"retries"`         // attempts after the first
	SkippedRetries   uint64 `json:"skipped_retries"` // retries not made because the error is known to be permanent
	CachedPatterns   int    `json:"cached_patterns"` // error patterns the classifier remembers
}

// ErrorRate is the share of executions that failed (the guide's error_rate).
func (e StatsErrors) ErrorRate() float64 { return statsRatio(e.Failures, e.Executions) }

// RecoverySuccessRate is the share of recovery attempts that succeeded (the
// guide's recovery_success_rate).
func (e StatsErrors) RecoverySuccessRate() float64 {
	return statsRatio(e.Recoveries, e.RecoveryAttempts)
}

// MarshalJSON adds error_rate and recovery_success_rate.
func (e StatsErrors) MarshalJSON() ([]byte, error) {
	type plain StatsErrors
	return json.Marshal(struct {
		plain
		ErrorRate           float64 `json:"error_rate"`
		RecoverySuccessRate float64 `json:"recovery_success_rate"`
	}{plain(e), e.ErrorRate(), e.RecoverySuccessRate()})
}

// StatsBreaker holds one step's circuit breaker figures.
type StatsBreaker struct {
	State      StatsBreakerState `json:"state"`
	Calls      uint64            `json:"calls"`      // calls the breaker let through
	Failures   uint64            `json:"failures"`   // of those, the failed ones
	Rejections uint64            `json:"rejections"` // calls refused while open
	Opens      uint64            `json:"opens"`      // transitions to open
}

// FailureRate is the share of calls that failed.
func (b StatsBreaker) FailureRate() float64 { return statsRatio(b.Failures, b.Calls) }

// OpenRate is transitions to open per call; a high value is a flapping breaker.
func (b StatsBreaker) OpenRate() float64 { return statsRatio(b.Opens, b.Calls) }

// MarshalJSON adds failure_rate and open_rate.
func (b StatsBreaker) MarshalJSON() ([]byte, error) {
	type plain StatsBreaker
	return json.Marshal(struct {
		plain
		FailureRate float64 `json:"failure_rate"`
		OpenRate    float64 `json:"open_rate"`
	}{plain(b), b.FailureRate(), b.OpenRate()})
}

// StatsBreakerSummary sums the breakers of every step.
type StatsBreakerSummary struct {
	// State is the worst state of any step: open, else half_open, else closed.
	State      StatsBreakerState `json:"state"`
	Closed     int               `json:"closed"`    // steps whose breaker is closed
	HalfOpen   int               `json:"half_open"` // steps whose breaker is half-open
	Open       int               `json:"open"`      // steps whose breaker is open
	Calls      uint64            `json:"calls"`
	Failures   uint64            `json:"failures"`
	Rejections uint64            `json:"rejections"`
	Opens      uint64            `json:"opens"`
}

// BreakerSummary sums the per-step breakers.
func (s Stats) BreakerSummary() StatsBreakerSummary {
	var sum StatsBreakerSummary
	for _, st := range s.Steps {
		b := st.CircuitBreaker
		sum.State = max(sum.State, b.State)
		switch b.State {
		case StatsBreakerOpen:
			sum.Open++
		case StatsBreakerHalfOpen:
			sum.HalfOpen++
		default:
			sum.Closed++
		}
		sum.Calls += b.Calls
		sum.Failures += b.Failures
		sum.Rejections += b.Rejections
		sum.Opens += b.Opens
	}
	return sum
}

// StatsTelemetry holds the telemetry batcher's counters and settings.
type StatsTelemetry struct {
	Recorded             uint64  `json:"recorded"`    // events offered to the buffer
	Exported             uint64  `json:"exported"`    // events a sink accepted
	Dropped              uint64  `json:"dropped"`     // events lost: buffer full, or the sink failed
	SinkErrors           uint64  `json:"sink_errors"` // failed or panicking sink calls
	Batches              uint64  `json:"batches"`     // batches handed to the sink
	BatchSize            int     `json:"batch_size"`
	FlushIntervalSeconds float64 `json:"flush_interval_seconds"`
}

// DropRate is the share of recorded events that were dropped.
func (t StatsTelemetry) DropRate() float64 { return statsRatio(t.Dropped, t.Recorded) }

// Pending is the number of events recorded but neither exported nor dropped yet.
func (t StatsTelemetry) Pending() uint64 {
	done := t.Exported + t.Dropped
	if done >= t.Recorded {
		return 0
	}
	return t.Recorded - done
}

// MarshalJSON adds drop_rate and pending.
func (t StatsTelemetry) MarshalJSON() ([]byte, error) {
	type plain StatsTelemetry
	return json.Marshal(struct {
		plain
		DropRate float64 `json:"drop_rate"`
		Pending  uint64  `json:"pending"`
	}{plain(t), t.DropRate(), t.Pending()})
}

// MarshalJSON encodes s with circuit_breaker, the summary of the step breakers.
func (s Stats) MarshalJSON() ([]byte, error) {
	type plain Stats
	return json.Marshal(struct {
		plain
		CircuitBreaker StatsBreakerSummary `json:"circuit_breaker"`
	}{plain(s), s.BreakerSummary()})
}

// StepNames returns the names of the steps in s, sorted.
func (s Stats) StepNames() []string { return slices.Sorted(maps.Keys(s.Steps)) }

// Clone returns a copy of s that shares no memory with it.
func (s Stats) Clone() Stats {
	s.Steps = maps.Clone(s.Steps)
	s.Config = s.Config.Clone()
	return s
}

// The names of the guide's metrics, as Metrics reports them.
const (
	StatsMetricObjectPoolUtilization = "object_pool_utilization"
	StatsMetricMemoryUsageMB         = "memory_usage_mb"
	StatsMetricMemoryPressureLevel   = "memory_pressure_level"
	StatsMetricExecutionTimeMs       = "execution_time_ms"
	StatsMetricCacheHitRate          = "cache_hit_rate"
	StatsMetricConcurrencyLevel      = "concurrency_level"
	StatsMetricErrorRate             = "error_rate"
	StatsMetricCircuitBreakerState   = "circuit_breaker_state"
	StatsMetricRecoverySuccessRate   = "recovery_success_rate"
)

// StatsMetricNames returns the names of the guide's metrics, sorted.
func StatsMetricNames() []string {
	return []string{
		StatsMetricCacheHitRate,
		StatsMetricCircuitBreakerState,
		StatsMetricConcurrencyLevel,
		StatsMetricErrorRate,
		StatsMetricExecutionTimeMs,
		StatsMetricMemoryPressureLevel,
		StatsMetricMemoryUsageMB,
		StatsMetricObjectPoolUtilization,
		StatsMetricRecoverySuccessRate,
	}
}

// Metrics returns the guide's metrics as one flat map, keyed by the names of
// StatsMetricNames. Levels and states are their ordinal: memory pressure 0
// none to 3 critical, breaker 0 closed, 1 half-open, 2 open (the worst step).
// execution_time_ms is the mean latency; rates are fractions.
func (s Stats) Metrics() map[string]float64 {
	return map[string]float64{
		StatsMetricObjectPoolUtilization: s.Memory.ObjectPool.Utilization(),
		StatsMetricMemoryUsageMB:         s.Memory.UsageMB,
		StatsMetricMemoryPressureLevel:   float64(s.Memory.PressureLevel),
		StatsMetricExecutionTimeMs:       s.Execution.AvgTimeMs(),
		StatsMetricCacheHitRate:          s.Cache.HitRate(),
		StatsMetricConcurrencyLevel:      float64(s.Concurrency.Level),
		StatsMetricErrorRate:             s.Errors.ErrorRate(),
		StatsMetricCircuitBreakerState:   float64(s.BreakerSummary().State),
		StatsMetricRecoverySuccessRate:   s.Errors.RecoverySuccessRate(),
	}
}

// Sub returns the activity between prev and s, both snapshots of the same
// executor, prev taken first: counters become their increase, while gauges
// (memory, CPU, sizes, levels, limits, states, latency percentiles and max,
// settings) keep their value in s. A counter that went down was reset, and
// its value in s is taken as the increase. Steps missing from prev count
// from zero; steps missing from s are left out.
func (s Stats) Sub(prev Stats) Stats {
	d := s.Clone()
	d.Memory.ObjectPool = s.Memory.ObjectPool.sub(prev.Memory.ObjectPool)
	d.Execution = s.Execution.sub(prev.Execution)
	d.Cache = s.Cache.sub(prev.Cache)
	d.Concurrency.Rejected = statsDelta(s.Concurrency.Rejected, prev.Concurrency.Rejected)
	d.Errors = s.Errors.sub(prev.Errors)
	d.Telemetry = s.Telemetry.sub(prev.Telemetry)
	for name, st := range s.Steps {
		p := prev.Steps[name]
		d.Steps[name] = StatsStep{
			Execution:      st.Execution.sub(p.Execution),
			Cache:          st.Cache.sub(p.Cache),
			Errors:         st.Errors.sub(p.Errors),
			CircuitBreaker: st.CircuitBreaker.sub(p.CircuitBreaker),
		}
	}
	return d
}

func (p StatsPool) sub(prev StatsPool) StatsPool {
	p.Gets = statsDelta(p.Gets, prev.Gets)
	p.Hits = statsDelta(p.Hits, prev.Hits)
	p.Misses = statsDelta(p.Misses, prev.Misses)
	p.Puts = statsDelta(p.Puts, prev.Puts)
	p.Drops = statsDelta(p.Drops, prev.Drops)
	return p
}

func (e StatsExecution) sub(prev StatsExecution) StatsExecution {
	if e.Count < prev.Count {
		// The histogram was reset: everything in e is new.
		return e
	}
	e.Count -= prev.Count
	e.TotalMs = max(e.TotalMs-prev.TotalMs, 0)
	e.Slow = statsDelta(e.Slow, prev.Slow)
	e.Failures = statsDelta(e.Failures, prev.Failures)
	return e
}

func (c StatsCache) sub(prev StatsCache) StatsCache {
	c.Hits = statsDelta(c.Hits, prev.Hits)
	c.Misses = statsDelta(c.Misses, prev.Misses)
	c.Evictions = statsDelta(c.Evictions, prev.Evictions)
	c.Expiries = statsDelta(c.Expiries, prev.Expiries)
	return c
}

func (e StatsErrors) sub(prev StatsErrors) StatsErrors {
	e.Executions = statsDelta(e.Executions, prev.Executions)
	e.Failures = statsDelta(e.Failures, prev.Failures)
	e.RecoveryAttempts = statsDelta(e.RecoveryAttempts, prev.RecoveryAttempts)
	e.Recoveries = statsDelta(e.Recoveries, prev.Recoveries)
	e.Retries = statsDelta(e.Retries, prev.Retries)
	e.SkippedRetries = statsDelta(e.SkippedRetries, prev.SkippedRetries)
	return e
}

func (b StatsBreaker) sub(prev StatsBreaker) StatsBreaker {
	b.Calls = statsDelta(b.Calls, prev.Calls)
	b.Failures = statsDelta(b.Failures, prev.Failures)
	b.Rejections = statsDelta(b.Rejections, prev.Rejections)
	b.Opens = statsDelta(b.Opens, prev.Opens)
	return b
}

func (t StatsTelemetry) sub(prev StatsTelemetry) StatsTelemetry {
	t.Recorded = statsDelta(t.Recorded, prev.Recorded)
	t.Exported = statsDelta(t.Exported, prev.Exported)
	t.Dropped = statsDelta(t.Dropped, prev.Dropped)
	t.SinkErrors = statsDelta(t.SinkErrors, prev.SinkErrors)
	t.Batches = statsDelta(t.Batches, prev.Batches)
	return t
}

// statsDelta is cur-prev for a monotonic counter; a counter that went down
// was reset, so all of cur is new.
func statsDelta(cur, prev uint64) uint64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

// statsRatio is num/den, or 0 when den is 0.
func statsRatio(num, den uint64) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// statsIntRatio is num/den for gauges, or 0 when den is not positive.
func statsIntRatio(num, den int) float64 {
	if den <= 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// StatsPressureLevel is the memory pressure level in a Stats snapshot: the
// resource manager's PressureLevel, encoded as "none", "moderate", "high" or
// "critical".
type StatsPressureLevel = PressureLevel

// The memory pressure levels, as Stats names them.
const (
	StatsPressureNone     = PressureNone
	StatsPressureModerate = PressureModerate
	StatsPressureHigh     = PressureHigh
	StatsPressureCritical = PressureCritical
)

// StatsBreakerState is a circuit breaker state in a Stats snapshot, ordered
// from healthy to failing. It encodes as "closed", "half_open" or "open".
type StatsBreakerState uint8

// The circuit breaker states.
const (
	StatsBreakerClosed StatsBreakerState = iota
	StatsBreakerHalfOpen
	StatsBreakerOpen
)

// StatsState returns the state as a Stats snapshot shows it.
func (s BreakerState) StatsState() StatsBreakerState {
	switch s {
	case BreakerOpen:
		return StatsBreakerOpen
	case BreakerHalfOpen:
		return StatsBreakerHalfOpen
	}
	return StatsBreakerClosed
}

// String returns the state's name.
func (b StatsBreakerState) String() string {
	if n, ok := b.name(); ok {
		return n
	}
	return fmt.Sprintf("StatsBreakerState(%d)", uint8(b))
}

func (b StatsBreakerState) name() (string, bool) {
	switch b {
	case StatsBreakerClosed:
		return "closed", true
	case StatsBreakerHalfOpen:
		return "half_open", true
	case StatsBreakerOpen:
		return "open", true
	}
	return "", false
}

// MarshalText encodes the state's name.
func (b StatsBreakerState) MarshalText() ([]byte, error) {
	n, ok := b.name()
	if !ok {
		return nil, fmt.Errorf("circuit breaker state %d out of range: must be 0 (closed) to 2 (open)", uint8(b))
	}
	return []byte(n), nil
}

// UnmarshalText decodes a state's name.
func (b *StatsBreakerState) UnmarshalText(text []byte) error {
	for v := StatsBreakerClosed; v <= StatsBreakerOpen; v++ {
		if n, _ := v.name(); n == string(text) {
			*b = v
			return nil
		}
	}
	return fmt.Errorf("unknown circuit breaker state %q: must be closed, half_open or open", text)
}
