package statuspage

import (
	"github.com/flujo/flujo/runtime"
)

// Status is what the page shows, and the body of its JSON twin. Its
// fields and their JSON names are stable: new fields may be added, none
// is renamed or removed. Rates are fractions from 0 to 1, and 0 when
// their denominator is 0 (a step that never ran has a success rate of 0
// and 0 executions); durations are in milliseconds.
type Status struct {
	Totals Totals `json:"totals"`
	// Steps holds one entry per step that ran or has a breaker or cache,
	// sorted by name.
	Steps   []Step  `json:"steps"`
	Limiter Limiter `json:"limiter"`
	Memory  Memory  `json:"memory"`
	// Recommendations are the executor's current recommendations, most
	// urgent first; empty, never null, when there are none.
	Recommendations []Recommendation `json:"recommendations"`
}

// Totals sums the executor's runs and the executions of all its steps.
type Totals struct {
	Runs       uint64  `json:"runs"`        // pipeline runs finished
	RunLatency Latency `json:"run_latency"` // latencies of whole runs
	// Executions and Failures count step executions; SuccessRate is the
	// share that succeeded.
	Executions  uint64   `json:"executions"`
	Failures    uint64   `json:"failures"`
	SuccessRate float64  `json:"success_rate"`
	Retries     uint64   `json:"retries"` // attempts after the first
	Cache       Cache    `json:"cache"`
	Breakers    Breakers `json:"breakers"`
}

// Step holds the figures of one step.
type Step struct {
	Name        string  `json:"name"`
	Executions  uint64  `json:"executions"`
	Failures    uint64  `json:"failures"`
	SuccessRate float64 `json:"success_rate"`
	Retries     uint64  `json:"retries"`
	Latency     Latency `json:"latency"`
	Cache       Cache   `json:"cache"`
	Breaker     Breaker `json:"breaker"`
}

// Latency holds latency percentiles and the maximum, in milliseconds.
type Latency struct {
	P50Ms float64 `json:"p50_ms"`
	P95Ms float64 `json:"p95_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

// Cache holds result cache lookups: hits, misses and the hit rate.
type Cache struct {
	Hits    uint64  `json:"hits"`
	Misses  uint64  `json:"misses"`
	HitRate float64 `json:"hit_rate"`
}

// Breaker holds one step's circuit breaker.
type Breaker struct {
	// State is "closed", "half_open" or "open".
	State      string `json:"state"`
	Opens      uint64 `json:"opens"`      // transitions to open
	Rejections uint64 `json:"rejections"` // calls refused while open
}

// Breakers sums the circuit breakers of every step.
type Breakers struct {
	// State is the worst state of any step: "open", else "half_open",
	// else "closed".
	State      string `json:"state"`
	Closed     int    `json:"closed"`    // steps whose breaker is closed
	HalfOpen   int    `json:"half_open"` // steps whose breaker is half-open
	Open       int    `json:"open"`      // steps whose breaker is open
	Opens      uint64 `json:"opens"`
	Rejections uint64 `json:"rejections"`
}

// Limiter holds the concurrency limiter's level.
type Limiter struct {
	InFlight int    `json:"in_flight"` // executions holding a permit now
	Limit    int    `json:"limit"`     // current limit; an adaptive limiter moves it up to Max
	Max      int    `json:"max"`       // the cap
	Waiting  int    `json:"waiting"`   // callers waiting for a permit now
	Rejected uint64 `json:"rejected"`  // acquisitions that gave up
	// Saturation is InFlight over Limit.
	Saturation float64 `json:"saturation"`
}

// Memory holds the resource manager's readings.
type Memory struct {
	UsageMB float64 `json:"usage_mb"`
	// Pressure is "none", "moderate", "high" or "critical".
	Pressure   string  `json:"pressure"`
	CPUPercent float64 `json:"cpu_percent"` // of the available cores, 0 to 100
}

// Recommendation is one suggested improvement. Description says what was
// observed and Impact what the change should improve, both as sentences.
type Recommendation struct {
	ID          string `json:"id"`
	Priority    string `json:"priority"` // "high", "medium" or "low"
	Description string `json:"description"`
	Impact      string `json:"impact"`
	// Automatic reports that the auto-tuner may apply the change to a
	// running executor.
	Automatic bool `json:"automatic"`
	// Change is the configuration change, or nil for advice without one.
	Change *Change `json:"change,omitempty"`
}

// Change is the change of one configuration field (or of the cache's
// admission, runtime.CacheAdmissionAction): its current and recommended
// values, booleans, numbers or null.
type Change struct {
	Field       string `json:"field"`
	Current     any    `json:"current"`
	Recommended any    `json:"recommended"`
}

// NewStatus builds the Status of a statistics snapshot and the
// recommendations made from it.
func NewStatus(s runtime.Stats, recs []runtime.Recommendation) Status {
	sum := s.BreakerSummary()
	st := Status{
		Totals: Totals{
			Runs: s.Execution.Count,
			RunLatency: Latency{
				P50Ms: s.Execution.P50Ms, P95Ms: s.Execution.P95Ms, P99Ms: s.Execution.P99Ms, MaxMs: s.Execution.MaxMs,
			},
			Executions:  s.Errors.Executions,
			Failures:    s.Errors.Failures,
			SuccessRate: successRate(s.Errors),
			Retries:     s.Errors.Retries,
			Cache:       newCache(s.Cache),
			Breakers: Breakers{
				State: sum.State.String(), Closed: sum.Closed, HalfOpen: sum.HalfOpen, Open: sum.Open,
				Opens: sum.Opens, Rejections: sum.Rejections,
			},
		},
		Steps: make([]Step, 0, len(s.Steps)),
		Limiter: Limiter{
			InFlight: s.Concurrency.Level, Limit: s.Concurrency.Limit, Max: s.Concurrency.Max,
			Waiting: s.Concurrency.Waiting, Rejected: s.Concurrency.Rejected, Saturation: s.Concurrency.Saturation(),
		},
		Memory: Memory{
			UsageMB:    s.Memory.UsageMB,
			Pressure:   s.Memory.PressureLevel.String(),
			CPUPercent: s.CPU.UsagePercent,
		},
		Recommendations: make([]Recommendation, 0, len(recs)),
	}
	for _, name := range s.StepNames() {
		x := s.Steps[name]
		st.Steps = append(st.Steps, Step{
			Name:        name,
			Executions:  x.Errors.Executions,
			Failures:    x.Errors.Failures,
			SuccessRate: successRate(x.Errors),
			Retries:     x.Errors.Retries,
			Latency: Latency{
				P50Ms: x.Execution.P50Ms, P95Ms: x.Execution.P95Ms, P99Ms: x.Execution.P99Ms, MaxMs: x.Execution.MaxMs,
			},
			Cache: newCache(x.Cache),
			Breaker: Breaker{
				State: x.CircuitBreaker.State.String(), Opens: x.CircuitBreaker.Opens, Rejections: x.CircuitBreaker.Rejections,
			},
		})
	}
	for _, r := range recs {
		rec := Recommendation{
			ID: r.ID, Priority: string(r.Priority), Description: r.Description, Impact: r.Impact, Automatic: r.Automatic,
		}
		if r.Change.Field != "" {
			rec.Change = &Change{Field: r.Change.Field, Current: r.Change.Current, Recommended: r.Change.Recommended}
		}
		st.Recommendations = append(st.Recommendations, rec)
	}
	return st
}

func newCache(c runtime.StatsCache) Cache {
	return Cache{Hits: c.Hits, Misses: c.Misses, HitRate: c.HitRate()}
}

// successRate is the share of executions that did not fail, 0 when there
// were none.
func successRate(e runtime.StatsErrors) float64 {
	if e.Executions == 0 {
		return 0
	}
	return max(0, 1-e.ErrorRate())
}
