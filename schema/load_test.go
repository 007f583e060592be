package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flujo/flujo/runtime"
)

func newTestLoader(t testing.TB) *Loader {
	t.Helper()
	l, err := NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// problemLines returns the lines of err, which must be an *Error.
func problemLines(t *testing.T, err error) []string {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *schema.Error", err, err)
	}
	lines := make([]string, len(se.Problems))
	for i, p := range se.Problems {
		lines[i] = p.String()
	}
	return lines
}

func TestParseReportsEveryProblem(t *testing.T) {
	l := newTestLoader(t)
	for _, tc := range []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "range and typo",
			doc:  "{\n  \"optimization\": {\n    \"telemetry_batch_size\": 0,\n    \"enable_objectpool\": true\n  }\n}\n",
			want: []string{
				"flujo.json:3:29: /optimization/telemetry_batch_size: must be >= 1, got 0",
				"flujo.json:4:5: /optimization/enable_objectpool: unknown field (did you mean enable_object_pool?)",
			},
		},
		{
			name: "wrong types of optimization fields",
			doc:  `{"optimization": {"enable_object_pool": "yes", "cache_max_size": true, "cpu_usage_threshold_percent": null, "max_concurrent_executions": null, "performance_degradation_threshold": [1]}}`,
			want: []string{
				`flujo.json:1:41: /optimization/enable_object_pool: must be true or false, got string "yes"`,
				`flujo.json:1:66: /optimization/cache_max_size: must be an integer from 1 to 100000000, got boolean true`,
				`flujo.json:1:103: /optimization/cpu_usage_threshold_percent: must be a number > 0 and <= 100, got null`,
				`flujo.json:1:181: /optimization/performance_degradation_threshold: must be a number > 0 and <= 100, got an array`,
			},
		},
		{
			name: "wrong types of sections",
			doc:  `{"optimization": [], "steps": [], "output": 3, "$schema": {}}`,
			want: []string{
				"flujo.json:1:18: /optimization: must be an object, got an array",
				"flujo.json:1:31: /steps: must be an object, got an array",
				"flujo.json:1:45: /output: must be a string, got 3",
				"flujo.json:1:59: /$schema: must be a string, got an object",
			},
		},
		{
			name: "out of range",
			doc:  `{"optimization": {"telemetry_flush_interval_seconds": 0, "cpu_usage_threshold_percent": 100.5, "object_pool_cleanup_threshold": -0.1, "cache_ttl_seconds": 31536001}}`,
			want: []string{
				"flujo.json:1:55: /optimization/telemetry_flush_interval_seconds: must be >= 0.001, got 0",
				"flujo.json:1:89: /optimization/cpu_usage_threshold_percent: must be <= 100, got 100.5",
				"flujo.json:1:129: /optimization/object_pool_cleanup_threshold: must be >= 0, got -0.1",
				"flujo.json:1:156: /optimization/cache_ttl_seconds: must be <= 31536000, got 31536001",
			},
		},
		{
			name: "huge numbers are range errors",
			doc:  `{"optimization": {"cache_max_size": 1e400, "object_pool_max_size": 1.0}}`,
			want: []string{"flujo.json:1:37: /optimization/cache_max_size: must be <= 100000000, got 1e400"},
		},
		{
			name: "numbers beyond exact arithmetic",
			doc:  `{"optimization": {"cache_max_size": 1e100000000}, "extra": 1}`,
			want: []string{"flujo.json:1:37: /optimization/cache_max_size: number out of range, got 1e100000000"},
		},
		{
			name: "step overrides",
			doc:  `{"steps": {"a.b": 1, "c.d": {"retries": 1.5, "cache": "yes", "timeout": 200}}}`,
			want: []string{
				"flujo.json:1:19: /steps/a.b: must be an object, got 1",
				"flujo.json:1:41: /steps/c.d/retries: must be an integer, got 1.5",
				`flujo.json:1:55: /steps/c.d/cache: must be true or false, got string "yes"`,
				"flujo.json:1:73: /steps/c.d/timeout: must be a string, got 200",
			},
		},
		{
			name: "step override ranges and keys",
			doc:  "{\"steps\": {\n\"bad\": {\"timeout\": \"0s\"},\n\"p.s\": {\"timeout\": \"25h\", \"retries\": -1, \"cach\": true, \"circuit_breaker_failure_threshold\": 0},\n\"a/b.c~d\": {\"retries\": 1001, \"timeout\": \"2 s\"}}}",
			want: []string{
				`flujo.json:2:1: /steps/bad: step key must be "<pipeline>.<step>", got "bad"`,
				`flujo.json:2:20: /steps/bad/timeout: must be a duration greater than 0 such as "200ms" or "1.5s", got string "0s"`,
				`flujo.json:3:20: /steps/p.s/timeout: must be at most 24h, got string "25h"`,
				`flujo.json:3:38: /steps/p.s/retries: must be >= 0, got -1`,
				`flujo.json:3:42: /steps/p.s/cach: unknown field (did you mean cache?)`,
				`flujo.json:3:93: /steps/p.s/circuit_breaker_failure_threshold: must be >= 1, got 0`,
				`flujo.json:4:24: /steps/a~1b.c~0d/retries: must be <= 1000, got 1001`,
				`flujo.json:4:41: /steps/a~1b.c~0d/timeout: must be a duration greater than 0 such as "200ms" or "1.5s", got string "2 s"`,
			},
		},
		{
			name: "output with a directory",
			doc:  `{"output": "gen/x.go"}`,
			want: []string{`flujo.json:1:12: /output: must be a Go file name such as "flujo_gen.go" (no directory, not starting with "." or "_", ending in .go), got string "gen/x.go"`},
		},
		{
			name: "output ignored by the go tool",
			doc:  `{"output": "_x.go"}`,
			want: []string{`flujo.json:1:12: /output: must be a Go file name such as "flujo_gen.go" (no directory, not starting with "." or "_", ending in .go), got string "_x.go"`},
		},
		{
			name: "output not Go",
			doc:  `{"output": "x.txt"}`,
			want: []string{`flujo.json:1:12: /output: must be a Go file name such as "flujo_gen.go" (no directory, not starting with "." or "_", ending in .go), got string "x.txt"`},
		},
		{
			name: "output a test file",
			doc:  `{"output": "x_test.go"}`,
			want: []string{`flujo.json:1:12: /output: must be a file every build compiles, not a test file (ending in _test.go) nor one for an operating system or architecture (such as x_linux.go or x_arm64.go), got string "x_test.go"`},
		},
		{
			name: "output for one operating system",
			doc:  `{"output": "flujo_gen_linux.go"}`,
			want: []string{`flujo.json:1:12: /output: must be a file every build compiles, not a test file (ending in _test.go) nor one for an operating system or architecture (such as x_linux.go or x_arm64.go), got string "flujo_gen_linux.go"`},
		},
		{
			name: "unknown top-level field",
			doc:  `{"Optimization": {}, "extra": 1}`,
			want: []string{
				"flujo.json:1:2: /Optimization: unknown field (did you mean optimization?)",
				"flujo.json:1:22: /extra: unknown field",
			},
		},
		{
			name: "duplicate field",
			doc:  "{\"output\": \"a.go\",\n \"output\": \"b.go\"}",
			want: []string{`flujo.json:2:2: /output: duplicate field "output" (first at 1:2)`},
		},
		{
			name: "monitoring without telemetry, monitoring set",
			doc:  `{"optimization": {"enable_performance_monitoring": true, "enable_optimized_telemetry": false}}`,
			want: []string{"flujo.json:1:52: /optimization/enable_performance_monitoring: requires enable_optimized_telemetry to be true; set enable_optimized_telemetry to true or enable_performance_monitoring to false"},
		},
		{
			name: "monitoring without telemetry, monitoring by default",
			doc:  `{"optimization": {"enable_optimized_telemetry": false}}`,
			want: []string{"flujo.json:1:49: /optimization/enable_performance_monitoring: requires enable_optimized_telemetry to be true; set enable_optimized_telemetry to true or enable_performance_monitoring to false (enable_performance_monitoring defaults to true)"},
		},
		{
			name: "automatic optimization without monitoring",
			doc:  `{"optimization": {"enable_performance_monitoring": false, "enable_automatic_optimization": true, "enable_optimized_telemetry": false}}`,
			want: []string{"flujo.json:1:92: /optimization/enable_automatic_optimization: requires enable_performance_monitoring to be true; set enable_performance_monitoring to true or enable_automatic_optimization to false"},
		},
		{
			name: "a default breaks a rule, not the one that looks broken",
			// Automatic optimization needs monitoring, which is on by
			// default; monitoring needs telemetry, which is off.
			doc: `{"optimization": {"enable_automatic_optimization": true, "enable_optimized_telemetry": false}}`,
			want: []string{
				"flujo.json:1:88: /optimization/enable_performance_monitoring: requires enable_optimized_telemetry to be true; set enable_optimized_telemetry to true or enable_performance_monitoring to false (enable_performance_monitoring defaults to true)",
			},
		},
		{name: "string document", doc: `"x"`, want: []string{`flujo.json:1:1: must be an object, got string "x"`}},
		{name: "null document", doc: "\n null", want: []string{"flujo.json:2:2: must be an object, got null"}},
		{name: "trailing comma", doc: `{"output": "a.go",}`, want: []string{"flujo.json:1:19: invalid JSON: invalid character '}' looking for beginning of object key string"}},
		{name: "leading zero", doc: "{\"a\":\n  01}", want: []string{"flujo.json:2:4: invalid JSON: invalid character '1' after object key:value pair"}},
		{name: "truncated", doc: "{\n  \"output\": \"a.go\"\n\n", want: []string{"flujo.json:2:19: invalid JSON: unexpected end of file"}},
		{name: "trailing data", doc: "{}\n  {}", want: []string{"flujo.json:2:3: invalid JSON: unexpected data after the top-level value"}},
		{name: "control character", doc: "{\"a\": \"\x01\"}", want: []string{`flujo.json:1:8: invalid JSON: invalid character '\x01' in string literal`}},
		{name: "empty", doc: "", want: []string{"flujo.json: file is empty; a configuration file holds a JSON object such as {}"}},
		{name: "blank", doc: " \n\t\r\n", want: []string{"flujo.json: file is empty; a configuration file holds a JSON object such as {}"}},
		{name: "byte order mark", doc: "\xef\xbb\xbf{\"x\": 1}", want: []string{"flujo.json:1:5: /x: unknown field"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := l.Parse("flujo.json", []byte(tc.doc))
			if err == nil {
				t.Fatalf("accepted, got %+v", cfg)
			}
			got := problemLines(t, err)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if err.Error() != strings.Join(tc.want, "\n") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

// The schema's wording of a broken rule is runtime.Validate's wording.
func TestCrossFieldWordingIsRuntimeWording(t *testing.T) {
	for _, r := range runtime.CrossFieldRules() {
		doc := fmt.Sprintf(`{"optimization": {%q: true, %q: false}}`, r.If, r.Then)
		if r.Then == "enable_performance_monitoring" {
			// Keep the other rule satisfied.
			doc = fmt.Sprintf(`{"optimization": {%q: true, %q: false, "enable_optimized_telemetry": true}}`, r.If, r.Then)
		}
		_, err := Parse("f.json", []byte(doc))
		var se *Error
		if !errors.As(err, &se) || len(se.Problems) != 1 {
			t.Fatalf("%s: want one problem, got %v", doc, err)
		}
		cfg, derr := runtime.DefaultOptimizationConfig().DecodeOptimizationJSON([]byte(doc[len(`{"optimization": `) : len(doc)-1]))
		if derr != nil {
			t.Fatal(derr)
		}
		var ve *runtime.ValidationError
		if !errors.As(cfg.Validate(), &ve) {
			t.Fatalf("runtime accepts %s", doc)
		}
		var runtimeMsg string
		for _, p := range ve.Problems {
			if p.Field == r.If {
				runtimeMsg = p.Message
			}
		}
		if se.Problems[0].Message != runtimeMsg || se.Problems[0].Pointer != "/optimization/"+r.If {
			t.Errorf("schema says %s: %q, runtime says %s: %q", se.Problems[0].Pointer, se.Problems[0].Message, r.If, runtimeMsg)
		}
	}
}

func TestParseAppliesDefaults(t *testing.T) {
	cfg, err := Parse("flujo.json", []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	if !cfg.Optimization.Equal(def.Optimization) || cfg.Output != DefaultOutput || len(cfg.Steps) != 0 || cfg.Path != "flujo.json" {
		t.Errorf("{} gives %+v, want the defaults %+v", cfg, def)
	}
}

func TestParseDecodesEveryMember(t *testing.T) {
	doc := `{
  "$schema": "` + SchemaURL + `",
  "optimization": {"telemetry_batch_size": 50, "max_concurrent_executions": 8, "object_pool_max_size": 1.0, "enable_cache_optimization": true},
  "steps": {
    "triage.classify": {"retries": 2, "timeout": "1m30.5s", "cache": true, "cache_ttl_seconds": 60},
    "triage.crm.v2": {"circuit_breaker_failure_threshold": 3, "circuit_breaker_recovery_timeout_seconds": 5, "cache": false, "timeout": "24h"}
  },
  "output": "triage_gen.go"
}`
	cfg, err := Parse("flujo.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := runtime.DefaultOptimizationConfig()
	want.TelemetryBatchSize = 50
	eight := 8
	want.MaxConcurrentExecutions = &eight
	want.ObjectPoolMaxSize = 1
	want.EnableCacheOptimization = true
	if !cfg.Optimization.Equal(want) {
		t.Errorf("optimization %+v, want %+v", cfg.Optimization, want)
	}
	if cfg.Output != "triage_gen.go" {
		t.Errorf("output %q", cfg.Output)
	}
	if got := cfg.StepKeys(); strings.Join(got, ",") != "triage.classify,triage.crm.v2" {
		t.Errorf("step keys %v", got)
	}
	c, ok := cfg.Step("triage", "classify")
	if !ok || *c.Retries != 2 || time.Duration(*c.Timeout) != 90*time.Second+500*time.Millisecond || !*c.Cache || *c.CacheTTLSeconds != 60 ||
		c.CircuitBreakerFailureThreshold != nil || c.CircuitBreakerRecoveryTimeoutSeconds != nil {
		t.Errorf("triage.classify = %+v", c)
	}
	crm, ok := cfg.Step("triage", "crm.v2")
	if !ok || *crm.CircuitBreakerFailureThreshold != 3 || *crm.CircuitBreakerRecoveryTimeoutSeconds != 5 || *crm.Cache || time.Duration(*crm.Timeout) != MaxTimeout || crm.Retries != nil {
		t.Errorf("triage.crm.v2 = %+v", crm)
	}
	if p, s, ok := SplitStepKey("triage.crm.v2"); !ok || p != "triage" || s != "crm.v2" {
		t.Errorf("SplitStepKey = %q %q %v", p, s, ok)
	}
	if _, _, ok := SplitStepKey(".x"); ok {
		t.Errorf("SplitStepKey accepts an empty pipeline name")
	}
}

func TestEveryProfileParses(t *testing.T) {
	for _, p := range runtime.Profiles() {
		opt, err := p.Config().Export("json")
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := Parse(p.Name+".json", []byte(`{"optimization": `+string(opt)+`}`))
		if err != nil {
			t.Errorf("%s: %v", p.Name, err)
			continue
		}
		if !cfg.Optimization.Equal(p.Config()) {
			t.Errorf("%s: parsed %+v, want %+v", p.Name, cfg.Optimization, p.Config())
		}
	}
}

func TestDurationJSON(t *testing.T) {
	d := Duration(1500 * time.Millisecond)
	b, err := d.MarshalJSON()
	if err != nil || string(b) != `"1.5s"` {
		t.Fatalf("MarshalJSON = %s, %v", b, err)
	}
	var back Duration
	if err := back.UnmarshalJSON(b); err != nil || back != d {
		t.Errorf("UnmarshalJSON(%s) = %v, %v", b, back, err)
	}
	for _, bad := range []string{`1`, `"0s"`, `"-1s"`, `"25h"`, `"soon"`} {
		if err := back.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("UnmarshalJSON(%s) accepted", bad)
		}
	}
}

func TestLoadFileProblems(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missing := filepath.Join(dir, "missing.json")
	empty := write("empty.json", nil)
	big := write("big.json", bytes.Repeat([]byte(" "), MaxFileSize+1))
	// The limit itself is allowed: a valid object padded to exactly 1 MiB.
	limit := write("limit.json", append([]byte("{}"), bytes.Repeat([]byte(" "), MaxFileSize-2)...))
	plainDir := filepath.Join(dir, "plain")
	if err := os.Mkdir(plainDir, 0o755); err != nil {
		t.Fatal(err)
	}
	withConfig := filepath.Dir(write("pkg/flujo.json", []byte("{}")))

	l := newTestLoader(t)
	for _, tc := range []struct {
		path, want string
	}{
		{missing, missing + ": no such file"},
		{empty, empty + ": file is empty; a configuration file holds a JSON object such as {}"},
		{big, fmt.Sprintf("%s: too large: %d bytes, the limit is %d bytes (1 MiB)", big, MaxFileSize+1, MaxFileSize)},
		{plainDir, plainDir + ": is a directory, not a configuration file"},
		{withConfig, fmt.Sprintf("%s: is a directory, not a configuration file (did you mean %s?)", withConfig, filepath.Join(withConfig, "flujo.json"))},
	} {
		_, err := l.Load(tc.path)
		if err == nil {
			t.Errorf("%s: accepted", tc.path)
			continue
		}
		if got := problemLines(t, err); len(got) != 1 || got[0] != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	if _, err := l.Load(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: errors.Is(err, fs.ErrNotExist) is false for %v", err)
	}
	if _, err := l.Load(limit); err != nil {
		t.Errorf("file of exactly MaxFileSize bytes: %v", err)
	}
	if _, err := l.Parse("x.json", make([]byte, MaxFileSize+1)); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("Parse of MaxFileSize+1 bytes: %v", err)
	}
}

func TestLoaderIsSafeForConcurrentUse(t *testing.T) {
	l := newTestLoader(t)
	docs := []string{
		`{}`,
		`{"optimization": {"telemetry_batch_size": 0, "enable_objectpool": true}}`,
		`{"steps": {"p.s": {"timeout": "1s"}}, "output": "x.go"}`,
		`{"steps": {"bad": {}}, "output": "x_test.go"}`,
	}
	want := make([]string, len(docs))
	for i, d := range docs {
		_, err := l.Parse("f.json", []byte(d))
		want[i] = fmt.Sprint(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				k := (g + i) % len(docs)
				if _, err := l.Parse("f.json", []byte(docs[k])); fmt.Sprint(err) != want[k] {
					errs <- fmt.Sprintf("doc %d: %v, want %s", k, err, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestLoadFollowsDocumentRules: the flujo.json loader and the runtime's
// Import apply one set of rules (runtime.CheckDocument) to duplicate
// members, a byte order mark and size: the same decision, the same words,
// the same positions relative to the document.
func TestLoadFollowsDocumentRules(t *testing.T) {
	l := newTestLoader(t)
	const wrap = `{"optimization": `
	inner := `{"telemetry_batch_size": 5, "telemetry_batch_size": 6}`
	_, lerr := l.Parse("f.json", []byte(wrap+inner+"}"))
	_, rerr := runtime.DefaultOptimizationConfig().Import([]byte(inner), "json")
	var de *runtime.DocumentError
	if !errors.As(rerr, &de) {
		t.Fatalf("runtime: %v, want a *runtime.DocumentError", rerr)
	}
	want := fmt.Sprintf(`f.json:1:%d: /optimization/telemetry_batch_size: duplicate field "telemetry_batch_size" (first at 1:%d)`, de.Col+len(wrap), 2+len(wrap))
	if got := problemLines(t, lerr); len(got) != 1 || got[0] != want || de.Message != `duplicate field "telemetry_batch_size" (first at 1:2)` {
		t.Errorf("duplicate: Load %q, runtime %v; want %q", got, rerr, want)
	}

	bom := "\xef\xbb\xbf"
	cfg, lerr := l.Parse("f.json", []byte(bom+wrap+`{"telemetry_batch_size": 5}}`))
	rcfg, rerr := runtime.DefaultOptimizationConfig().Import([]byte(bom+`{"telemetry_batch_size": 5}`), "json")
	if lerr != nil || rerr != nil || cfg.Optimization.TelemetryBatchSize != 5 || rcfg.TelemetryBatchSize != 5 {
		t.Errorf("byte order mark: Load %v, runtime %v; want both to read the document", lerr, rerr)
	}
	// Columns after a byte order mark count its three bytes, in both.
	_, lerr = l.Parse("f.json", []byte(bom+`{"output": "a.go", "output": "b.go"}`))
	if got := problemLines(t, lerr); len(got) != 1 || got[0] != `f.json:1:23: /output: duplicate field "output" (first at 1:5)` {
		t.Errorf("duplicate after a byte order mark: %q", got)
	}

	pad := func(doc string) []byte {
		return append([]byte(doc), bytes.Repeat([]byte(" "), MaxFileSize+1-len(doc))...)
	}
	_, lerr = l.Parse("f.json", pad(wrap+"{}}"))
	_, rerr = runtime.DefaultOptimizationConfig().Import(pad("{}"), "json")
	const tooLarge = "too large: 1048577 bytes, the limit is 1048576 bytes (1 MiB)"
	if got := problemLines(t, lerr); len(got) != 1 || got[0] != "f.json: "+tooLarge || rerr == nil || rerr.Error() != "config document: "+tooLarge {
		t.Errorf("oversized: Load %q, runtime %v", got, rerr)
	}
	if MaxFileSize != runtime.MaxDocumentSize {
		t.Errorf("MaxFileSize %d, runtime.MaxDocumentSize %d", MaxFileSize, runtime.MaxDocumentSize)
	}
}
