package runtime

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// statsSample is a snapshot with every counter set to a distinct value.
func statsSample() Stats {
	cfg := DefaultOptimizationConfig()
	cfg.MaxConcurrentExecutions = intPtr(12)
	return Stats{
		Memory: StatsMemory{
			UsageMB:       321.5,
			PressureLevel: StatsPressureHigh,
			ObjectPool:    StatsPool{Gets: 40, Hits: 30, Misses: 10, Puts: 35, Drops: 5, Idle: 20, Capacity: 50},
		},
		CPU:         StatsCPU{UsagePercent: 42},
		Execution:   StatsExecution{Count: 8, TotalMs: 100, P50Ms: 10, P95Ms: 30, P99Ms: 35, MaxMs: 40, Slow: 2, Regression: true},
		Cache:       StatsCache{Hits: 6, Misses: 2, Evictions: 1, Expiries: 1, Size: 7, Capacity: 10},
		Concurrency: StatsConcurrency{Level: 3, Limit: 4, Max: 12, Waiting: 1, Rejected: 2},
		Errors:      StatsErrors{Executions: 8, Failures: 2, RecoveryAttempts: 4, Recoveries: 3, Retries: 5, SkippedRetries: 1, CachedPatterns: 2},
		Telemetry:   StatsTelemetry{Recorded: 100, Exported: 90, Dropped: 4, SinkErrors: 1, Batches: 9, BatchSize: 10, FlushIntervalSeconds: 30},
		Steps: map[string]StatsStep{
			"zeta":  {Execution: StatsExecution{Count: 3, TotalMs: 30}, CircuitBreaker: StatsBreaker{State: StatsBreakerHalfOpen, Calls: 3, Failures: 1, Opens: 1}},
			"alpha": {Execution: StatsExecution{Count: 5, TotalMs: 70}, CircuitBreaker: StatsBreaker{State: StatsBreakerOpen, Calls: 5, Failures: 4, Rejections: 2, Opens: 2}},
			"mid":   {Execution: StatsExecution{Count: 0}},
		},
		Config: cfg,
	}
}

func TestStatsRatesZeroDenominators(t *testing.T) {
	var s Stats
	rates := map[string]float64{
		"pool hit":        s.Memory.ObjectPool.HitRate(),
		"pool miss":       s.Memory.ObjectPool.MissRate(),
		"pool drop":       s.Memory.ObjectPool.DropRate(),
		"pool util":       s.Memory.ObjectPool.Utilization(),
		"avg":             s.Execution.AvgTimeMs(),
		"slow":            s.Execution.SlowRate(),
		"cache hit":       s.Cache.HitRate(),
		"cache evict":     s.Cache.EvictionRate(),
		"cache expiry":    s.Cache.ExpiryRate(),
		"cache util":      s.Cache.Utilization(),
		"saturation":      s.Concurrency.Saturation(),
		"error":           s.Errors.ErrorRate(),
		"recovery":        s.Errors.RecoverySuccessRate(),
		"breaker failure": StatsBreaker{}.FailureRate(),
		"breaker open":    StatsBreaker{}.OpenRate(),
		"telemetry drop":  s.Telemetry.DropRate(),
		"negative cap":    StatsPool{Idle: 3, Capacity: -1}.Utilization(),
	}
	for name, r := range rates {
		if r != 0 || math.IsNaN(r) {
			t.Errorf("%s rate with zero denominator = %v, want 0", name, r)
		}
	}
	for name, v := range s.Metrics() {
		if v != 0 {
			t.Errorf("Metrics()[%s] of zero Stats = %v, want 0", name, v)
		}
	}
	if _, err := json.Marshal(s); err != nil {
		t.Fatalf("zero Stats does not encode: %v", err)
	}
}

func TestStatsRatesFollowCounters(t *testing.T) {
	for _, n := range []uint64{1, 3, 7, 100} {
		for _, d := range []uint64{1, 5, 9} {
			c := StatsCache{Hits: n, Misses: d, Evictions: d / 2, Expiries: d / 3, Size: int(n), Capacity: int(n + d)}
			if got, want := c.HitRate(), float64(n)/float64(n+d); got != want {
				t.Errorf("HitRate(%d hits, %d misses) = %v, want %v", n, d, got, want)
			}
			if got, want := c.EvictionRate(), float64(d/2)/float64(d); got != want {
				t.Errorf("EvictionRate = %v, want %v", got, want)
			}
			if got, want := c.Utilization(), float64(n)/float64(n+d); got != want {
				t.Errorf("Utilization = %v, want %v", got, want)
			}
			e := StatsErrors{Executions: n + d, Failures: n, RecoveryAttempts: n + d, Recoveries: d}
			if got, want := e.ErrorRate(), float64(n)/float64(n+d); got != want {
				t.Errorf("ErrorRate = %v, want %v", got, want)
			}
			if got, want := e.RecoverySuccessRate(), float64(d)/float64(n+d); got != want {
				t.Errorf("RecoverySuccessRate = %v, want %v", got, want)
			}
			x := StatsExecution{Count: d, TotalMs: float64(n), Slow: d / 2}
			if got, want := x.AvgTimeMs(), float64(n)/float64(d); got != want {
				t.Errorf("AvgTimeMs = %v, want %v", got, want)
			}
			tel := StatsTelemetry{Recorded: n + d, Exported: n, Dropped: d / 2}
			if got, want := tel.Pending(), n+d-n-d/2; got != want {
				t.Errorf("Pending = %d, want %d", got, want)
			}
		}
	}
	if got := (StatsTelemetry{Recorded: 5, Exported: 4, Dropped: 3}).Pending(); got != 0 {
		t.Errorf("Pending when exported+dropped > recorded (racy read) = %d, want 0", got)
	}
}

// statsJSONPath walks a decoded JSON document along a dotted path.
func statsJSONPath(t *testing.T, doc map[string]any, path string) any {
	t.Helper()
	var cur any = doc
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: %v is not an object", path, cur)
		}
		if cur, ok = m[part]; !ok {
			t.Fatalf("%s: no key %q (have %v)", path, part, slices.Sorted(func(yield func(string) bool) {
				for k := range m {
					if !yield(k) {
						return
					}
				}
			}))
		}
	}
	return cur
}

func TestStatsJSONNamesFollowTheGuide(t *testing.T) {
	s := statsSample()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"memory.usage_mb":                               s.Memory.UsageMB,
		"memory.pressure_level":                         "high",
		"memory.object_pool_utilization":                s.Memory.ObjectPool.Utilization(),
		"memory.object_pool.hit_rate":                   s.Memory.ObjectPool.HitRate(),
		"memory.object_pool.drops":                      float64(s.Memory.ObjectPool.Drops),
		"cpu.usage_percent":                             s.CPU.UsagePercent,
		"cache.hit_rate":                                s.Cache.HitRate(),
		"cache.hits":                                    float64(s.Cache.Hits),
		"cache.misses":                                  float64(s.Cache.Misses),
		"cache.evictions":                               float64(s.Cache.Evictions),
		"cache.expiries":                                float64(s.Cache.Expiries),
		"cache.size":                                    float64(s.Cache.Size),
		"cache.capacity":                                float64(s.Cache.Capacity),
		"cache.eviction_rate":                           s.Cache.EvictionRate(),
		"cache.admission_paused":                        false,
		"execution.avg_time_ms":                         s.Execution.AvgTimeMs(),
		"execution.p50_ms":                              s.Execution.P50Ms,
		"execution.p95_ms":                              s.Execution.P95Ms,
		"execution.p99_ms":                              s.Execution.P99Ms,
		"execution.max_ms":                              s.Execution.MaxMs,
		"execution.count":                               float64(s.Execution.Count),
		"execution.slow":                                float64(s.Execution.Slow),
		"execution.regression":                          true,
		"concurrency.level":                             float64(s.Concurrency.Level),
		"concurrency.limit":                             float64(s.Concurrency.Limit),
		"concurrency.waiting":                           float64(s.Concurrency.Waiting),
		"errors.error_rate":                             s.Errors.ErrorRate(),
		"errors.recovery_success_rate":                  s.Errors.RecoverySuccessRate(),
		"errors.skipped_retries":                        float64(s.Errors.SkippedRetries),
		"circuit_breaker.state":                         "open",
		"circuit_breaker.open":                          float64(1),
		"circuit_breaker.half_open":                     float64(1),
		"circuit_breaker.closed":                        float64(1),
		"circuit_breaker.opens":                         float64(3),
		"telemetry.recorded":                            float64(s.Telemetry.Recorded),
		"telemetry.exported":                            float64(s.Telemetry.Exported),
		"telemetry.dropped":                             float64(s.Telemetry.Dropped),
		"telemetry.sink_errors":                         float64(s.Telemetry.SinkErrors),
		"telemetry.drop_rate":                           s.Telemetry.DropRate(),
		"steps.alpha.circuit_breaker.state":             "open",
		"steps.zeta.circuit_breaker.state":              "half_open",
		"steps.alpha.execution.avg_time_ms":             s.Steps["alpha"].Execution.AvgTimeMs(),
		"config.cache_max_size":                         float64(s.Config.CacheMaxSize),
		"config.max_concurrent_executions":              float64(*s.Config.MaxConcurrentExecutions),
		"config.optimization_analysis_interval_seconds": s.Config.OptimizationAnalysisIntervalSeconds,
	}
	for path, w := range want {
		if got := statsJSONPath(t, doc, path); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %v (%T), want %v (%T)", path, got, got, w, w)
		}
	}
}

func TestStatsJSONIsDeterministic(t *testing.T) {
	s := statsSample()
	for i := range 50 {
		s.Steps[strings.Repeat("s", i%7)+string(rune('a'+i%26))] = StatsStep{Execution: StatsExecution{Count: uint64(i)}}
	}
	first, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		b, err := json.Marshal(s.Clone())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, first) {
			t.Fatalf("encoding differs between runs:\n%s\n%s", first, b)
		}
	}
	names := s.StepNames()
	if !slices.IsSorted(names) || len(names) != len(s.Steps) {
		t.Fatalf("StepNames = %v, want every step, sorted", names)
	}
	last := -1
	for _, n := range names {
		i := bytes.Index(first, []byte(`"`+n+`":{"execution"`))
		if i < last {
			t.Fatalf("step %q encoded out of order", n)
		}
		last = i
	}
}

func TestStatsJSONRoundTrip(t *testing.T) {
	s := statsSample()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Stats
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip changed the snapshot:\n got %+v\nwant %+v", back, s)
	}
}

func TestStatsMetricsHasTheGuideNames(t *testing.T) {
	s := statsSample()
	m := s.Metrics()
	guide := []string{
		"object_pool_utilization", "memory_usage_mb", "memory_pressure_level",
		"execution_time_ms", "cache_hit_rate", "concurrency_level",
		"error_rate", "circuit_breaker_state", "recovery_success_rate",
	}
	slices.Sort(guide)
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(got, guide) {
		t.Fatalf("Metrics keys = %v, want %v", got, guide)
	}
	if !slices.Equal(StatsMetricNames(), guide) {
		t.Fatalf("StatsMetricNames = %v, want %v", StatsMetricNames(), guide)
	}
	want := map[string]float64{
		StatsMetricObjectPoolUtilization: s.Memory.ObjectPool.Utilization(),
		StatsMetricMemoryUsageMB:         s.Memory.UsageMB,
		StatsMetricMemoryPressureLevel:   float64(StatsPressureHigh),
		StatsMetricExecutionTimeMs:       s.Execution.AvgTimeMs(),
		StatsMetricCacheHitRate:          s.Cache.HitRate(),
		StatsMetricConcurrencyLevel:      float64(s.Concurrency.Level),
		StatsMetricErrorRate:             s.Errors.ErrorRate(),
		StatsMetricCircuitBreakerState:   float64(StatsBreakerOpen),
		StatsMetricRecoverySuccessRate:   s.Errors.RecoverySuccessRate(),
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("Metrics = %v, want %v", m, want)
	}
}

// TestStatsMetricsMoveWithCounters guards against figures that do not come
// from the counters: changing each counter must change its metric.
func TestStatsMetricsMoveWithCounters(t *testing.T) {
	base := statsSample()
	cases := []struct {
		metric string
		mutate func(*Stats)
	}{
		{StatsMetricObjectPoolUtilization, func(s *Stats) { s.Memory.ObjectPool.Idle++ }},
		{StatsMetricMemoryUsageMB, func(s *Stats) { s.Memory.UsageMB *= 2 }},
		{StatsMetricMemoryPressureLevel, func(s *Stats) { s.Memory.PressureLevel = StatsPressureCritical }},
		{StatsMetricExecutionTimeMs, func(s *Stats) { s.Execution.TotalMs += 50 }},
		{StatsMetricCacheHitRate, func(s *Stats) { s.Cache.Hits += 10 }},
		{StatsMetricConcurrencyLevel, func(s *Stats) { s.Concurrency.Level++ }},
		{StatsMetricErrorRate, func(s *Stats) { s.Errors.Failures++ }},
		{StatsMetricCircuitBreakerState, func(s *Stats) {
			a := s.Steps["alpha"]
			a.CircuitBreaker.State = StatsBreakerClosed
			s.Steps["alpha"] = a
		}},
		{StatsMetricRecoverySuccessRate, func(s *Stats) { s.Errors.Recoveries-- }},
	}
	for _, c := range cases {
		s := base.Clone()
		c.mutate(&s)
		if before, after := base.Metrics()[c.metric], s.Metrics()[c.metric]; before == after {
			t.Errorf("%s stayed %v after its counters changed", c.metric, before)
		}
	}
}

func TestStatsSub(t *testing.T) {
	prev := statsSample()
	cur := prev.Clone()
	cur.Cache.Hits += 10
	cur.Cache.Misses += 5
	cur.Cache.Size = 9
	cur.Execution.Count += 4
	cur.Execution.TotalMs += 200
	cur.Execution.Slow += 1
	cur.Execution.Failures += 2
	cur.Execution.P99Ms = 77
	cur.Errors.Executions += 4
	cur.Errors.Failures += 1
	cur.Telemetry.Recorded += 50
	cur.Telemetry.Dropped += 5
	cur.Memory.ObjectPool.Gets += 3
	cur.Memory.ObjectPool.Idle = 1
	cur.Memory.UsageMB = 999
	cur.Concurrency.Rejected = 1 // went down: reset
	a := cur.Steps["alpha"]
	a.CircuitBreaker.Calls += 6
	a.CircuitBreaker.Opens += 1
	a.CircuitBreaker.State = StatsBreakerClosed
	cur.Steps["alpha"] = a
	cur.Steps["new"] = StatsStep{Cache: StatsCache{Hits: 4}}
	delete(cur.Steps, "mid")

	d := cur.Sub(prev)
	checks := []struct {
		name      string
		got, want any
	}{
		{"cache hits", d.Cache.Hits, uint64(10)},
		{"cache misses", d.Cache.Misses, uint64(5)},
		{"cache evictions unchanged", d.Cache.Evictions, uint64(0)},
		{"cache size is a gauge", d.Cache.Size, 9},
		{"execution count", d.Execution.Count, uint64(4)},
		{"window avg", d.Execution.AvgTimeMs(), 200.0 / 4},
		{"slow", d.Execution.Slow, uint64(1)},
		{"failed runs", d.Execution.Failures, uint64(2)},
		{"p99 is a gauge", d.Execution.P99Ms, 77.0},
		{"error rate of the window", d.Errors.ErrorRate(), 1.0 / 4},
		{"telemetry drop rate of the window", d.Telemetry.DropRate(), 5.0 / 50},
		{"pool gets", d.Memory.ObjectPool.Gets, uint64(3)},
		{"pool idle is a gauge", d.Memory.ObjectPool.Idle, 1},
		{"memory is a gauge", d.Memory.UsageMB, 999.0},
		{"reset counter counts from zero", d.Concurrency.Rejected, uint64(1)},
		{"breaker calls", d.Steps["alpha"].CircuitBreaker.Calls, uint64(6)},
		{"breaker opens", d.Steps["alpha"].CircuitBreaker.Opens, uint64(1)},
		{"breaker state is a gauge", d.Steps["alpha"].CircuitBreaker.State, StatsBreakerClosed},
		{"new step counts from zero", d.Steps["new"].Cache.Hits, uint64(4)},
		{"unchanged step", d.Steps["zeta"].Execution.Count, uint64(0)},
		{"steps of cur only", d.StepNames(), []string{"alpha", "new", "zeta"}},
		{"config of cur", d.Config.Equal(cur.Config), true},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if zero := cur.Sub(cur); zero.Execution.Count != 0 || zero.Cache.Lookups() != 0 || zero.Telemetry.Recorded != 0 || zero.Errors.Executions != 0 {
		t.Errorf("s.Sub(s) kept activity: %+v", zero)
	}
	// Sub must not write to either operand.
	if cur.Cache.Hits != prev.Cache.Hits+10 || cur.Steps["alpha"].CircuitBreaker.Calls != prev.Steps["alpha"].CircuitBreaker.Calls+6 {
		t.Errorf("Sub modified its receiver")
	}
	// A histogram reset: the whole current window is new.
	reset := prev.Clone()
	reset.Execution = StatsExecution{Count: 2, TotalMs: 8}
	if got := reset.Sub(prev).Execution; got.Count != 2 || got.TotalMs != 8 {
		t.Errorf("Sub after a histogram reset = %+v, want the current histogram", got)
	}
}

func TestStatsCloneSharesNothing(t *testing.T) {
	s := statsSample()
	c := s.Clone()
	c.Steps["alpha"] = StatsStep{}
	*c.Config.MaxConcurrentExecutions = 99
	if s.Steps["alpha"].Execution.Count == 0 || *s.Config.MaxConcurrentExecutions == 99 {
		t.Fatal("Clone shares memory with the original")
	}
}

func TestStatsBreakerSummary(t *testing.T) {
	cases := []struct {
		states []StatsBreakerState
		want   StatsBreakerState
	}{
		{nil, StatsBreakerClosed},
		{[]StatsBreakerState{StatsBreakerClosed, StatsBreakerClosed}, StatsBreakerClosed},
		{[]StatsBreakerState{StatsBreakerClosed, StatsBreakerHalfOpen}, StatsBreakerHalfOpen},
		{[]StatsBreakerState{StatsBreakerOpen, StatsBreakerHalfOpen, StatsBreakerClosed}, StatsBreakerOpen},
	}
	for _, c := range cases {
		s := Stats{Steps: map[string]StatsStep{}}
		var calls uint64
		for i, st := range c.states {
			s.Steps[string(rune('a'+i))] = StatsStep{CircuitBreaker: StatsBreaker{State: st, Calls: uint64(i + 1)}}
			calls += uint64(i + 1)
		}
		sum := s.BreakerSummary()
		if sum.State != c.want || sum.Calls != calls || sum.Open+sum.HalfOpen+sum.Closed != len(c.states) {
			t.Errorf("BreakerSummary(%v) = %+v, want state %v and %d calls", c.states, sum, c.want, calls)
		}
	}
}

func TestStatsLevelAndStateText(t *testing.T) {
	for l := StatsPressureNone; l <= StatsPressureCritical; l++ {
		b, err := l.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back StatsPressureLevel
		if err := back.UnmarshalText(b); err != nil || back != l || string(b) != l.String() {
			t.Errorf("pressure %d: text %q, back %v, err %v", l, b, back, err)
		}
	}
	for st := StatsBreakerClosed; st <= StatsBreakerOpen; st++ {
		b, err := st.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back StatsBreakerState
		if err := back.UnmarshalText(b); err != nil || back != st || string(b) != st.String() {
			t.Errorf("breaker %d: text %q, back %v, err %v", st, b, back, err)
		}
	}
	if _, err := StatsPressureLevel(9).MarshalText(); err == nil {
		t.Error("out-of-range pressure level encoded")
	}
	if _, err := StatsBreakerState(9).MarshalText(); err == nil {
		t.Error("out-of-range breaker state encoded")
	}
	var l StatsPressureLevel
	if err := l.UnmarshalText([]byte("severe")); err == nil || !strings.Contains(err.Error(), "none, moderate, high or critical") {
		t.Errorf("unknown pressure level: err = %v", err)
	}
	var st StatsBreakerState
	if err := st.UnmarshalText([]byte("OPEN")); err == nil || !strings.Contains(err.Error(), "closed, half_open or open") {
		t.Errorf("unknown breaker state: err = %v", err)
	}
	if _, err := json.Marshal(Stats{Memory: StatsMemory{PressureLevel: 7}}); err == nil {
		t.Error("Stats with an invalid pressure level encoded")
	}
}
