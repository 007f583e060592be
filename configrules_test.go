package flujo

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/flujo/flujo/runtime"
)

// everythingOn is the configuration under which NewExecutorCore builds
// every component a field configures.
func everythingOn() runtime.OptimizationConfig {
	c := runtime.DefaultOptimizationConfig()
	c.EnableCacheOptimization = true
	c.CacheCompression = true
	c.EnableAutomaticOptimization = true
	return c
}

// boundaryValues returns the values worth trying for f: its bounds and just
// past them, zero, tiny, negative, huge and fractional values.
func boundaryValues(f runtime.ConfigField) []float64 {
	vs := []float64{f.Min, f.Max, 0, -1, 1, 0.5, 1.5, 1e-10, 1e-300, 5e-324, 1e-3, 1e-6, 1e-9, 1e9, 1e18, 1e300, math.MaxInt32, math.MaxInt64,
		math.Nextafter(f.Min, math.Inf(-1)), math.Nextafter(f.Min, math.Inf(1)), math.Nextafter(f.Max, math.Inf(1)), f.Min - 1, f.Max + 1, f.Max * 10,
		f.Min + 0.5, f.Max - 0.5, math.NaN(), math.Inf(1), math.Inf(-1)}
	return vs
}

// setNumeric sets the field f to v, reporting false when v does not fit
// its Go type (a fraction or an out-of-range value for an int).
func setNumeric(c *runtime.OptimizationConfig, f runtime.ConfigField, v float64) bool {
	rv := reflect.ValueOf(c).Elem()
	for i := range rv.NumField() {
		tag, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
		if tag != f.Name {
			continue
		}
		fv := rv.Field(i)
		switch fv.Kind() {
		case reflect.Float64:
			fv.SetFloat(v)
			return true
		case reflect.Int, reflect.Pointer:
			if v != math.Trunc(v) || math.IsNaN(v) || math.Abs(v) > 1<<62 {
				return false
			}
			n := int(v)
			if fv.Kind() == reflect.Pointer {
				fv.Set(reflect.ValueOf(&n))
			} else {
				fv.SetInt(int64(n))
			}
			return true
		}
	}
	return false
}

// executorAccepts reports whether an ExecutorCore can be built from cfg and
// run a cached step with it (breakers and caches are built on first use).
func executorAccepts(t *testing.T, cfg runtime.OptimizationConfig) error {
	t.Helper()
	c, err := NewExecutorCore(cfg, WithResourceSampler(&fakeSampler{}), WithClock(runtime.NewFakeClock(0)))
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	n := Step("s", func(_ context.Context, s string) (string, error) { return s, nil }, Cache())
	_, err = c.Execute(context.Background(), n, "x")
	return err
}

// TestConfigRulesAgree: Validate accepts a configuration exactly when the
// ExecutorCore can be built from it and run. Every numeric field is tried
// at its boundaries, one at a time over the defaults and over a
// configuration that builds every component, then in random combinations.
func TestConfigRulesAgree(t *testing.T) {
	check := func(name string, cfg runtime.OptimizationConfig) {
		t.Helper()
		verr := cfg.Validate()
		eerr := executorAccepts(t, cfg)
		if (verr == nil) != (eerr == nil) {
			t.Errorf("%s: Validate says %v, the executor %v", name, verr, eerr)
		}
	}
	fields := runtime.ConfigFields()
	for _, base := range []struct {
		name string
		cfg  runtime.OptimizationConfig
	}{{"defaults", runtime.DefaultOptimizationConfig()}, {"everything on", everythingOn()}} {
		for _, f := range fields {
			if f.Kind == runtime.FieldBool {
				continue
			}
			for _, v := range boundaryValues(f) {
				cfg := base.cfg.Clone()
				if !setNumeric(&cfg, f, v) {
					continue
				}
				check(base.name+": "+f.Name+"="+strconv.FormatFloat(v, 'g', -1, 64), cfg)
			}
		}
	}
	rng := rand.New(rand.NewPCG(11, 6))
	for i := range 300 {
		cfg := everythingOn()
		desc := ""
		for _, f := range fields {
			if f.Kind == runtime.FieldBool || rng.IntN(3) != 0 {
				continue
			}
			vs := boundaryValues(f)
			v := vs[rng.IntN(len(vs))]
			if setNumeric(&cfg, f, v) {
				desc += " " + f.Name + "=" + strconv.FormatFloat(v, 'g', -1, 64)
			}
		}
		check("combination "+strconv.Itoa(i)+":"+desc, cfg)
	}
}
