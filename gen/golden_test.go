package gen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// equivVariants are the configurations the semantics suite runs the
// generated executors under, each generated into its own package.
func equivVariants() map[string]runtime.OptimizationConfig {
	breaker := runtime.DefaultOptimizationConfig()
	breaker.CircuitBreakerFailureThreshold = 2
	breaker.CircuitBreakerRecoveryTimeoutSeconds = 30
	return map[string]runtime.OptimizationConfig{
		"defaults": runtime.DefaultOptimizationConfig(),
		"breaker":  breaker,
	}
}

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
		t.Run(name, func(t *testing.T) {
			b := newMB()
			m, pkg := b.model(ftPath, "flujotest", suitePipelines(b)...)
			cfg := schema.Default()
			cfg.Optimization = opt
			out, err := GenerateWith(m, pkg, cfg, Options{PkgPath: "github.com/flujo/flujo/gen/testdata/equiv/" + name, PkgName: name, Runners: true})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "equiv", name, "flujo_gen.go"), out)
			again, err := GenerateWith(m, pkg, cfg, Options{PkgPath: "github.com/flujo/flujo/gen/testdata/equiv/" + name, PkgName: name, Runners: true})
			if err != nil || !bytes.Equal(out, again) {
				t.Errorf("two generations from equal inputs differ (err %v)", err)
			}
		})
	}
}
