package runtime

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// RecommendationPriority ranks a recommendation: high, medium or low.
type RecommendationPriority string

// The recommendation priorities.
const (
	PriorityHigh   RecommendationPriority = "high"
	PriorityMedium RecommendationPriority = "medium"
	PriorityLow    RecommendationPriority = "low"
)

func (p RecommendationPriority) rank() int {
	switch p {
	case PriorityHigh:
		return 0
	case PriorityMedium:
		return 1
	}
	return 2
}

// CacheAdmissionAction is the ConfigChange.Field of the one run-time action
// that is not a configuration field: whether the result cache admits new
// results. Its values are booleans: true admits (the normal state), false
// pauses admission, so that under high memory pressure the cache stops
// growing while lookups still serve the results it holds. Nothing is evicted
// by the pause itself; the resource manager's shrinkers do that. The
// executor reports the state in Stats.Cache.AdmissionPaused.
const CacheAdmissionAction = "cache_admission"

// ConfigChange is the exact change a recommendation makes: the JSON name of
// an OptimizationConfig field (or CacheAdmissionAction), its current value
// and the recommended one. Values have the field's Go type as in
// OptimizationConfig.ToMap: bool, int or float64, and nil for an unset
// max_concurrent_executions. Recommended values lie within the field's range
// (ConfigFields). A zero ConfigChange (empty Field) means the recommendation
// is advice with no configuration change.
type ConfigChange struct {
	Field       string `json:"field"`
	Current     any    `json:"current"`
	Recommended any    `json:"recommended"`
}

// IsRuntime reports whether a running executor can apply the change without
// regeneration: the field is a run-time field of ConfigFields, or the change
// is the cache admission action.
func (c ConfigChange) IsRuntime() bool {
	if c.Field == CacheAdmissionAction {
		return true
	}
	f, ok := LookupConfigField(c.Field)
	return ok && f.Runtime
}

// Recommendation is one suggested improvement, derived from a Stats snapshot.
type Recommendation struct {
	ID          string                 `json:"id"`          // the rule that produced it, e.g. "cache-low-hit-rate"
	Description string                 `json:"description"` // what was observed, with the figures
	Impact      string                 `json:"impact"`      // what the change should improve
	Priority    RecommendationPriority `json:"priority"`
	// Automatic reports that the change touches a run-time field only, so
	// the auto-tuner may apply it to a running executor.
	Automatic bool         `json:"automatic"`
	Change    ConfigChange `json:"change,omitzero"`
}

// The thresholds of the recommendation rules. Rates are fractions. Every rule
// needs a minimum amount of data, so an idle executor gets no advice.
const (
	// Minimum samples.
	recommendMinExecutions        = 20  // executions before latency or concurrency rules judge
	recommendMinCacheLookups      = 100 // cache lookups before cache rules judge
	recommendMinPoolRequests      = 100 // pool requests before the exhaustion rule judges
	recommendMinBreakerCalls      = 50  // calls through one breaker before it can be called flapping
	recommendMinBreakerOpens      = 3   // opens of one breaker before it can be called flapping
	recommendMinErrorExecutions   = 50  // executions before the error rule judges
	recommendMinRecoveryAttempts  = 10  // recovery attempts before the error rule judges
	recommendMinTelemetryRecorded = 100 // recorded events before the drop rules judge

	// Slow average: above slow_execution_threshold_ms; high priority from this multiple.
	recommendSlowHighFactor = 2.0
	recommendSlowStepsNamed = 3 // slowest steps named in the description

	// Cache.
	recommendCacheLowHitRate       = 0.3 // below: the cache is not paying off
	recommendCacheChurnRate        = 0.1 // expiries or evictions per miss from which entries are lost before reuse
	recommendCacheHighEvictionRate = 0.5 // evictions per miss from which a useful cache is thrashing
	recommendCacheGrowFactor       = 2   // multiplier for cache_max_size and cache_ttl_seconds

	// Object pool.
	recommendPoolHighMissRate    = 0.5 // requests that allocate
	recommendPoolHighDropRate    = 0.1 // returned objects discarded because the pool was full
	recommendPoolGrowFactor      = 2
	recommendPoolIdleMinObjects  = 16 // idle objects before a pool can be called idle
	recommendPoolIdleReuseFactor = 4  // idle when it holds more than this many objects per reuse
	recommendPoolShrinkDivisor   = 2

	// Circuit breaker flapping: opens per call through the breaker.
	recommendBreakerFlapRate = 0.02
	// Flapping breakers whose failure rate is below this fail sporadically:
	// a higher threshold rides out the bursts. Above it, the failures are
	// real and the breaker closes too soon: a longer recovery timeout.
	recommendBreakerSporadicFailureRate = 0.2
	recommendBreakerGrowFactor          = 2

	// Errors: many failures that retries and fallbacks rarely rescue.
	recommendHighErrorRate           = 0.1 // failed executions
	recommendLowRecoveryRate         = 0.5 // successful recoveries
	recommendBreakerThresholdDivisor = 2   // lower circuit_breaker_failure_threshold by this

	// Telemetry: dropped events per recorded event.
	recommendTelemetryDropRate        = 0.01
	recommendTelemetryHighDropRate    = 0.1
	recommendTelemetryGrowFactor      = 2
	recommendTelemetryFlushDivisor    = 2
	recommendTelemetryMinFlushSeconds = 1.0 // never suggest flushing more often than this

	// Memory pressure: halve what holds memory.
	recommendMemoryShrinkDivisor = 2

	// Concurrency.
	recommendConcurrencyMinWaiting    = 1  // waiting callers that show saturation
	recommendConcurrencyGrowPercent   = 50 // raise the cap by this much (at least 1)
	recommendConcurrencyShrinkPercent = 25 // lower the cap by this much (at least 1) under CPU pressure
)

// Recommend derives recommendations from s, comparing with the settings of
// cfg (usually s.Config). Rules judge whatever s covers: a cumulative
// snapshot, or the activity of a window (Stats.Sub). The result is sorted by
// priority, then by rule; no two recommendations change the same field
// (the first in that order wins), and it is nil when nothing needs changing.
func Recommend(s Stats, cfg OptimizationConfig) []Recommendation {
	rules := []func(Stats, OptimizationConfig) []Recommendation{
		recommendRuleDistributedDegraded,
		recommendRuleDistributedNotWired,
		recommendRuleMemoryPressure,
		recommendRuleCacheAdmissionResume,
		recommendRuleErrorsLowRecovery,
		recommendRuleBreakerFlapping,
		recommendRuleSlowAverage,
		recommendRuleCPUSaturation,
		recommendRuleConcurrencySaturation,
		recommendRuleTelemetryDrops,
		recommendRuleCacheLowHitRate,
		recommendRuleCacheHighEviction,
		recommendRulePoolExhaustion,
		recommendRulePoolIdle,
	}
	var out []Recommendation
	for _, rule := range rules {
		out = append(out, rule(s, cfg)...)
	}
	slices.SortStableFunc(out, func(a, b Recommendation) int {
		return a.Priority.rank() - b.Priority.rank()
	})
	seen := make(map[string]bool, len(out))
	kept := out[:0]
	for _, r := range out {
		if f := r.Change.Field; f != "" {
			if seen[f] {
				continue
			}
			seen[f] = true
		}
		kept = append(kept, r)
	}
	if len(kept) == 0 {
		return nil
	}
	return kept
}

// recommendChange builds a recommendation for one change; it is automatic
// exactly when the change can be applied at run time.
func recommendChange(id string, p RecommendationPriority, change ConfigChange, desc, impact string) Recommendation {
	return Recommendation{ID: id, Description: desc, Impact: impact, Priority: p, Automatic: change.IsRuntime(), Change: change}
}

// recommendClamp keeps v within the range of the named field.
func recommendClamp(field string, v float64) float64 {
	f, ok := LookupConfigField(field)
	if !ok || f.Kind == FieldBool {
		return v
	}
	switch {
	case v > f.Max:
		return f.Max
	case f.ExclusiveMin && v <= f.Min:
		return math.Nextafter(f.Min, f.Max)
	case v < f.Min:
		return f.Min
	}
	return v
}

func recommendClampInt(field string, v int) int {
	return int(recommendClamp(field, float64(v)))
}

// recommendScaleInt returns cur*factor within the field's range, and whether
// that differs from cur.
func recommendScaleInt(field string, cur, factor int) (int, bool) {
	n := recommendClampInt(field, cur*factor)
	return n, n != cur
}

// recommendDivideInt returns cur/div, at least the field's minimum, and
// whether that differs from cur.
func recommendDivideInt(field string, cur, div int) (int, bool) {
	n := recommendClampInt(field, cur/div)
	return n, n != cur
}

func recommendPct(r float64) string { return fmt.Sprintf("%.1f%%", 100*r) }

// recommendPressurePriority is high at high or critical pressure, else medium.
func recommendPressurePriority(l StatsPressureLevel) RecommendationPriority {
	if l >= StatsPressureHigh {
		return PriorityHigh
	}
	return PriorityMedium
}

func recommendRuleMemoryPressure(s Stats, cfg OptimizationConfig) []Recommendation {
	level := s.Memory.PressureLevel
	if level == StatsPressureNone {
		if !cfg.EnableMemoryOptimization && s.Memory.UsageMB > 0 && s.Memory.UsageMB >= cfg.MemoryPressureThresholdMb {
			return []Recommendation{recommendChange("memory-optimization-off", PriorityMedium,
				ConfigChange{Field: "enable_memory_optimization", Current: false, Recommended: true},
				fmt.Sprintf("Memory use is %.0f MB, at or above memory_pressure_threshold_mb (%.0f MB), and nothing reacts to it.", s.Memory.UsageMB, cfg.MemoryPressureThresholdMb),
				"Caches, pools and concurrency shrink under memory pressure instead of growing until the process runs out of memory.")}
		}
		return nil
	}
	p := recommendPressurePriority(level)
	what := fmt.Sprintf("Memory pressure is %s (%.0f MB in use, threshold %.0f MB).", level, s.Memory.UsageMB, cfg.MemoryPressureThresholdMb)
	var out []Recommendation
	if cfg.EnableCacheOptimization && level >= StatsPressureHigh && !s.Cache.AdmissionPaused {
		out = append(out, recommendChange("memory-pressure-cache-admission", PriorityHigh,
			ConfigChange{Field: CacheAdmissionAction, Current: true, Recommended: false},
			what+" The result cache still admits new results.",
			"The cache stops growing until the pressure is gone; cached results are still served."))
	}
	if cfg.EnableCacheOptimization {
		if n, ok := recommendDivideInt("cache_max_size", cfg.CacheMaxSize, recommendMemoryShrinkDivisor); ok {
			out = append(out, recommendChange("memory-pressure-cache-size", p,
				ConfigChange{Field: "cache_max_size", Current: cfg.CacheMaxSize, Recommended: n},
				what+fmt.Sprintf(" The result cache holds %d entries.", s.Cache.Size),
				"A smaller result cache holds less memory."))
		}
		if !cfg.CacheCompression {
			out = append(out, recommendChange("memory-pressure-cache-compression", p,
				ConfigChange{Field: "cache_compression", Current: false, Recommended: true},
				what+" Cached values are stored uncompressed.",
				"Compressed cached values take less memory, for some CPU."))
		}
	}
	if cfg.EnableObjectPool {
		if n, ok := recommendDivideInt("object_pool_max_size", cfg.ObjectPoolMaxSize, recommendMemoryShrinkDivisor); ok {
			out = append(out, recommendChange("memory-pressure-pool-size", p,
				ConfigChange{Field: "object_pool_max_size", Current: cfg.ObjectPoolMaxSize, Recommended: n},
				what+fmt.Sprintf(" The object pools hold %d idle objects.", s.Memory.ObjectPool.Idle),
				"Smaller pools keep fewer idle objects alive."))
		}
	}
	return out
}

func recommendRuleCacheAdmissionResume(s Stats, cfg OptimizationConfig) []Recommendation {
	if !s.Cache.AdmissionPaused || s.Memory.PressureLevel != StatsPressureNone {
		return nil
	}
	return []Recommendation{recommendChange("cache-admission-resume", PriorityLow,
		ConfigChange{Field: CacheAdmissionAction, Current: false, Recommended: true},
		"The result cache's admission is paused, and memory pressure is gone.",
		"New results are cached again.")}
}

func recommendRuleErrorsLowRecovery(s Stats, cfg OptimizationConfig) []Recommendation {
	e := s.Errors
	if e.Executions < recommendMinErrorExecutions || e.RecoveryAttempts < recommendMinRecoveryAttempts ||
		e.ErrorRate() < recommendHighErrorRate || e.RecoverySuccessRate() >= recommendLowRecoveryRate {
		return nil
	}
	what := fmt.Sprintf("%s of %d executions failed, and only %s of %d recovery attempts succeeded.",
		recommendPct(e.ErrorRate()), e.Executions, recommendPct(e.RecoverySuccessRate()), e.RecoveryAttempts)
	const impact = "Failing steps are cut off sooner, so callers fail fast instead of waiting on retries that rarely help."
	if !cfg.EnableCircuitBreaker {
		return []Recommendation{recommendChange("errors-low-recovery", PriorityHigh,
			ConfigChange{Field: "enable_circuit_breaker", Current: false, Recommended: true}, what, impact)}
	}
	n, ok := recommendDivideInt("circuit_breaker_failure_threshold", cfg.CircuitBreakerFailureThreshold, recommendBreakerThresholdDivisor)
	if !ok {
		return nil
	}
	return []Recommendation{recommendChange("errors-low-recovery", PriorityHigh,
		ConfigChange{Field: "circuit_breaker_failure_threshold", Current: cfg.CircuitBreakerFailureThreshold, Recommended: n}, what, impact)}
}

func recommendRuleBreakerFlapping(s Stats, cfg OptimizationConfig) []Recommendation {
	if !cfg.EnableCircuitBreaker {
		return nil
	}
	var names []string
	var sum StatsBreaker
	worst := 0.0
	for _, name := range s.StepNames() {
		b := s.Steps[name].CircuitBreaker
		if b.Calls < recommendMinBreakerCalls || b.Opens < recommendMinBreakerOpens || b.OpenRate() < recommendBreakerFlapRate {
			continue
		}
		names = append(names, name)
		sum.Calls += b.Calls
		sum.Failures += b.Failures
		sum.Opens += b.Opens
		worst = max(worst, b.OpenRate())
	}
	if len(names) == 0 {
		return nil
	}
	p := PriorityMedium
	if worst >= 2*recommendBreakerFlapRate {
		p = PriorityHigh
	}
	what := fmt.Sprintf("Circuit breakers flap: %d opens in %d calls (%s failed) on %s.",
		sum.Opens, sum.Calls, recommendPct(sum.FailureRate()), strings.Join(names, ", "))
	if sum.FailureRate() < recommendBreakerSporadicFailureRate {
		n, ok := recommendScaleInt("circuit_breaker_failure_threshold", cfg.CircuitBreakerFailureThreshold, recommendBreakerGrowFactor)
		if !ok {
			return nil
		}
		return []Recommendation{recommendChange("breaker-flapping", p,
			ConfigChange{Field: "circuit_breaker_failure_threshold", Current: cfg.CircuitBreakerFailureThreshold, Recommended: n},
			what+" Failures are sporadic.",
			"Short bursts of failures no longer open the breaker and reject healthy calls.")}
	}
	n, ok := recommendScaleInt("circuit_breaker_recovery_timeout_seconds", cfg.CircuitBreakerRecoveryTimeoutSeconds, recommendBreakerGrowFactor)
	if !ok {
		return nil
	}
	return []Recommendation{recommendChange("breaker-flapping", p,
		ConfigChange{Field: "circuit_breaker_recovery_timeout_seconds", Current: cfg.CircuitBreakerRecoveryTimeoutSeconds, Recommended: n},
		what+" The breakers close again before the failures are over.",
		"A failing dependency gets time to recover before probes reach it again.")}
}

func recommendRuleSlowAverage(s Stats, cfg OptimizationConfig) []Recommendation {
	ex := s.Execution
	avg := ex.AvgTimeMs()
	if ex.Count < recommendMinExecutions || avg <= cfg.SlowExecutionThresholdMs {
		return nil
	}
	p := PriorityMedium
	if avg >= recommendSlowHighFactor*cfg.SlowExecutionThresholdMs {
		p = PriorityHigh
	}
	what := fmt.Sprintf("Average execution time is %.1f ms over %d executions, above slow_execution_threshold_ms (%g ms).",
		avg, ex.Count, cfg.SlowExecutionThresholdMs)
	if slow := recommendSlowestSteps(s, cfg.SlowExecutionThresholdMs); slow != "" {
		what += " Slowest steps: " + slow + "."
	}
	switch {
	case !cfg.EnableStepOptimization:
		return []Recommendation{recommendChange("slow-average", p,
			ConfigChange{Field: "enable_step_optimization", Current: false, Recommended: true},
			what, "Each step is analysed once instead of on every execution.")}
	case !cfg.EnableAlgorithmOptimization:
		return []Recommendation{recommendChange("slow-average", p,
			ConfigChange{Field: "enable_algorithm_optimization", Current: false, Recommended: true},
			what, "Cache keys are hashed with the fast hashers.")}
	case !cfg.EnableCacheOptimization:
		return []Recommendation{recommendChange("slow-average", p,
			ConfigChange{Field: "enable_cache_optimization", Current: false, Recommended: true},
			what, "Steps declared with Cache() return stored results for repeated inputs instead of running again.")}
	}
	return []Recommendation{{ID: "slow-average", Priority: p, Description: what + " Every execution optimization is already on.",
		Impact: "Profile the slowest steps, or declare Cache() on the deterministic ones."}}
}

// recommendSlowestSteps names the slowest steps above threshold, slowest first.
func recommendSlowestSteps(s Stats, threshold float64) string {
	type stepAvg struct {
		name string
		avg  float64
	}
	var slow []stepAvg
	for _, name := range s.StepNames() {
		if e := s.Steps[name].Execution; e.Count > 0 && e.AvgTimeMs() > threshold {
			slow = append(slow, stepAvg{name, e.AvgTimeMs()})
		}
	}
	slices.SortStableFunc(slow, func(a, b stepAvg) int {
		switch {
		case a.avg > b.avg:
			return -1
		case a.avg < b.avg:
			return 1
		}
		return 0
	})
	var b strings.Builder
	for i, st := range slow[:min(len(slow), recommendSlowStepsNamed)] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%.1f ms)", st.name, st.avg)
	}
	return b.String()
}

// recommendConcurrencyCap returns the configured cap as ConfigChange.Current
// reports it (nil when derived) and as a number (0 when unknown).
func recommendConcurrencyCap(s Stats, cfg OptimizationConfig) (any, int) {
	if cfg.MaxConcurrentExecutions != nil {
		return *cfg.MaxConcurrentExecutions, *cfg.MaxConcurrentExecutions
	}
	return nil, s.Concurrency.Max
}

// recommendExecutions is the number of executions s covers, from whichever
// source counted them (the monitor may be off).
func recommendExecutions(s Stats) uint64 { return max(s.Execution.Count, s.Errors.Executions) }

func recommendRuleCPUSaturation(s Stats, cfg OptimizationConfig) []Recommendation {
	c := s.Concurrency
	cur, n := recommendConcurrencyCap(s, cfg)
	if n <= 1 || recommendExecutions(s) < recommendMinExecutions || c.Limit <= 0 || c.Level < c.Limit ||
		s.CPU.UsagePercent <= 0 || s.CPU.UsagePercent < cfg.CPUUsageThresholdPercent {
		return nil
	}
	lower := recommendClampInt("max_concurrent_executions", n-max(1, n*recommendConcurrencyShrinkPercent/100))
	return []Recommendation{recommendChange("cpu-saturation", PriorityHigh,
		ConfigChange{Field: "max_concurrent_executions", Current: cur, Recommended: lower},
		fmt.Sprintf("CPU use is %.0f%%, at or above cpu_usage_threshold_percent (%g%%), with every one of %d permits in use.",
			s.CPU.UsagePercent, cfg.CPUUsageThresholdPercent, c.Limit),
		"Fewer concurrent executions compete for the CPU, so each one finishes sooner.")}
}

func recommendRuleConcurrencySaturation(s Stats, cfg OptimizationConfig) []Recommendation {
	c := s.Concurrency
	cur, n := recommendConcurrencyCap(s, cfg)
	if n <= 0 || recommendExecutions(s) < recommendMinExecutions || c.Limit <= 0 ||
		c.Waiting < recommendConcurrencyMinWaiting || c.Level < c.Limit || c.Limit < n ||
		s.Memory.PressureLevel >= StatsPressureHigh || s.CPU.UsagePercent >= cfg.CPUUsageThresholdPercent {
		return nil
	}
	higher := recommendClampInt("max_concurrent_executions", n+max(1, n*recommendConcurrencyGrowPercent/100))
	if higher == n {
		return nil
	}
	return []Recommendation{recommendChange("concurrency-saturation", PriorityMedium,
		ConfigChange{Field: "max_concurrent_executions", Current: cur, Recommended: higher},
		fmt.Sprintf("All %d permits are in use and %d callers wait, while CPU use is %.0f%%.", c.Limit, c.Waiting, s.CPU.UsagePercent),
		"More executions run at once, so callers wait less.")}
}

func recommendRuleTelemetryDrops(s Stats, cfg OptimizationConfig) []Recommendation {
	t := s.Telemetry
	if !cfg.EnableOptimizedTelemetry || t.Recorded < recommendMinTelemetryRecorded {
		return nil
	}
	if t.SinkErrors > 0 {
		return []Recommendation{{ID: "telemetry-sink-errors", Priority: PriorityMedium,
			Description: fmt.Sprintf("The telemetry sink failed %d times; %d of %d events were dropped.", t.SinkErrors, t.Dropped, t.Recorded),
			Impact:      "Check the sink: a larger batch or a shorter interval does not help a failing sink."}}
	}
	if t.DropRate() < recommendTelemetryDropRate {
		return nil
	}
	p := PriorityMedium
	if t.DropRate() >= recommendTelemetryHighDropRate {
		p = PriorityHigh
	}
	what := fmt.Sprintf("The telemetry buffer dropped %d of %d events (%s).", t.Dropped, t.Recorded, recommendPct(t.DropRate()))
	var out []Recommendation
	if n, ok := recommendScaleInt("telemetry_batch_size", cfg.TelemetryBatchSize, recommendTelemetryGrowFactor); ok {
		out = append(out, recommendChange("telemetry-drops-batch", p,
			ConfigChange{Field: "telemetry_batch_size", Current: cfg.TelemetryBatchSize, Recommended: n},
			what, "Each export carries more events, so the exporter keeps up and the buffer stops overflowing."))
	}
	if cur := cfg.TelemetryFlushIntervalSeconds; cur > recommendTelemetryMinFlushSeconds {
		n := recommendClamp("telemetry_flush_interval_seconds", max(cur/recommendTelemetryFlushDivisor, recommendTelemetryMinFlushSeconds))
		out = append(out, recommendChange("telemetry-drops-flush", p,
			ConfigChange{Field: "telemetry_flush_interval_seconds", Current: cur, Recommended: n},
			what, "Partial batches leave the buffer sooner, so bursts find room."))
	}
	return out
}

func recommendRuleCacheLowHitRate(s Stats, cfg OptimizationConfig) []Recommendation {
	c := s.Cache
	if !cfg.EnableCacheOptimization || c.Lookups() < recommendMinCacheLookups || c.HitRate() >= recommendCacheLowHitRate {
		return nil
	}
	what := fmt.Sprintf("Cache hit rate is %s over %d lookups (%d evictions, %d expiries).", recommendPct(c.HitRate()), c.Lookups(), c.Evictions, c.Expiries)
	expiring := c.ExpiryRate() >= recommendCacheChurnRate
	evicting := c.EvictionRate() >= recommendCacheChurnRate
	switch {
	case !expiring && !evicting:
		return []Recommendation{recommendChange("cache-low-hit-rate", PriorityMedium,
			ConfigChange{Field: "enable_cache_optimization", Current: true, Recommended: false},
			what+" Entries are neither evicted nor expired: the inputs rarely repeat.",
			"Executions skip hashing inputs and storing results that are never reused.")}
	case s.Memory.PressureLevel != StatsPressureNone:
		return nil // growing the cache under memory pressure would make it worse
	case expiring && c.Expiries >= c.Evictions:
		n, ok := recommendScaleInt("cache_ttl_seconds", cfg.CacheTTLSeconds, recommendCacheGrowFactor)
		if !ok {
			return nil
		}
		return []Recommendation{recommendChange("cache-low-hit-rate", PriorityMedium,
			ConfigChange{Field: "cache_ttl_seconds", Current: cfg.CacheTTLSeconds, Recommended: n},
			what+" Entries expire before they are reused.",
			"Results live long enough to be reused.")}
	default:
		n, ok := recommendScaleInt("cache_max_size", cfg.CacheMaxSize, recommendCacheGrowFactor)
		if !ok {
			return nil
		}
		return []Recommendation{recommendChange("cache-low-hit-rate", PriorityMedium,
			ConfigChange{Field: "cache_max_size", Current: cfg.CacheMaxSize, Recommended: n},
			what+" Entries are evicted before they are reused.",
			"The cache holds the working set, so repeated inputs hit.")}
	}
}

func recommendRuleCacheHighEviction(s Stats, cfg OptimizationConfig) []Recommendation {
	c := s.Cache
	if !cfg.EnableCacheOptimization || c.Lookups() < recommendMinCacheLookups || c.HitRate() < recommendCacheLowHitRate ||
		c.EvictionRate() < recommendCacheHighEvictionRate || s.Memory.PressureLevel != StatsPressureNone {
		return nil
	}
	n, ok := recommendScaleInt("cache_max_size", cfg.CacheMaxSize, recommendCacheGrowFactor)
	if !ok {
		return nil
	}
	return []Recommendation{recommendChange("cache-high-eviction", PriorityMedium,
		ConfigChange{Field: "cache_max_size", Current: cfg.CacheMaxSize, Recommended: n},
		fmt.Sprintf("The cache evicts %d entries per 100 misses (%d evictions, %d misses, %d of %d entries in use); its hit rate is %s.",
			int(math.Round(100*c.EvictionRate())), c.Evictions, c.Misses, c.Size, c.Capacity, recommendPct(c.HitRate())),
		"Fewer useful results are pushed out, so the hit rate rises.")}
}

func recommendRulePoolExhaustion(s Stats, cfg OptimizationConfig) []Recommendation {
	p := s.Memory.ObjectPool
	if !cfg.EnableObjectPool || p.Hits+p.Misses < recommendMinPoolRequests || p.MissRate() < recommendPoolHighMissRate ||
		p.DropRate() < recommendPoolHighDropRate || s.Memory.PressureLevel != StatsPressureNone {
		return nil
	}
	n, ok := recommendScaleInt("object_pool_max_size", cfg.ObjectPoolMaxSize, recommendPoolGrowFactor)
	if !ok {
		return nil
	}
	return []Recommendation{recommendChange("pool-exhaustion", PriorityLow,
		ConfigChange{Field: "object_pool_max_size", Current: cfg.ObjectPoolMaxSize, Recommended: n},
		fmt.Sprintf("The object pools miss %s of %d requests while discarding %s of returned objects because they are full.",
			recommendPct(p.MissRate()), p.Hits+p.Misses, recommendPct(p.DropRate())),
		"Returned objects are kept for the next burst instead of being allocated again.")}
}

func recommendRulePoolIdle(s Stats, cfg OptimizationConfig) []Recommendation {
	p := s.Memory.ObjectPool
	if !cfg.EnableObjectPool || p.Idle < recommendPoolIdleMinObjects || p.Hits*recommendPoolIdleReuseFactor >= uint64(p.Idle) {
		return nil
	}
	n, ok := recommendDivideInt("object_pool_max_size", cfg.ObjectPoolMaxSize, recommendPoolShrinkDivisor)
	if !ok {
		return nil
	}
	return []Recommendation{recommendChange("pool-idle", PriorityLow,
		ConfigChange{Field: "object_pool_max_size", Current: cfg.ObjectPoolMaxSize, Recommended: n},
		fmt.Sprintf("The object pools hold %d idle objects but served only %d requests from them.", p.Idle, p.Hits),
		"Smaller pools keep fewer unused objects alive.")}
}

// recommendRuleDistributedDegraded: the shared store (flujo.WithShared)
// failed or timed out recently, or reports itself unhealthy, so the
// executor served from its local state: results computed again, breakers
// and budgets per replica. It names the store, the count and the last
// error; the fix is outside the configuration.
func recommendRuleDistributedDegraded(s Stats, _ OptimizationConfig) []Recommendation {
	d := s.Distributed
	if !d.Enabled || (d.RecentDegraded == 0 && d.Healthy) {
		return nil
	}
	store := d.Store
	if store == "" {
		store = "the shared store"
	}
	last := d.LastError
	if last == "" {
		last = "none recorded"
	}
	return []Recommendation{{
		ID: "distributed-degraded",
		Description: fmt.Sprintf("%s did not answer %d of %d calls (%d in the last minutes; healthy now: %t); last error: %s",
			store, d.Degraded, d.Calls, d.RecentDegraded, d.Healthy, last),
		Impact:   "while the store is unreachable or slow, replicas serve from local state: results are computed again on each replica, breakers open one replica at a time and budgets are kept per process; check the store's address, that it runs and is reachable, and that command_timeout_ms fits its latency",
		Priority: PriorityHigh,
	}}
}

// recommendRuleDistributedNotWired: the configuration file's distributed
// section turns sharing on, but the executor was given no shared services,
// so it shares nothing with the other replicas. The fix is in the code
// that builds the executor.
func recommendRuleDistributedNotWired(s Stats, _ OptimizationConfig) []Recommendation {
	d := s.Distributed
	if !d.Configured || d.Enabled {
		return nil
	}
	return []Recommendation{{
		ID:          "distributed-not-wired",
		Description: DistributedNotWired,
		Impact:      "each replica keeps its results, breakers and budgets to itself until the executor is given the store's services",
		Priority:    PriorityHigh,
	}}
}

// DistributedNotWired says that an executor's configuration turns sharing
// on while the executor was given no shared services, and how to fix it:
// the description of the recommendation "distributed-not-wired", which
// executors also log at warn level when they are built.
const DistributedNotWired = "the configuration's distributed section turns sharing on, but the executor was given no shared services, so it shares nothing with the other replicas; " +
	"build the store from the same file and pass its services: store, err := redis.FromConfigFile(ctx, path) (github.com/flujo/flujo/contrib/redis), then flujo.WithShared(store.Shared())"
