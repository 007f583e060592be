package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// recommendTestBase is a healthy executor with plenty of data: no rule fires.
func recommendTestBase() (Stats, OptimizationConfig) {
	cfg := DefaultOptimizationConfig()
	cfg.EnableCacheOptimization = true
	cfg.MaxConcurrentExecutions = intPtr(8)
	const n = 1000
	avg := cfg.SlowExecutionThresholdMs / 10
	step := StatsStep{
		Execution:      StatsExecution{Count: n / 2, TotalMs: n / 2 * avg},
		CircuitBreaker: StatsBreaker{Calls: n / 2, Failures: 5},
	}
	s := Stats{
		Memory: StatsMemory{
			UsageMB:    cfg.MemoryPressureThresholdMb / 5,
			ObjectPool: StatsPool{Gets: n, Hits: 9 * n / 10, Misses: n / 10, Puts: n, Idle: 10, Capacity: cfg.ObjectPoolMaxSize},
		},
		CPU:         StatsCPU{UsagePercent: cfg.CPUUsageThresholdPercent / 4},
		Execution:   StatsExecution{Count: n, TotalMs: n * avg},
		Cache:       StatsCache{Hits: 8 * n / 10, Misses: 2 * n / 10, Size: 200, Capacity: cfg.CacheMaxSize},
		Concurrency: StatsConcurrency{Level: 2, Limit: 8, Max: 8},
		Errors:      StatsErrors{Executions: n, Failures: 10, RecoveryAttempts: 20, Recoveries: 15},
		Telemetry:   StatsTelemetry{Recorded: n, Exported: n, BatchSize: cfg.TelemetryBatchSize, FlushIntervalSeconds: cfg.TelemetryFlushIntervalSeconds},
		Steps:       map[string]StatsStep{"a": step, "b": step},
	}
	return s, cfg
}

func recommendFind(recs []Recommendation, id string) (Recommendation, bool) {
	for _, r := range recs {
		if r.ID == id {
			return r, true
		}
	}
	return Recommendation{}, false
}

// recommendCheckApplies checks that the change starts from cfg's value and
// that its recommended value is accepted by cfg's validation.
func recommendCheckApplies(t *testing.T, cfg OptimizationConfig, r Recommendation) {
	t.Helper()
	ch := r.Change
	if ch.Field == "" || ch.Field == CacheAdmissionAction {
		return
	}
	if _, ok := LookupConfigField(ch.Field); !ok {
		t.Errorf("%s: change of unknown field %q", r.ID, ch.Field)
		return
	}
	if cur := cfg.ToMap()[ch.Field]; !reflect.DeepEqual(cur, ch.Current) {
		t.Errorf("%s: Current = %v (%T), config has %v (%T)", r.ID, ch.Current, ch.Current, cur, cur)
	}
	doc, err := json.Marshal(map[string]any{ch.Field: ch.Recommended})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Import(doc, "json"); err != nil {
		t.Errorf("%s: recommended %s is not a valid setting: %v", r.ID, doc, err)
	}
	if reflect.DeepEqual(ch.Current, ch.Recommended) {
		t.Errorf("%s: recommends the current value %v", r.ID, ch.Current)
	}
}

func recommendSetStep(s *Stats, name string, f func(*StatsStep)) {
	st := s.Steps[name]
	f(&st)
	s.Steps[name] = st
}

func TestRecommendHealthyAndEmptyGiveNothing(t *testing.T) {
	s, cfg := recommendTestBase()
	if recs := Recommend(s, cfg); recs != nil {
		t.Errorf("healthy executor got %+v", recs)
	}
	for _, p := range Profiles() {
		if recs := Recommend(Stats{Config: p.Config()}, p.Config()); recs != nil {
			t.Errorf("profile %s with no data got %+v", p.Name, recs)
		}
	}
}

func TestRecommendRules(t *testing.T) {
	type tc struct {
		name   string
		mutate func(*Stats, *OptimizationConfig)
		id     string
		fire   bool
		// When fire: the expected change and priority ("" skips the check).
		field       string
		current     any
		recommended any
		priority    RecommendationPriority
	}
	lookups := uint64(1000)
	lowHits := uint64(recommendCacheLowHitRate*float64(lookups)) - 1
	churn := func(misses uint64) uint64 { return uint64(math.Ceil(float64(misses) * recommendCacheChurnRate)) }
	avgOf := func(s *Stats, ms float64) { s.Execution.TotalMs = float64(s.Execution.Count) * ms }
	flapCalls := uint64(math.Round(recommendMinBreakerOpens / recommendBreakerFlapRate))
	failures := func(rate float64) uint64 { return uint64(rate * float64(flapCalls)) }
	saturate := func(s *Stats) {
		s.Concurrency.Level = s.Concurrency.Limit
		s.Concurrency.Waiting = recommendConcurrencyMinWaiting
	}

	cases := []tc{
		// Slow average.
		{name: "slow average, everything on: advice", id: "slow-average", fire: true, priority: PriorityMedium,
			mutate: func(s *Stats, c *OptimizationConfig) { avgOf(s, 1.5*c.SlowExecutionThresholdMs) }},
		{name: "slow average, step optimization off", id: "slow-average", fire: true, field: "enable_step_optimization", current: false, recommended: true,
			mutate: func(s *Stats, c *OptimizationConfig) {
				avgOf(s, 1.5*c.SlowExecutionThresholdMs)
				c.EnableStepOptimization = false
			}},
		{name: "very slow average, cache off", id: "slow-average", fire: true, field: "enable_cache_optimization", current: false, recommended: true, priority: PriorityHigh,
			mutate: func(s *Stats, c *OptimizationConfig) {
				avgOf(s, recommendSlowHighFactor*c.SlowExecutionThresholdMs)
				c.EnableCacheOptimization = false
			}},
		{name: "average at the threshold", id: "slow-average",
			mutate: func(s *Stats, c *OptimizationConfig) { avgOf(s, c.SlowExecutionThresholdMs) }},
		{name: "slow but too few executions", id: "slow-average",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Execution.Count = recommendMinExecutions - 1
				avgOf(s, 10*c.SlowExecutionThresholdMs)
			}},

		// Low cache hit rate.
		{name: "low hit rate, nothing evicted or expired: cache off", id: "cache-low-hit-rate", fire: true,
			field: "enable_cache_optimization", current: true, recommended: false, priority: PriorityMedium,
			mutate: func(s *Stats, c *OptimizationConfig) { s.Cache.Hits, s.Cache.Misses = lowHits, lookups-lowHits }},
		{name: "low hit rate, entries expire: longer TTL", id: "cache-low-hit-rate", fire: true,
			field: "cache_ttl_seconds", current: 7200, recommended: 2 * 7200,
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Cache.Hits, s.Cache.Misses = lowHits, lookups-lowHits
				s.Cache.Expiries = churn(s.Cache.Misses)
			}},
		{name: "low hit rate, entries evicted: bigger cache", id: "cache-low-hit-rate", fire: true,
			field: "cache_max_size", current: 500, recommended: 1000,
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Cache.Hits, s.Cache.Misses = lowHits, lookups-lowHits
				s.Cache.Evictions = churn(s.Cache.Misses)
			}},
		{name: "hit rate at the threshold", id: "cache-low-hit-rate",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Cache.Hits = uint64(recommendCacheLowHitRate * float64(lookups))
				s.Cache.Misses = lookups - s.Cache.Hits
			}},
		{name: "no hits but too few lookups", id: "cache-low-hit-rate",
			mutate: func(s *Stats, c *OptimizationConfig) { s.Cache.Hits, s.Cache.Misses = 0, recommendMinCacheLookups-1 }},
		{name: "low hit rate with evictions under memory pressure: no growth", id: "cache-low-hit-rate",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Cache.Hits, s.Cache.Misses = lowHits, lookups-lowHits
				s.Cache.Evictions = churn(s.Cache.Misses)
				s.Memory.PressureLevel = StatsPressureModerate
			}},

		// High eviction rate.
		{name: "useful cache evicting half its misses", id: "cache-high-eviction", fire: true,
			field: "cache_max_size", current: 500, recommended: 1000, priority: PriorityMedium,
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Cache.Evictions = uint64(recommendCacheHighEvictionRate * float64(s.Cache.Misses))
			}},
		{name: "eviction rate just below", id: "cache-high-eviction",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Cache.Evictions = uint64(recommendCacheHighEvictionRate*float64(s.Cache.Misses)) - 1
			}},

		// Object pool.
		{name: "pool misses while dropping returns", id: "pool-exhaustion", fire: true,
			field: "object_pool_max_size", current: 50, recommended: 100, priority: PriorityLow,
			mutate: func(s *Stats, c *OptimizationConfig) {
				p := &s.Memory.ObjectPool
				p.Misses = uint64(recommendPoolHighMissRate * recommendMinPoolRequests)
				p.Hits = recommendMinPoolRequests - p.Misses
				p.Drops = uint64(recommendPoolHighDropRate * 100)
				p.Puts = 100 - p.Drops
			}},
		{name: "pool misses, drops just below", id: "pool-exhaustion",
			mutate: func(s *Stats, c *OptimizationConfig) {
				p := &s.Memory.ObjectPool
				p.Misses = uint64(recommendPoolHighMissRate * recommendMinPoolRequests)
				p.Hits = recommendMinPoolRequests - p.Misses
				p.Drops = uint64(recommendPoolHighDropRate*100) - 1
				p.Puts = 100 - p.Drops
			}},
		{name: "idle pool", id: "pool-idle", fire: true,
			field: "object_pool_max_size", current: 50, recommended: 25, priority: PriorityLow,
			mutate: func(s *Stats, c *OptimizationConfig) {
				p := &s.Memory.ObjectPool
				p.Idle = recommendPoolIdleMinObjects
				p.Hits = uint64(p.Idle/recommendPoolIdleReuseFactor) - 1
			}},
		{name: "idle objects reused just enough", id: "pool-idle",
			mutate: func(s *Stats, c *OptimizationConfig) {
				p := &s.Memory.ObjectPool
				p.Idle = recommendPoolIdleMinObjects
				p.Hits = uint64(p.Idle / recommendPoolIdleReuseFactor)
			}},

		// Breaker flapping.
		{name: "flapping with sporadic failures: higher threshold", id: "breaker-flapping", fire: true,
			field: "circuit_breaker_failure_threshold", current: 10, recommended: 20, priority: PriorityMedium,
			mutate: func(s *Stats, c *OptimizationConfig) {
				recommendSetStep(s, "a", func(st *StatsStep) {
					st.CircuitBreaker = StatsBreaker{Calls: flapCalls, Opens: recommendMinBreakerOpens, Failures: failures(recommendBreakerSporadicFailureRate / 2)}
				})
			}},
		{name: "flapping with real failures: longer recovery", id: "breaker-flapping", fire: true,
			field: "circuit_breaker_recovery_timeout_seconds", current: 60, recommended: 120,
			mutate: func(s *Stats, c *OptimizationConfig) {
				recommendSetStep(s, "b", func(st *StatsStep) {
					st.CircuitBreaker = StatsBreaker{Calls: flapCalls, Opens: recommendMinBreakerOpens, Failures: failures(recommendBreakerSporadicFailureRate)}
				})
			}},
		{name: "flapping twice as often", id: "breaker-flapping", fire: true, priority: PriorityHigh,
			mutate: func(s *Stats, c *OptimizationConfig) {
				recommendSetStep(s, "a", func(st *StatsStep) {
					st.CircuitBreaker = StatsBreaker{Calls: flapCalls, Opens: 2 * recommendMinBreakerOpens}
				})
			}},
		{name: "open rate just below", id: "breaker-flapping",
			mutate: func(s *Stats, c *OptimizationConfig) {
				recommendSetStep(s, "a", func(st *StatsStep) {
					st.CircuitBreaker = StatsBreaker{Calls: flapCalls + 1, Opens: recommendMinBreakerOpens}
				})
			}},
		{name: "too few opens", id: "breaker-flapping",
			mutate: func(s *Stats, c *OptimizationConfig) {
				recommendSetStep(s, "a", func(st *StatsStep) {
					st.CircuitBreaker = StatsBreaker{Calls: recommendMinBreakerCalls, Opens: recommendMinBreakerOpens - 1}
				})
			}},

		// High error rate with low recovery.
		{name: "errors that rarely recover: lower threshold", id: "errors-low-recovery", fire: true,
			field: "circuit_breaker_failure_threshold", current: 10, recommended: 5, priority: PriorityHigh,
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Errors.Failures = uint64(recommendHighErrorRate * float64(s.Errors.Executions))
				s.Errors.Recoveries = uint64(recommendLowRecoveryRate*float64(s.Errors.RecoveryAttempts)) - 1
			}},
		{name: "errors that rarely recover, breaker off", id: "errors-low-recovery", fire: true,
			field: "enable_circuit_breaker", current: false, recommended: true,
			mutate: func(s *Stats, c *OptimizationConfig) {
				c.EnableCircuitBreaker = false
				s.Errors.Failures = uint64(recommendHighErrorRate * float64(s.Errors.Executions))
				s.Errors.Recoveries = uint64(recommendLowRecoveryRate*float64(s.Errors.RecoveryAttempts)) - 1
			}},
		{name: "recovery rate at the threshold", id: "errors-low-recovery",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Errors.Failures = uint64(recommendHighErrorRate * float64(s.Errors.Executions))
				s.Errors.Recoveries = uint64(recommendLowRecoveryRate * float64(s.Errors.RecoveryAttempts))
			}},
		{name: "error rate just below", id: "errors-low-recovery",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Errors.Failures = uint64(recommendHighErrorRate*float64(s.Errors.Executions)) - 1
				s.Errors.Recoveries = 0
			}},

		// Telemetry drops.
		{name: "telemetry drops: bigger batch", id: "telemetry-drops-batch", fire: true,
			field: "telemetry_batch_size", current: 10, recommended: 20, priority: PriorityMedium,
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Telemetry.Dropped = uint64(recommendTelemetryDropRate * float64(s.Telemetry.Recorded))
			}},
		{name: "telemetry drops: shorter interval", id: "telemetry-drops-flush", fire: true,
			field: "telemetry_flush_interval_seconds", current: 30.0, recommended: 15.0,
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Telemetry.Dropped = uint64(recommendTelemetryDropRate * float64(s.Telemetry.Recorded))
			}},
		{name: "telemetry drops: interval floor", id: "telemetry-drops-flush", fire: true,
			field: "telemetry_flush_interval_seconds", current: 1.5 * recommendTelemetryMinFlushSeconds, recommended: recommendTelemetryMinFlushSeconds,
			mutate: func(s *Stats, c *OptimizationConfig) {
				c.TelemetryFlushIntervalSeconds = 1.5 * recommendTelemetryMinFlushSeconds
				s.Telemetry.Dropped = uint64(recommendTelemetryDropRate * float64(s.Telemetry.Recorded))
			}},
		{name: "telemetry drops: interval at the floor", id: "telemetry-drops-flush",
			mutate: func(s *Stats, c *OptimizationConfig) {
				c.TelemetryFlushIntervalSeconds = recommendTelemetryMinFlushSeconds
				s.Telemetry.Dropped = uint64(recommendTelemetryDropRate * float64(s.Telemetry.Recorded))
			}},
		{name: "many telemetry drops", id: "telemetry-drops-batch", fire: true, priority: PriorityHigh,
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Telemetry.Dropped = uint64(recommendTelemetryHighDropRate * float64(s.Telemetry.Recorded))
			}},
		{name: "telemetry drop rate just below", id: "telemetry-drops-batch",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Telemetry.Dropped = uint64(recommendTelemetryDropRate*float64(s.Telemetry.Recorded)) - 1
			}},
		{name: "drops from a failing sink: no batch change", id: "telemetry-drops-batch",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Telemetry.Dropped = uint64(recommendTelemetryHighDropRate * float64(s.Telemetry.Recorded))
				s.Telemetry.SinkErrors = 1
			}},
		{name: "drops from a failing sink: advice", id: "telemetry-sink-errors", fire: true, priority: PriorityMedium,
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Telemetry.Dropped = uint64(recommendTelemetryHighDropRate * float64(s.Telemetry.Recorded))
				s.Telemetry.SinkErrors = 1
			}},

		// Memory pressure.
		{name: "moderate pressure: smaller cache", id: "memory-pressure-cache-size", fire: true,
			field: "cache_max_size", current: 500, recommended: 250, priority: PriorityMedium,
			mutate: func(s *Stats, c *OptimizationConfig) { s.Memory.PressureLevel = StatsPressureModerate }},
		{name: "moderate pressure: compression", id: "memory-pressure-cache-compression", fire: true,
			field: "cache_compression", current: false, recommended: true,
			mutate: func(s *Stats, c *OptimizationConfig) { s.Memory.PressureLevel = StatsPressureModerate }},
		{name: "moderate pressure: smaller pools", id: "memory-pressure-pool-size", fire: true,
			field: "object_pool_max_size", current: 50, recommended: 25,
			mutate: func(s *Stats, c *OptimizationConfig) { s.Memory.PressureLevel = StatsPressureModerate }},
		{name: "critical pressure: high priority", id: "memory-pressure-pool-size", fire: true, priority: PriorityHigh,
			mutate: func(s *Stats, c *OptimizationConfig) { s.Memory.PressureLevel = StatsPressureCritical }},
		{name: "no pressure", id: "memory-pressure-cache-size",
			mutate: func(s *Stats, c *OptimizationConfig) { s.Memory.UsageMB = c.MemoryPressureThresholdMb * 2 }},
		{name: "moderate pressure keeps cache admission", id: "memory-pressure-cache-admission",
			mutate: func(s *Stats, c *OptimizationConfig) { s.Memory.PressureLevel = StatsPressureModerate }},
		{name: "high pressure pauses cache admission", id: "memory-pressure-cache-admission", fire: true,
			field: CacheAdmissionAction, current: true, recommended: false, priority: PriorityHigh,
			mutate: func(s *Stats, c *OptimizationConfig) { s.Memory.PressureLevel = StatsPressureHigh }},
		{name: "high pressure, admission already paused", id: "memory-pressure-cache-admission",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Memory.PressureLevel = StatsPressureHigh
				s.Cache.AdmissionPaused = true
			}},
		{name: "pressure gone: resume admission", id: "cache-admission-resume", fire: true,
			field: CacheAdmissionAction, current: false, recommended: true, priority: PriorityLow,
			mutate: func(s *Stats, c *OptimizationConfig) { s.Cache.AdmissionPaused = true }},
		{name: "moderate pressure: keep admission paused", id: "cache-admission-resume",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Cache.AdmissionPaused = true
				s.Memory.PressureLevel = StatsPressureModerate
			}},
		{name: "memory over threshold with nothing reacting", id: "memory-optimization-off", fire: true,
			field: "enable_memory_optimization", current: false, recommended: true,
			mutate: func(s *Stats, c *OptimizationConfig) {
				c.EnableMemoryOptimization = false
				s.Memory.UsageMB = c.MemoryPressureThresholdMb
			}},
		{name: "memory just under threshold with nothing reacting", id: "memory-optimization-off",
			mutate: func(s *Stats, c *OptimizationConfig) {
				c.EnableMemoryOptimization = false
				s.Memory.UsageMB = math.Nextafter(c.MemoryPressureThresholdMb, 0)
			}},

		// Concurrency saturation.
		{name: "saturated at the cap", id: "concurrency-saturation", fire: true,
			field: "max_concurrent_executions", current: 8, recommended: 8 + 8*recommendConcurrencyGrowPercent/100, priority: PriorityMedium,
			mutate: func(s *Stats, c *OptimizationConfig) { saturate(s) }},
		{name: "saturated at a derived cap", id: "concurrency-saturation", fire: true,
			field: "max_concurrent_executions", current: nil, recommended: 8 + 8*recommendConcurrencyGrowPercent/100,
			mutate: func(s *Stats, c *OptimizationConfig) {
				c.MaxConcurrentExecutions = nil
				saturate(s)
			}},
		{name: "saturated at a cap of one", id: "concurrency-saturation", fire: true,
			field: "max_concurrent_executions", current: 1, recommended: 2,
			mutate: func(s *Stats, c *OptimizationConfig) {
				c.MaxConcurrentExecutions = intPtr(1)
				s.Concurrency.Limit, s.Concurrency.Max = 1, 1
				saturate(s)
			}},
		{name: "all permits used, nobody waits", id: "concurrency-saturation",
			mutate: func(s *Stats, c *OptimizationConfig) {
				saturate(s)
				s.Concurrency.Waiting = recommendConcurrencyMinWaiting - 1
			}},
		{name: "saturated below the cap (adaptive limit)", id: "concurrency-saturation",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Concurrency.Limit = s.Concurrency.Max - 1
				saturate(s)
			}},
		{name: "saturated with the CPU busy", id: "concurrency-saturation",
			mutate: func(s *Stats, c *OptimizationConfig) {
				saturate(s)
				s.CPU.UsagePercent = c.CPUUsageThresholdPercent
			}},
		{name: "saturated under high memory pressure", id: "concurrency-saturation",
			mutate: func(s *Stats, c *OptimizationConfig) {
				saturate(s)
				s.Memory.PressureLevel = StatsPressureHigh
			}},

		// CPU saturation.
		{name: "CPU at threshold with every permit used", id: "cpu-saturation", fire: true,
			field: "max_concurrent_executions", current: 8, recommended: 8 - 8*recommendConcurrencyShrinkPercent/100, priority: PriorityHigh,
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Concurrency.Level = s.Concurrency.Limit
				s.CPU.UsagePercent = c.CPUUsageThresholdPercent
			}},
		{name: "CPU just under threshold", id: "cpu-saturation",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Concurrency.Level = s.Concurrency.Limit
				s.CPU.UsagePercent = math.Nextafter(c.CPUUsageThresholdPercent, 0)
			}},
		{name: "CPU busy with permits free", id: "cpu-saturation",
			mutate: func(s *Stats, c *OptimizationConfig) {
				s.Concurrency.Level = s.Concurrency.Limit - 1
				s.CPU.UsagePercent = c.CPUUsageThresholdPercent
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, cfg := recommendTestBase()
			c.mutate(&s, &cfg)
			s.Config = cfg
			recs := Recommend(s, cfg)
			for _, r := range recs {
				recommendCheckApplies(t, cfg, r)
				if r.Automatic != r.Change.IsRuntime() {
					t.Errorf("%s: Automatic = %v for a change of %q", r.ID, r.Automatic, r.Change.Field)
				}
				if r.Description == "" || r.Impact == "" {
					t.Errorf("%s: empty description or impact", r.ID)
				}
			}
			r, found := recommendFind(recs, c.id)
			if found != c.fire {
				t.Fatalf("rule %s fired = %v, want %v; got %+v", c.id, found, c.fire, recs)
			}
			if !c.fire {
				return
			}
			if c.field != "" {
				want := ConfigChange{Field: c.field, Current: c.current, Recommended: c.recommended}
				if !reflect.DeepEqual(r.Change, want) {
					t.Errorf("change = %#v, want %#v", r.Change, want)
				}
			}
			if c.priority != "" && r.Priority != c.priority {
				t.Errorf("priority = %s, want %s", r.Priority, c.priority)
			}
		})
	}
}

func TestRecommendOrderAndOneChangePerField(t *testing.T) {
	s, cfg := recommendTestBase()
	// Many rules at once, two of them on object_pool_max_size.
	s.Memory.PressureLevel = StatsPressureModerate
	s.Memory.ObjectPool.Idle = recommendPoolIdleMinObjects
	s.Memory.ObjectPool.Hits = 0
	s.Telemetry.Dropped = s.Telemetry.Recorded / 10
	s.Cache.Hits, s.Cache.Misses = 0, 1000
	s.Errors.Failures = s.Errors.Executions / 2
	s.Errors.Recoveries = 0
	avgOf := 3 * cfg.SlowExecutionThresholdMs
	s.Execution.TotalMs = float64(s.Execution.Count) * avgOf
	recommendSetStep(&s, "b", func(st *StatsStep) { st.Execution.TotalMs = float64(st.Execution.Count) * avgOf })

	recs := Recommend(s, cfg)
	if len(recs) < 5 {
		t.Fatalf("expected many recommendations, got %+v", recs)
	}
	fields := map[string]string{}
	for i, r := range recs {
		if i > 0 && recs[i-1].Priority.rank() > r.Priority.rank() {
			t.Errorf("%s (%s) sorted after %s (%s)", r.ID, r.Priority, recs[i-1].ID, recs[i-1].Priority)
		}
		if f := r.Change.Field; f != "" {
			if prev, dup := fields[f]; dup {
				t.Errorf("%s and %s both change %s", prev, r.ID, f)
			}
			fields[f] = r.ID
		}
	}
	if got := fields["object_pool_max_size"]; got != "memory-pressure-pool-size" {
		t.Errorf("object_pool_max_size changed by %q, want the higher-priority memory-pressure-pool-size", got)
	}
	slow, ok := recommendFind(recs, "slow-average")
	if !ok || !strings.Contains(slow.Description, "b (") || strings.Contains(slow.Description, "a (") {
		t.Errorf("slow-average should name the slow step b only: %+v", slow)
	}
	for range 10 {
		if again := Recommend(s.Clone(), cfg); !reflect.DeepEqual(again, recs) {
			t.Fatalf("Recommend is not deterministic:\n%+v\n%+v", recs, again)
		}
	}
}

func TestRecommendationJSON(t *testing.T) {
	s, cfg := recommendTestBase()
	s.Execution.TotalMs = float64(s.Execution.Count) * 2 * cfg.SlowExecutionThresholdMs
	s.Telemetry.Dropped = s.Telemetry.Recorded / 10
	recs := Recommend(s, cfg)
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		_, hasChange := back[i]["change"]
		if hasChange != (r.Change.Field != "") {
			t.Errorf("%s: change encoded = %v, want it only when there is a change: %s", r.ID, hasChange, b)
		}
		for _, k := range []string{"id", "description", "impact", "priority", "automatic"} {
			if _, ok := back[i][k]; !ok {
				t.Errorf("%s: no %q in %s", r.ID, k, b)
			}
		}
	}
}

func TestRecommendClamp(t *testing.T) {
	cases := []struct {
		field string
		in    float64
		want  float64
	}{
		{"telemetry_batch_size", 2 * DefaultTelemetryBufferSize, DefaultTelemetryBufferSize},
		{"object_pool_max_size", 0, 1},
		{"telemetry_flush_interval_seconds", 0, 0.001},
		{"performance_degradation_threshold", 0, math.Nextafter(0, 1)},
		{"cache_ttl_seconds", 10, 10},
		{"enable_cache_optimization", 3, 3},
	}
	for _, c := range cases {
		if got := recommendClamp(c.field, c.in); got != c.want {
			t.Errorf("recommendClamp(%s, %v) = %v, want %v", c.field, c.in, got, c.want)
		}
	}
	// At the top of a range there is nothing left to recommend.
	s, cfg := recommendTestBase()
	cfg.TelemetryBatchSize = DefaultTelemetryBufferSize
	s.Telemetry.Dropped = s.Telemetry.Recorded / 10
	if _, ok := recommendFind(Recommend(s, cfg), "telemetry-drops-batch"); ok {
		t.Error("recommended a batch size beyond the field's maximum")
	}
}

func ExampleRecommend() {
	cfg := DefaultOptimizationConfig()
	cfg.EnableCacheOptimization = true
	s := Stats{
		Cache:     StatsCache{Hits: 50, Misses: 950, Evictions: 400, Size: 500, Capacity: 500},
		Telemetry: StatsTelemetry{Recorded: 5000, Exported: 4500, Dropped: 500},
		Config:    cfg,
	}
	for _, r := range Recommend(s, cfg) {
		fmt.Printf("%s %s: %s %v -> %v (automatic %v)\n",
			r.Priority, r.ID, r.Change.Field, r.Change.Current, r.Change.Recommended, r.Automatic)
	}
	// Output:
	// high telemetry-drops-batch: telemetry_batch_size 10 -> 20 (automatic true)
	// high telemetry-drops-flush: telemetry_flush_interval_seconds 30 -> 15 (automatic true)
	// medium cache-low-hit-rate: cache_max_size 500 -> 1000 (automatic false)
}

// TestRecommendTelemetryBatchFitsBuffer: near the telemetry buffer's size,
// the batch recommendation stops at it, and every recommended batch size
// builds a Telemetry, so the auto-tuner's change can be applied.
func TestRecommendTelemetryBatchFitsBuffer(t *testing.T) {
	for _, cur := range []int{DefaultTelemetryBufferSize / 4, DefaultTelemetryBufferSize/2 + 1, DefaultTelemetryBufferSize - 1} {
		s, cfg := recommendTestBase()
		cfg.TelemetryBatchSize = cur
		s.Telemetry.Dropped = s.Telemetry.Recorded / 10
		r, ok := recommendFind(Recommend(s, cfg), "telemetry-drops-batch")
		if !ok {
			t.Fatalf("batch %d: no batch recommendation", cur)
		}
		n, _ := r.Change.Recommended.(int)
		if n <= cur || n > DefaultTelemetryBufferSize {
			t.Errorf("batch %d: recommended %v, want above it and at most %d", cur, r.Change.Recommended, DefaultTelemetryBufferSize)
		}
		tel, err := NewTelemetry(TelemetryOptions{BatchSize: n, FlushInterval: time.Hour, Sink: NewMemorySink()})
		if err != nil {
			t.Errorf("batch %d: recommended %d, which Telemetry rejects: %v", cur, n, err)
			continue
		}
		tel.Close(context.Background())
	}
}

// TestValidateTelemetryBatchAboveBuffer: a batch larger than the buffer is
// a configuration error, not a failure when the executor starts.
func TestValidateTelemetryBatchAboveBuffer(t *testing.T) {
	cfg := DefaultOptimizationConfig()
	cfg.TelemetryBatchSize = DefaultTelemetryBufferSize + 1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "telemetry_batch_size") {
		t.Errorf("Validate: %v, want telemetry_batch_size named", err)
	}
	cfg.TelemetryBatchSize = DefaultTelemetryBufferSize
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate at the buffer size: %v", err)
	}
}
