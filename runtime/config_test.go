package runtime

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultsMatchGuide(t *testing.T) {
	want := map[string]any{
		"enable_object_pool": true, "object_pool_max_size": 50, "object_pool_cleanup_threshold": 0.9,
		"enable_context_optimization": true, "enable_memory_optimization": true,
		"enable_step_optimization": true, "enable_algorithm_optimization": true,
		"enable_concurrency_optimization": true, "max_concurrent_executions": nil,
		"enable_optimized_telemetry": true, "enable_performance_monitoring": true,
		"telemetry_batch_size": 10, "telemetry_flush_interval_seconds": 30.0,
		"enable_optimized_error_handling": true, "enable_circuit_breaker": true,
		"error_cache_size": 50, "circuit_breaker_failure_threshold": 10,
		"circuit_breaker_recovery_timeout_seconds": 60,
		"enable_cache_optimization":                false, "cache_compression": false,
		"cache_ttl_seconds": 7200, "cache_max_size": 500,
		"slow_execution_threshold_ms": 1000.0, "memory_pressure_threshold_mb": 500.0,
		"cpu_usage_threshold_percent":   80.0,
		"enable_automatic_optimization": false, "optimization_analysis_interval_seconds": 60.0,
		"performance_degradation_threshold": 0.2,
	}
	got := DefaultOptimizationConfig().ToMap()
	if len(want) != 28 || len(got) != 28 {
		t.Fatalf("want 28 parameters, table has %d, ToMap has %d", len(want), len(got))
	}
	if !reflect.DeepEqual(got, want) {
		for k, v := range want {
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s = %#v, want %#v", k, got[k], v)
			}
		}
	}
	if err := DefaultOptimizationConfig().Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestConfigFieldsCoverStruct(t *testing.T) {
	rt := reflect.TypeOf(OptimizationConfig{})
	if rt.NumField() != len(ConfigFields()) {
		t.Fatalf("struct has %d fields, table %d", rt.NumField(), len(ConfigFields()))
	}
	for i, f := range ConfigFields() {
		if got := jsonName(rt.Field(i)); got != f.Name {
			t.Errorf("field %d: struct tag %q, table %q", i, got, f.Name)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := DefaultOptimizationConfig()
	c.ObjectPoolMaxSize = 0
	c.TelemetryBatchSize = -1
	c.ErrorCacheSize = 0
	c.CacheTTLSeconds = 0
	c.ObjectPoolCleanupThreshold = 1.5
	c.CPUUsageThresholdPercent = 101
	zero := 0
	c.MaxConcurrentExecutions = &zero
	c.EnableOptimizedTelemetry = false
	c.TelemetryFlushIntervalSeconds = math.NaN()
	err := c.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	want := []string{
		"object_pool_max_size: must be >= 1, got 0",
		"object_pool_cleanup_threshold: must be <= 1, got 1.5",
		"max_concurrent_executions: must be >= 1, got 0",
		"telemetry_batch_size: must be >= 1, got -1",
		"telemetry_flush_interval_seconds: must be a number >= 0.001 and <= 86400, got NaN",
		"error_cache_size: must be >= 1, got 0",
		"cache_ttl_seconds: must be >= 1, got 0",
		"cpu_usage_threshold_percent: must be <= 100, got 101",
		"enable_performance_monitoring: requires enable_optimized_telemetry to be true; set enable_optimized_telemetry to true or enable_performance_monitoring to false",
	}
	var got []string
	for _, p := range ve.Problems {
		got = append(got, p.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCrossFieldAutomaticNeedsMonitoring(t *testing.T) {
	c := DefaultOptimizationConfig()
	c.EnableAutomaticOptimization = true
	c.EnablePerformanceMonitoring = false
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "enable_automatic_optimization: requires enable_performance_monitoring") {
		t.Fatalf("got %v", err)
	}
}

func TestImportOverlaysDefaults(t *testing.T) {
	c, err := DefaultOptimizationConfig().Import([]byte(`{"cache_max_size": 42, "max_concurrent_executions": 7, "telemetry_flush_interval_seconds": 2.5}`), "json")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultOptimizationConfig()
	want.CacheMaxSize = 42
	want.MaxConcurrentExecutions = intPtr(7)
	want.TelemetryFlushIntervalSeconds = 2.5
	if !c.Equal(want) {
		t.Fatalf("got %+v", c.ToMap())
	}
	back, err := c.Import([]byte(`{"max_concurrent_executions": null}`), "json")
	if err != nil || back.MaxConcurrentExecutions != nil || back.CacheMaxSize != 42 {
		t.Fatalf("null must reset to auto-detect and keep the rest: %v %+v", err, back.ToMap())
	}
}

func TestImportErrors(t *testing.T) {
	base := DefaultOptimizationConfig()
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"unknown field with suggestion", `{"enable_objectpool": true}`, []string{"enable_objectpool: unknown field (did you mean enable_object_pool?)"}},
		{"unknown field far from any", `{"zzz": 1}`, []string{"zzz: unknown field"}},
		{"wrong type", `{"cache_max_size": "big"}`, []string{`cache_max_size: must be an integer from 1 to 100000000, got string "big"`}},
		{"null not allowed", `{"enable_circuit_breaker": null}`, []string{"enable_circuit_breaker: must be true or false, got null"}},
		{"fraction for integer", `{"cache_max_size": 1.5}`, []string{"cache_max_size: must be an integer, got 1.5"}},
		{"huge integer", `{"cache_max_size": 1e400}`, []string{"cache_max_size: must be <= 100000000, got 1e400"}},
		{"range", `{"telemetry_batch_size": 0}`, []string{"telemetry_batch_size: must be >= 1, got 0"}},
		{"several", `{"telemetry_batch_size": 0, "enable_objectpool": true}`, []string{"telemetry_batch_size: must be >= 1, got 0", "enable_objectpool: unknown field (did you mean enable_object_pool?)"}},
		{"not an object", `[1]`, []string{"config must be a JSON object"}},
		{"malformed", `{"a":`, []string{"malformed config JSON"}},
		{"empty", ``, []string{"empty config"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := base.Import([]byte(tc.doc), "json")
			if err == nil {
				t.Fatal("want an error")
			}
			if !got.Equal(base) {
				t.Fatal("a rejected import must return the config unchanged")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestIntegralFloatAcceptedForInteger(t *testing.T) {
	c, err := DefaultOptimizationConfig().Import([]byte(`{"cache_max_size": 10.0}`), "json")
	if err != nil || c.CacheMaxSize != 10 {
		t.Fatalf("got %v, %d", err, c.CacheMaxSize)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	for _, p := range Profiles() {
		c := p.Config()
		data, err := c.Export("json")
		if err != nil {
			t.Fatal(err)
		}
		back, err := DefaultOptimizationConfig().Import(data, "json")
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if !back.Equal(c) {
			t.Fatalf("%s: round trip changed the config", p.Name)
		}
	}
}

func TestUnsupportedFormat(t *testing.T) {
	_, err := DefaultOptimizationConfig().Export("yaml")
	var fe *UnsupportedFormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "supported formats: json") {
		t.Fatalf("got %v", err)
	}
	_, err = DefaultOptimizationConfig().Import([]byte(`{}`), "xml")
	if !errors.As(err, &fe) {
		t.Fatalf("got %v", err)
	}
}

func TestUnmarshalJSONIsStrictOverDefaults(t *testing.T) {
	var c OptimizationConfig
	if err := json.Unmarshal([]byte(`{"cache_ttl_seconds": 5}`), &c); err != nil {
		t.Fatal(err)
	}
	want := DefaultOptimizationConfig()
	want.CacheTTLSeconds = 5
	if !c.Equal(want) {
		t.Fatalf("got %+v", c.ToMap())
	}
	if err := json.Unmarshal([]byte(`{"cache_ttl_second": 5}`), &c); err == nil || !strings.Contains(err.Error(), "did you mean cache_ttl_seconds?") {
		t.Fatalf("got %v", err)
	}
}

func TestProfilesValidate(t *testing.T) {
	if len(Profiles()) != 6 {
		t.Fatalf("want 6 profiles, got %d", len(Profiles()))
	}
	for _, p := range Profiles() {
		if err := p.Config().Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
		if p.Config().Equal(DefaultOptimizationConfig()) && p.Name != "batch-monitoring" {
			t.Errorf("%s changes nothing", p.Name)
		}
	}
	if c := mustProfile(t, "batch-monitoring"); !c.EnableAutomaticOptimization {
		t.Error("batch-monitoring must enable automatic optimization")
	}
	if c := mustProfile(t, "real-time-api"); c.CircuitBreakerFailureThreshold != 3 || c.CacheMaxSize != 100 {
		t.Errorf("real-time-api: %+v", c.ToMap())
	}
	if _, err := LookupProfile("high-througput"); err == nil || !strings.Contains(err.Error(), "did you mean high-throughput?") {
		t.Fatalf("got %v", err)
	}
}

func mustProfile(t *testing.T, name string) OptimizationConfig {
	t.Helper()
	p, err := LookupProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Config()
}

func TestClosestName(t *testing.T) {
	names := ConfigFieldNames()
	for typo, want := range map[string]string{
		"enable_objectpool":        "enable_object_pool",
		"cache_max_sise":           "cache_max_size",
		"ENABLE_CIRCUIT_BREAKER":   "enable_circuit_breaker",
		"telemetry_bacth_size":     "telemetry_batch_size",
		"completely_unrelated_key": "",
	} {
		if got := ClosestName(typo, names); got != want {
			t.Errorf("ClosestName(%q) = %q, want %q", typo, got, want)
		}
	}
}

func TestImportEdgeNumbers(t *testing.T) {
	base := DefaultOptimizationConfig()
	if _, err := base.Import([]byte(`{"telemetry_batch_size": "10"}`), "json"); err == nil || !strings.Contains(err.Error(), `got string "10"`) {
		t.Errorf("quoted number: %v", err)
	}
	c, err := base.Import([]byte(`{"performance_degradation_threshold": 1e-400}`), "json")
	if err != nil || c.PerformanceDegradationThreshold <= 0 {
		t.Errorf("tiny positive number: %v, %v", err, c.PerformanceDegradationThreshold)
	}
	// A duration below the executors' resolution is refused, not rounded
	// to zero.
	if _, err := base.Import([]byte(`{"telemetry_flush_interval_seconds": 1e-400}`), "json"); err == nil || !strings.Contains(err.Error(), "must be >= 0.001") {
		t.Errorf("tiny flush interval: %v", err)
	}
	for _, doc := range []string{`{}]`, `{}}`, `{} {}`} {
		if _, err := base.Import([]byte(doc), "json"); err == nil {
			t.Errorf("%s: trailing data accepted", doc)
		}
	}
}
