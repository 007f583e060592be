package gen

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// equivVariants are the configurations the semantics suite runs the
// generated executors under, each generated into its own package.
// A variant that differs from "defaults" in run-time fields only
// ("limited") has no generated file of its own: it runs the defaults file
// with its fields imported.
func equivVariants() map[string]runtime.OptimizationConfig {
	breaker := runtime.DefaultOptimizationConfig()
	breaker.CircuitBreakerFailureThreshold = 2
	breaker.CircuitBreakerRecoveryTimeoutSeconds = 30
	cached := runtime.DefaultOptimizationConfig()
	cached.EnableCacheOptimization = true
	// Keys from JSON, values stored compressed.
	packed := cached
	packed.EnableAlgorithmOptimization, packed.CacheCompression = false, true
	// A fixed cap of one permit, for the limiter's queue bound.
	limited := runtime.DefaultOptimizationConfig()
	limited.EnableConcurrencyOptimization = false
	one := 1
	limited.MaxConcurrentExecutions = &one
	return map[string]runtime.OptimizationConfig{
		"limited":  limited,
		"defaults": runtime.DefaultOptimizationConfig(),
		"breaker":  breaker,
		"cached":   cached,
		"packed":   packed,
	}
}

// suiteModel is the analysis of the semantics suite's declarations, loaded
// once per test binary.
var suiteModel = sync.OnceValues(func() (*analysis.Model, error) {
	return analysis.Load(context.Background(), analysis.LoadOptions{Dir: "..", Patterns: []string{"./flujotest"}})
})

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./gen -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the generated output; run go test ./gen -update and review the diff", path)
	}
}

// TestGoldenEquivalence generates the suite's executors for every variant
// and compares them with the committed files the equivalence test runs.
func TestGoldenEquivalence(t *testing.T) {
	for name, opt := range equivVariants() {
		if name != "defaults" && sameCompiled(opt, equivVariants()["defaults"]) {
			if _, err := os.Stat(filepath.Join("testdata", "equiv", name)); err == nil {
				t.Errorf("testdata/equiv/%s: the variant compiles like defaults and runs its file; delete the directory", name)
			}
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := suiteModel()
			if err != nil {
				t.Fatal(err)
			}
			pkg := m.Packages[0]
			cfg := schema.Default()
			cfg.Optimization = opt
			out, err := GenerateWith(m, pkg, cfg, Options{PkgPath: "github.com/flujo/flujo/gen/testdata/equiv/" + name, PkgName: name, Runners: true})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "equiv", name, "flujo_gen.go"), out)
			if name != "defaults" {
				return
			}
			again, err := GenerateWith(m, pkg, cfg, Options{PkgPath: "github.com/flujo/flujo/gen/testdata/equiv/" + name, PkgName: name, Runners: true})
			if err != nil || !bytes.Equal(out, again) {
				t.Errorf("two generations from equal inputs differ (err %v)", err)
			}
		})
	}
}
