package runtime

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestResolveStep(t *testing.T) {
	cfg := DefaultOptimizationConfig()
	cfg.EnableCacheOptimization, cfg.CacheTTLSeconds = true, 100
	cfg.CircuitBreakerFailureThreshold, cfg.CircuitBreakerRecoveryTimeoutSeconds = 5, 60
	decl := DeclaredStep{Retries: 1, Timeout: time.Second, Cache: true}
	base := StepSettings{Attempts: 2, Timeout: time.Second, Cache: true, CacheTTL: 100 * time.Second,
		Breaker: true, BreakerFailureThreshold: 5, BreakerRecoveryTimeout: time.Minute}
	if got := ResolveStep(&cfg, decl, nil); got != base {
		t.Errorf("no override: %+v, want %+v", got, base)
	}
	decl.CacheTTL = 7 * time.Second
	if got := ResolveStep(&cfg, decl, nil); got.CacheTTL != 7*time.Second {
		t.Errorf("CacheTTL option: TTL %v, want 7s", got.CacheTTL)
	}
	r, d, off, ttl, th, rec := 3, Duration(5*time.Millisecond), false, 9, 2, 30
	o := &StepOverride{Retries: &r, Timeout: &d, Cache: &off, CacheTTLSeconds: &ttl, CircuitBreakerFailureThreshold: &th, CircuitBreakerRecoveryTimeoutSeconds: &rec}
	want := StepSettings{Attempts: 4, Timeout: 5 * time.Millisecond, Cache: false, CacheTTL: 9 * time.Second,
		Breaker: true, BreakerFailureThreshold: 2, BreakerRecoveryTimeout: 30 * time.Second, OwnBreakerThreshold: true, OwnBreakerRecovery: true}
	if got := ResolveStep(&cfg, decl, o); got != want {
		t.Errorf("every field overridden: %+v, want %+v", got, want)
	}
	// Caching turned on by an override still needs enable_cache_optimization.
	on := true
	cfg.EnableCacheOptimization = false
	if got := ResolveStep(&cfg, DeclaredStep{}, &StepOverride{Cache: &on}); got.Cache {
		t.Error("cache on by override with enable_cache_optimization false")
	}
}

func TestStepOverrideValidate(t *testing.T) {
	i := func(v int) *int { return &v }
	d := func(v time.Duration) *Duration { x := Duration(v); return &x }
	for _, tc := range []struct {
		o    StepOverride
		want string
	}{
		{StepOverride{}, ""},
		{StepOverride{Retries: i(0), Timeout: d(MaxStepTimeout), CacheTTLSeconds: i(1), CircuitBreakerFailureThreshold: i(1), CircuitBreakerRecoveryTimeoutSeconds: i(1)}, ""},
		{StepOverride{Retries: i(MaxStepRetries)}, ""},
		{StepOverride{Retries: i(-1)}, "retries: must be >= 0 and <= 1000, got -1"},
		{StepOverride{Retries: i(1001)}, "retries: must be >= 0 and <= 1000, got 1001"},
		{StepOverride{Timeout: d(0)}, "timeout: must be a duration greater than 0"},
		{StepOverride{Timeout: d(MaxStepTimeout + 1)}, "timeout: must be at most 24h"},
		{StepOverride{CacheTTLSeconds: i(0)}, "cache_ttl_seconds: must be >= 1, got 0"},
		{StepOverride{CircuitBreakerFailureThreshold: i(0)}, "circuit_breaker_failure_threshold: must be >= 1, got 0"},
		{StepOverride{CircuitBreakerRecoveryTimeoutSeconds: i(-5)}, "circuit_breaker_recovery_timeout_seconds: must be >= 1, got -5"},
	} {
		err := tc.o.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.o, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want %q", tc.o, err, tc.want)
		}
	}
	err := ValidateStepOverrides(map[string]StepOverride{"p.s": {Retries: i(-1)}, "nodot": {}, "p.ok": {}})
	if err == nil || !strings.Contains(err.Error(), "/steps/nodot: the key must be") || !strings.Contains(err.Error(), "/steps/p.s/retries: must be >= 0") {
		t.Errorf("ValidateStepOverrides: %v", err)
	}
}

func TestReadConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flujo.json")
	if _, err := ReadConfigFile(path); !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), path+": no such file") {
		t.Errorf("missing: %v", err)
	}
	if _, err := ReadConfigFile(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	doc := "\ufeff" + `{"$schema": "x", "output": "a_gen.go", "optimization": {"enable_cache_optimization": true},
		"steps": {"fulfil.price": {"retries": 3, "timeout": "1s"}}}`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ReadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o := f.Steps["fulfil.price"]
	if !f.Optimization.EnableCacheOptimization || o.Retries == nil || *o.Retries != 3 || o.Timeout == nil || time.Duration(*o.Timeout) != time.Second {
		t.Errorf("read %+v", f)
	}
	big := make([]byte, MaxDocumentSize+1)
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadConfigFile(path); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("too large: %v", err)
	}
	// Every problem at once.
	_, err = ParseConfigFile("f.json", []byte(`{"optimisation": {}, "steps": {"p.s": {"retries": "3", "cache": null}}}`))
	for _, want := range []string{
		"f.json: /optimisation: unknown field (did you mean optimization?)",
		"f.json: /steps/p.s/cache: must not be null",
		"f.json: /steps/p.s/retries: must be an integer, got string \"3\"",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
