package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// MaxStepRetries is the largest retries value a step override accepts.
const MaxStepRetries = 1000

// MaxStepTimeout is the longest timeout a step override accepts (messages
// say "24h").
const MaxStepTimeout = 24 * time.Hour

// StepOverride changes the settings of one leaf step; flujo.json holds them
// under "steps", keyed "<pipeline>.<step>". A nil field keeps what the
// step's declaration and the optimization configuration say. Both engines
// apply it with Apply, so they agree on every field.
type StepOverride struct {
	// Retries replaces the step's Retries option: attempts = Retries + 1.
	Retries *int `json:"retries,omitempty"`
	// Timeout replaces the step's Timeout option, per attempt.
	Timeout *Duration `json:"timeout,omitempty"`
	// Cache turns result caching of the step on or off.
	Cache *bool `json:"cache,omitempty"`
	// CacheTTLSeconds replaces optimization.cache_ttl_seconds for the step.
	CacheTTLSeconds *int `json:"cache_ttl_seconds,omitempty"`
	// CircuitBreakerFailureThreshold replaces
	// optimization.circuit_breaker_failure_threshold for the step.
	CircuitBreakerFailureThreshold *int `json:"circuit_breaker_failure_threshold,omitempty"`
	// CircuitBreakerRecoveryTimeoutSeconds replaces
	// optimization.circuit_breaker_recovery_timeout_seconds for the step.
	CircuitBreakerRecoveryTimeoutSeconds *int `json:"circuit_breaker_recovery_timeout_seconds,omitempty"`
}

// DeclaredStep is what a leaf step's declaration says about the settings a
// StepOverride may change.
type DeclaredStep struct {
	Retries  int           // the Retries option (the DSL's default when absent)
	Timeout  time.Duration // the Timeout option; 0 for none
	Cache    bool          // Cache() or CacheTTL
	CacheTTL time.Duration // the CacheTTL option; 0 for the configuration's
}

// StepSettings are a leaf step's effective settings: its declaration laid
// over the optimization configuration, then its override, if any.
type StepSettings struct {
	Attempts int
	Timeout  time.Duration // per attempt; 0 for none
	// Cache reports that the step's results are cached: the declaration
	// or the override asks for it and enable_cache_optimization is on.
	Cache    bool
	CacheTTL time.Duration
	// Breaker reports that the step runs under a circuit breaker
	// (enable_circuit_breaker), with these settings.
	Breaker                 bool
	BreakerFailureThreshold int
	BreakerRecoveryTimeout  time.Duration
	// OwnBreakerThreshold and OwnBreakerRecovery report that a step
	// override fixes the breaker's threshold or its recovery timeout: a
	// change of the configuration's breaker settings leaves them, and the
	// breaker when it fixes both, as they are.
	OwnBreakerThreshold, OwnBreakerRecovery bool
}

// ResolveStep returns the effective settings of a leaf step declared as d
// under cfg, with o laid over them when o is not nil. It is the one rule
// both engines follow: the ExecutorCore at run time, flujogen when it
// compiles the settings in.
func ResolveStep(cfg *OptimizationConfig, d DeclaredStep, o *StepOverride) StepSettings {
	s := StepSettings{
		Attempts:                d.Retries + 1,
		Timeout:                 d.Timeout,
		Cache:                   cfg.EnableCacheOptimization && d.Cache,
		CacheTTL:                time.Duration(cfg.CacheTTLSeconds) * time.Second,
		Breaker:                 cfg.EnableCircuitBreaker,
		BreakerFailureThreshold: cfg.CircuitBreakerFailureThreshold,
		BreakerRecoveryTimeout:  time.Duration(cfg.CircuitBreakerRecoveryTimeoutSeconds) * time.Second,
	}
	if d.CacheTTL > 0 {
		s.CacheTTL = d.CacheTTL
	}
	if o != nil {
		s = o.Apply(s, cfg.EnableCacheOptimization)
	}
	return s
}

// Apply returns s with the fields o sets replaced. Caching turned on by o
// still needs cachingOn (enable_cache_optimization).
func (o *StepOverride) Apply(s StepSettings, cachingOn bool) StepSettings {
	if o.Retries != nil {
		s.Attempts = *o.Retries + 1
	}
	if o.Timeout != nil {
		s.Timeout = time.Duration(*o.Timeout)
	}
	if o.Cache != nil {
		s.Cache = cachingOn && *o.Cache
	}
	if o.CacheTTLSeconds != nil {
		s.CacheTTL = time.Duration(*o.CacheTTLSeconds) * time.Second
	}
	if o.CircuitBreakerFailureThreshold != nil {
		s.BreakerFailureThreshold = *o.CircuitBreakerFailureThreshold
		s.OwnBreakerThreshold = true
	}
	if o.CircuitBreakerRecoveryTimeoutSeconds != nil {
		s.BreakerRecoveryTimeout = time.Duration(*o.CircuitBreakerRecoveryTimeoutSeconds) * time.Second
		s.OwnBreakerRecovery = true
	}
	return s
}

// Validate checks every field set in o against the ranges flujo.json's
// schema gives it: retries 0..MaxStepRetries, a timeout greater than 0 and
// at most MaxStepTimeout, and the ranges of the optimization fields that
// cache_ttl_seconds and the breaker fields replace. It returns a
// *ValidationError whose problems name the fields, or nil.
func (o *StepOverride) Validate() error {
	var problems []*FieldError
	if o.Retries != nil && (*o.Retries < 0 || *o.Retries > MaxStepRetries) {
		problems = append(problems, &FieldError{Field: "retries", Value: *o.Retries,
			Message: fmt.Sprintf("must be >= 0 and <= %d, got %d", MaxStepRetries, *o.Retries)})
	}
	if o.Timeout != nil {
		if msg := checkStepTimeout(time.Duration(*o.Timeout)); msg != "" {
			problems = append(problems, &FieldError{Field: "timeout", Value: time.Duration(*o.Timeout), Message: msg})
		}
	}
	for _, f := range []struct {
		name string
		v    *int
	}{
		{"cache_ttl_seconds", o.CacheTTLSeconds},
		{"circuit_breaker_failure_threshold", o.CircuitBreakerFailureThreshold},
		{"circuit_breaker_recovery_timeout_seconds", o.CircuitBreakerRecoveryTimeoutSeconds},
	} {
		if f.v == nil {
			continue
		}
		cf, _ := LookupConfigField(f.name)
		if msg := checkRange(cf, float64(*f.v)); msg != "" {
			problems = append(problems, &FieldError{Field: f.name, Value: *f.v, Message: msg})
		}
	}
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

// checkStepTimeout returns what is wrong with a step timeout, or "".
func checkStepTimeout(d time.Duration) string {
	switch {
	case d <= 0:
		return fmt.Sprintf("must be a duration greater than 0 such as \"200ms\" or \"1.5s\", got %v", d)
	case d > MaxStepTimeout:
		return fmt.Sprintf("must be at most 24h, got %v", d)
	}
	return ""
}

// Duration is a time.Duration written in JSON as a Go duration string such
// as "200ms", "1.5s" or "2m".
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a positive duration string of at most MaxStepTimeout.
func (d *Duration) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"200ms\", got %s", data)
	}
	v, err := ParseStepTimeout(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseStepTimeout parses a step override's timeout and checks its range.
func ParseStepTimeout(s string) (time.Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("must be a duration greater than 0 such as \"200ms\" or \"1.5s\", got string %q", s)
	}
	if v > MaxStepTimeout {
		return 0, fmt.Errorf("must be at most 24h, got string %q", s)
	}
	return v, nil
}

// SplitStepKey splits a step override key, "<pipeline>.<step>", at its
// first dot. ok is false when either part is empty or, as flujo.json's
// schema says, the step part holds a line break.
func SplitStepKey(key string) (pipeline, step string, ok bool) {
	pipeline, step, ok = strings.Cut(key, ".")
	return pipeline, step, ok && pipeline != "" && step != "" && !strings.ContainsAny(step, "\n\r\u2028\u2029")
}

// StepKey returns the override key of step in pipeline.
func StepKey(pipeline, step string) string { return pipeline + "." + step }

// ValidateStepOverrides checks every key and every override of steps and
// returns one error listing all problems, in key order, each prefixed with
// the JSON pointer of what is wrong ("/steps/<key>/retries"), or nil.
func ValidateStepOverrides(steps map[string]StepOverride) error {
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(steps)) {
		ptr := "/steps/" + escapePointerToken(key)
		if _, _, ok := SplitStepKey(key); !ok {
			errs = append(errs, fmt.Errorf("%s: the key must be \"<pipeline>.<step>\" (the pipeline name without a dot), got %q", ptr, key))
		}
		o := steps[key]
		if err := o.Validate(); err != nil {
			var ve *ValidationError
			errors.As(err, &ve)
			for _, p := range ve.Problems {
				errs = append(errs, fmt.Errorf("%s/%s: %s", ptr, p.Field, p.Message))
			}
		}
	}
	return errors.Join(errs...)
}
