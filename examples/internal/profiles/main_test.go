package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flujo/flujo/runtime"
)

// writeConfig writes cfg as the optimization section of dir/name.json.
func writeConfig(t *testing.T, dir, name string, cfg runtime.OptimizationConfig) {
	t.Helper()
	data, err := json.Marshal(map[string]any{"optimization": cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOneLinePerProfile(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "defaults", runtime.DefaultOptimizationConfig())
	for _, p := range runtime.Profiles() {
		writeConfig(t, dir, p.Name, p.Config())
	}
	var out, errb bytes.Buffer
	if code := run([]string{dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 1+len(runtime.Profiles()) {
		t.Fatalf("%d lines, want a header and one per profile:\n%s", len(lines), out.String())
	}
	for i, p := range runtime.Profiles() {
		f := strings.Fields(lines[i+1])
		if len(f) < 3 || f[0] != p.Name || f[1] != "yes" {
			t.Errorf("line %q, want %s valid", lines[i+1], p.Name)
		}
	}
	if !strings.Contains(out.String(), "batch-monitoring    yes    enable_automatic_optimization true\n") {
		t.Errorf("batch-monitoring's difference not shown:\n%s", out.String())
	}
}

func TestInvalidOrMissingFilesFail(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "defaults", runtime.DefaultOptimizationConfig())
	bad := runtime.DefaultOptimizationConfig()
	bad.TelemetryBatchSize = 0
	writeConfig(t, dir, runtime.Profiles()[0].Name, bad)
	var out, errb bytes.Buffer
	if code := run([]string{dir}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	text := out.String()
	if !strings.Contains(text, runtime.Profiles()[0].Name+"  ") || !strings.Contains(text, "telemetry_batch_size") {
		t.Errorf("the invalid profile is not reported with its problem:\n%s", text)
	}
	if !strings.Contains(text, runtime.Profiles()[1].Name+" ") || !strings.Contains(text, " no ") {
		t.Errorf("a missing profile is not reported invalid:\n%s", text)
	}
	if code := run(nil, &out, &errb); code != 2 {
		t.Errorf("no folder: exit %d, want 2", code)
	}
}

func TestDifferences(t *testing.T) {
	a := runtime.DefaultOptimizationConfig()
	b := a
	if got := Differences(a, b); got != "nothing" {
		t.Errorf("equal configurations: %q", got)
	}
	b.CacheMaxSize, b.EnableCacheOptimization = 7, true
	if got, want := Differences(a, b), "enable_cache_optimization true, cache_max_size 7"; got != want {
		t.Errorf("Differences = %q, want %q", got, want)
	}
}
