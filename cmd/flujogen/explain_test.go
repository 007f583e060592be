package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flujo/flujo/internal/analysis"
)

// reportPassword is the password of the distributed address in the
// report module's configuration; no report shows it.
const reportPassword = "s3cr3t-pa55"

// reportModule copies the analysis testdata module to a fixed directory
// under the system's temporary directory, points its flujo requirement at
// this checkout and makes it the working directory, with a go command that
// completes go.sum from the module cache, offline. Files are rewritten only
// when they change, so the build cache keeps their export data between
// runs.
func reportModule(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "internal", "analysis", "testdata")
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("flujo-report-testdata-%x", sha256.Sum256([]byte(root))))
	// A step override, shown by explain next to the step it changes, a
	// package without pipelines and one whose Cache() the configuration
	// turns off.
	extra := map[string][]byte{
		filepath.Join("ok", "triage", "flujo.json"): []byte(`{"optimization": {"enable_cache_optimization": true}, "steps": {"triage.classify": {"retries": 4, "timeout": "1s"}}, "distributed": {"address": "redis://app:` + reportPassword + `@cache.internal:6379/0", "budgets": false}}`),
		filepath.Join("plain", "plain.go"):          []byte("package plain\n\nvar X = 1\n"),
		filepath.Join("cacheoff", "cacheoff.go"): []byte("package cacheoff\n\nimport (\n\t\"context\"\n\n\t\"github.com/flujo/flujo\"\n)\n\n" +
			"func Double(_ context.Context, n int) (int, error) { return 2 * n, nil }\n\n" +
			"var P = flujo.Pipeline(\"p\", flujo.Step(\"double\", Double, flujo.Cache()))\n"),
	}
	files := map[string][]byte{}
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if rel == "golden" {
				return filepath.SkipDir
			}
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == "go.mod" {
			data = bytes.ReplaceAll(data, []byte("=> ../../.."), []byte("=> "+root))
		}
		files[rel] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel, data := range extra {
		files[rel] = data
	}
	for rel, data := range files {
		out := filepath.Join(dir, rel)
		if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		tmp := out + ".tmp" + strconv.Itoa(os.Getpid())
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, out); err != nil {
			t.Fatal(err)
		}
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if rel, _ := filepath.Rel(dir, path); files[rel] == nil {
			return os.Remove(path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOWORK", "off")
	return dir
}

// runMain runs flujogen in-process and returns the exit code and outputs.
func runMain(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Main(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// reportGolden compares got with dir/name, or rewrites it with
// -update.
func reportGolden(t *testing.T, dir, name, got string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s", path, got)
	}
}

// TestReports runs explain and graph on the testdata packages. It loads
// packages with the go command, so it shares one module copy.
func TestReports(t *testing.T) {
	goldenDir, err := filepath.Abs(filepath.Join("testdata", "report"))
	if err != nil {
		t.Fatal(err)
	}
	dir := reportModule(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		golden string
	}{
		{"explain", []string{"explain", "./ok/triage", "./ok/writes"}, exitOK, "explain.txt"},
		{"explain json", []string{"explain", "-json", "./ok/triage"}, exitOK, "explain.json"},
		{"graph mermaid", []string{"graph", "./ok/triage", "./ok/shapes"}, exitOK, "graph.mmd"},
		{"graph dot", []string{"graph", "-format", "dot", "./ok/triage", "./ok/shapes"}, exitOK, "graph.dot"},
		{"explain notes", []string{"explain", "./ok/conflict"}, exitOK, "explain_conflict.txt"},
		{"explain errors", []string{"explain", "./errors/mismatch"}, exitInvalid, "explain_errors.txt"},
		{"graph errors", []string{"graph", "-format", "dot", "./errors/mismatch"}, exitInvalid, "explain_errors.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tt.code, stderr)
			}
			if strings.Contains(stdout+stderr, reportPassword) {
				t.Errorf("the password of the distributed address shows:\n%s%s", stdout, stderr)
			}
			out := stdout
			if code != exitOK {
				if stdout != "" {
					t.Errorf("output on failure: %s", stdout)
				}
				out = stderr
			} else if stderr != "" {
				t.Errorf("stderr: %s", stderr)
			}
			reportGolden(t, goldenDir, tt.golden, strings.ReplaceAll(out, dir, "$MODULE"))
		})
	}
	t.Run("json is the model", func(t *testing.T) {
		code, stdout, stderr := runMain("explain", "-json", "./ok/triage")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var m analysis.Model
		if err := json.Unmarshal([]byte(stdout), &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Packages) != 1 || len(m.Packages[0].Pipelines) != 1 || m.Packages[0].Pipelines[0].Name != "triage" {
			t.Fatalf("unexpected model: %+v", m.Packages)
		}
		root := m.Packages[0].Pipelines[0].Root
		if ov := root.Children[0].Override; ov == nil || ov.Retries == nil || *ov.Retries != 4 {
			t.Errorf("the flujo.json override of triage.classify is missing: %+v", ov)
		}
	})
	t.Run("cache off by config", func(t *testing.T) {
		// Cache() with enable_cache_optimization false (the default) caches
		// nothing in either engine; explain must not call the cache on.
		code, stdout, stderr := runMain("explain", "./cacheoff")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		want := "cache: off: requested, but enable_cache_optimization is false in the default configuration (no flujo.json)"
		if !strings.Contains(stdout, want) || strings.Contains(stdout, "cache: on") || strings.Contains(stdout, "input hash") {
			t.Errorf("explain of a Cache() step with caching off by config:\n%s\nwant a line %q", stdout, want)
		}
	})
	t.Run("no pipelines", func(t *testing.T) {
		code, stdout, stderr := runMain("explain", "./plain")
		if code != exitOK || !strings.Contains(stdout, "no pipelines") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("load error", func(t *testing.T) {
		code, _, stderr := runMain("graph", "./loaderr/typeerr")
		if code != exitInvalid || !strings.Contains(stderr, "loaderr/typeerr/typeerr.go:9:65: cannot use s") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestShortType(t *testing.T) {
	tests := map[string]string{
		"int":                               "int",
		"example.com/shop/triage.Ticket":    "triage.Ticket",
		"map[string]*example.com/shop.Item": "map[string]*shop.Item",
		"func(context.Context, example.com/a/b.In) (b.Out, error)": "func(context.Context, b.In) (b.Out, error)",
		"example.com/g.Pair[example.com/x/y.K,int]":                "g.Pair[y.K,int]",
	}
	for in, want := range tests {
		if got := shortType(in); got != want {
			t.Errorf("shortType(%q) = %q, want %q", in, got, want)
		}
	}
}
