package kernel

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/flujo/flujo/internal/options"
	"github.com/flujo/flujo/runtime"
)

// StepsDigest identifies the step overrides in steps of the pipeline named
// pipeline (keys "<pipeline>.<step>"): a SHA-256 of their canonical JSON,
// "" when there are none.
func StepsDigest(pipeline string, steps map[string]runtime.StepOverride) string {
	prefix := pipeline + "."
	var keys []string
	for k := range steps {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		data, _ := json.Marshal(steps[k]) // a struct of numbers and booleans: always encodes
		fmt.Fprintf(h, "%q:%s\n", k, data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// GeneratedConfig returns the configuration a generated executor of the
// pipeline named pipeline starts with: compiled, the one it was generated
// with, or the optimization section of WithConfigFile's file. A file may
// change every run-time field, not those that decide the generated code
// (CompiledIn); and the step overrides that WithConfigFile and
// WithStepOverrides give for the pipeline must be those compiled in
// (stepsDigest, StepsDigest of them), which only flujogen generate changes.
func GeneratedConfig(executor, pipeline string, compiled runtime.OptimizationConfig, stepsDigest string, set *options.Core) (runtime.OptimizationConfig, error) {
	if err := errors.Join(set.Errs...); err != nil {
		return compiled, err
	}
	if set.Clock == nil {
		return compiled, errors.New("flujo: WithClock(nil)")
	}
	cfg := compiled
	if set.FileConfig != nil {
		if fixed := CompiledIn(&compiled, set.FileConfig); len(fixed) > 0 {
			return compiled, fmt.Errorf("flujo: %s: the configuration file sets %s, which decide the generated code and differ from the ones %s was generated with; run flujogen generate with this file", executor, strings.Join(fixed, ", "), executor)
		}
		cfg = *set.FileConfig
	}
	if set.FileConfig != nil || set.Overrides != nil {
		if got := StepsDigest(pipeline, set.Overrides); got != stepsDigest {
			return compiled, fmt.Errorf("flujo: %s: the step overrides given for pipeline %q differ from the ones compiled in; they take effect only through flujogen generate: run it with this file", executor, pipeline)
		}
	}
	return cfg, nil
}
