package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/flujo/flujo/schema"
)

func TestReferenceDocIsUpToDate(t *testing.T) {
	got, err := renderReference()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "config.md")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/config.md is stale: run `go run ./cmd/flujogen schema -docs > docs/config.md` (or go test ./cmd/flujogen -run Reference -update)")
	}
	// Every optimization field has its row.
	for _, f := range []string{"enable_object_pool", "max_concurrent_executions", "performance_degradation_threshold"} {
		if !bytes.Contains(got, []byte("| `"+f+"` |")) {
			t.Errorf("the reference has no row for %s", f)
		}
	}
}

func TestReferenceExampleValidates(t *testing.T) {
	if _, err := schema.Parse("example.json", []byte(exampleConfig)); err != nil {
		t.Fatalf("the example in docs/config.md does not validate:\n%v", err)
	}
}

func TestMainRunsInProcess(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main([]string{"schema"}, strings.NewReader(""), &out, &errOut); code != exitOK {
		t.Fatalf("schema exited %d: %s", code, errOut.String())
	}
	if !bytes.Equal(out.Bytes(), schema.Embedded()) {
		t.Errorf("flujogen schema differs from the embedded schema")
	}
	out.Reset()
	if code := Main([]string{"init", "-o", "-", "-profile", "latency-sensitive"}, nil, &out, &errOut); code != exitOK {
		t.Fatalf("init exited %d: %s", code, errOut.String())
	}
	cfg, err := schema.Parse("stdout", out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Optimization.TelemetryBatchSize != 5 || cfg.Optimization.CircuitBreakerRecoveryTimeoutSeconds != 30 {
		t.Errorf("init -profile latency-sensitive wrote %+v", cfg.Optimization)
	}
}

func TestVersionLine(t *testing.T) {
	for _, tc := range []struct {
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{nil, false, "flujogen (unknown version)"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}}, true, "flujogen v1.2.3 go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8"}, true, "flujogen (devel) go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"},
		}}, true, "flujogen (devel) (0123456789ab, modified) go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.1.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"},
		}}, true, "flujogen v0.1.0 (abc) go1.26.8"},
	} {
		if got := versionLine(tc.info, tc.ok); got != tc.want {
			t.Errorf("versionLine = %q, want %q", got, tc.want)
		}
	}
}

func TestWriteNewNeverClobbers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flujo.json")
	// Many writers race for one new file: exactly one wins, the file holds
	// its bytes whole, and no temporary file is left.
	const writers = 16
	var wg sync.WaitGroup
	results := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- writeNew(path, bytes.Repeat([]byte{byte('a' + i)}, 4096), false)
		}()
	}
	wg.Wait()
	close(results)
	wins := 0
	for err := range results {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d writers succeeded, want 1", wins)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 4096 || bytes.Count(data, data[:1]) != 4096 {
		t.Errorf("file holds mixed or partial content (%d bytes)", len(data))
	}
	if err := writeNew(path, []byte("{}\n"), true); err != nil {
		t.Fatalf("force: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "{}\n" {
		t.Errorf("force did not replace the file: %q", data)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want only flujo.json", names)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
	}
}
