package runtime

import (
	"fmt"
	"strings"
)

// Profile is a named preset of the feature guide: the defaults with the
// guide's changes for one kind of workload.
type Profile struct {
	Name        string
	Description string
	apply       func(*OptimizationConfig)
}

// Config returns the profile's full configuration.
func (p Profile) Config() OptimizationConfig {
	c := DefaultOptimizationConfig()
	p.apply(&c)
	return c
}

func intPtr(n int) *int { return &n }

// Profiles returns the six presets of the guide, in the guide's order.
func Profiles() []Profile {
	return []Profile{
		{
			Name:        "high-throughput",
			Description: "Many executions per second: larger pools and batches, result cache on.",
			apply: func(c *OptimizationConfig) {
				c.ObjectPoolMaxSize = 100
				c.ObjectPoolCleanupThreshold = 0.8
				c.TelemetryBatchSize = 50
				c.TelemetryFlushIntervalSeconds = 60
				c.EnableCacheOptimization = true
				c.CacheMaxSize = 1000
				c.CacheTTLSeconds = 3600
			},
		},
		{
			Name:        "memory-constrained",
			Description: "Small heaps: small pools and cache, compressed cache values, early memory pressure.",
			apply: func(c *OptimizationConfig) {
				c.ObjectPoolMaxSize = 20
				c.ObjectPoolCleanupThreshold = 0.7
				c.CacheMaxSize = 200
				c.CacheCompression = true
				c.MemoryPressureThresholdMb = 200
			},
		},
		{
			Name:        "latency-sensitive",
			Description: "Low latency: small, frequent telemetry batches and a quick breaker.",
			apply: func(c *OptimizationConfig) {
				c.EnableStepOptimization = true
				c.EnableAlgorithmOptimization = true
				c.TelemetryBatchSize = 5
				c.TelemetryFlushIntervalSeconds = 10
				c.CircuitBreakerFailureThreshold = 5
				c.CircuitBreakerRecoveryTimeoutSeconds = 30
			},
		},
		{
			Name:        "data-processing",
			Description: "Large data sets with repeated operations: large pools, memory-driven concurrency limits, result cache on.",
			apply: func(c *OptimizationConfig) {
				c.ObjectPoolMaxSize = 100
				c.EnableMemoryOptimization = true
				c.EnableStepOptimization = true
				c.EnableAlgorithmOptimization = true
				c.EnableCacheOptimization = true
				c.CacheMaxSize = 1000
			},
		},
		{
			Name:        "real-time-api",
			Description: "Request handlers: minimal telemetry overhead, fast failure detection, small memory footprint.",
			apply: func(c *OptimizationConfig) {
				c.EnableStepOptimization = true
				c.EnableAlgorithmOptimization = true
				c.TelemetryBatchSize = 5
				c.TelemetryFlushIntervalSeconds = 10
				c.CircuitBreakerFailureThreshold = 3
				c.CircuitBreakerRecoveryTimeoutSeconds = 30
				c.ObjectPoolMaxSize = 20
				c.CacheMaxSize = 100
			},
		},
		{
			Name:        "batch-monitoring",
			Description: "Batch jobs under observation: monitoring, telemetry and automatic optimization on.",
			apply: func(c *OptimizationConfig) {
				c.EnablePerformanceMonitoring = true
				c.EnableOptimizedTelemetry = true
				c.EnableAutomaticOptimization = true
			},
		},
	}
}

// ProfileNames returns the names of all profiles, in the guide's order.
func ProfileNames() []string {
	ps := Profiles()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}

// LookupProfile returns the profile with the given name, or an error that
// lists the valid names and suggests the closest one.
func LookupProfile(name string) (Profile, error) {
	for _, p := range Profiles() {
		if p.Name == name {
			return p, nil
		}
	}
	msg := fmt.Sprintf("unknown profile %q; profiles: %s", name, strings.Join(ProfileNames(), ", "))
	if s := ClosestName(name, ProfileNames()); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return Profile{}, fmt.Errorf("%s", msg)
}
