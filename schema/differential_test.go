package schema

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"testing"

	"github.com/flujo/flujo/runtime"
)

// The differential tests feed one optimization object to both validators:
// the JSON Schema (what editors and Load check) and the runtime's Import
// (strict overlay plus Validate). Both must accept and reject the same
// documents.

// schemaAccepts reports whether the optimization schema accepts doc, a
// complete JSON text. Numbers no exact arithmetic holds and duplicate
// members are rejected, as Load rejects them before the schema runs.
func schemaAccepts(t testing.TB, l *Loader, doc []byte) bool {
	x, err := indexJSON(doc)
	if err != nil {
		t.Fatalf("index %q: %v", doc, err)
	}
	if _, dups := runtime.CheckDocument(doc); len(x.badNumbers) > 0 || len(dups) > 0 {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", doc, err)
	}
	return l.optimization.Validate(v) == nil
}

func runtimeAccepts(doc []byte) (bool, error) {
	_, err := runtime.DefaultOptimizationConfig().Import(doc, "json")
	return err == nil, err
}

func differentialDocs() []struct {
	doc    string
	accept bool
} {
	return []struct {
		doc    string
		accept bool
	}{
		{`{}`, true},
		{`{"telemetry_batch_size": 1}`, true},
		{`{"telemetry_batch_size": 0}`, false},
		{`{"telemetry_batch_size": 1.0}`, true}, // an integer written with a fraction
		{`{"telemetry_batch_size": 1.5}`, false},
		{`{"telemetry_batch_size": 1e400}`, false},
		{`{"object_pool_cleanup_threshold": 1e-99999}`, true},
		{`{"object_pool_cleanup_threshold": 1e99999}`, false},
		{`{"object_pool_cleanup_threshold": 1e100000000}`, false}, // beyond big.Rat
		{`{"telemetry_batch_size": 1E2}`, true},
		{`{"telemetry_batch_size": -0}`, false},
		{`{"telemetry_batch_size": 4096}`, true}, // the telemetry buffer's size
		{`{"telemetry_batch_size": 4097}`, false},
		{`{"telemetry_batch_size": "10"}`, false},
		{`{"telemetry_batch_size": "ten"}`, false},
		{`{"telemetry_flush_interval_seconds": 1e-400}`, false}, // 0 s once a duration
		{`{"telemetry_flush_interval_seconds": 1e-10}`, false},
		{`{"telemetry_flush_interval_seconds": 0.001}`, true},
		{`{"telemetry_flush_interval_seconds": 0.00099999}`, false},
		{`{"slow_execution_threshold_ms": 1e-9}`, false},
		{`{"slow_execution_threshold_ms": 0.001}`, true},
		{`{"optimization_analysis_interval_seconds": 1e-10}`, false},
		{`{"performance_degradation_threshold": 1e-400}`, true},
		{`{"telemetry_batch_size": null}`, false},
		{`{"max_concurrent_executions": null}`, true},
		{`{"max_concurrent_executions": 0}`, false},
		{`{"max_concurrent_executions": 20}`, true},
		{`{"max_concurrent_executions": 9223372036854775808}`, false},
		{`{"object_pool_cleanup_threshold": 0}`, true},
		{`{"object_pool_cleanup_threshold": 1}`, true},
		{`{"object_pool_cleanup_threshold": 1.0000000000000000001}`, false},
		{`{"object_pool_cleanup_threshold": -0.0}`, true},
		{`{"telemetry_flush_interval_seconds": 0}`, false},
		{`{"telemetry_flush_interval_seconds": 1e-300}`, false},
		{`{"telemetry_flush_interval_seconds": 86400}`, true},
		{`{"telemetry_flush_interval_seconds": 86400.5}`, false},
		{`{"cpu_usage_threshold_percent": 100}`, true},
		{`{"cpu_usage_threshold_percent": 0}`, false}, // the resource manager needs a positive threshold
		{`{"cpu_usage_threshold_percent": 100.01}`, false},
		{`{"performance_degradation_threshold": 0}`, false},
		{`{"enable_object_pool": 1}`, false},
		{`{"enable_object_pool": "true"}`, false},
		{`{"enable_object_pool": false}`, true},
		{`{"enable_objectpool": true}`, false},
		{`{"Enable_Object_Pool": true}`, false},
		{`{"enable_performance_monitoring": true, "enable_optimized_telemetry": false}`, false},
		{`{"enable_optimized_telemetry": false}`, false},
		{`{"enable_optimized_telemetry": false, "enable_performance_monitoring": false}`, true},
		{`{"enable_automatic_optimization": true}`, true},
		{`{"enable_automatic_optimization": true, "enable_performance_monitoring": false}`, false},
		{`{"enable_automatic_optimization": false, "enable_performance_monitoring": false, "enable_optimized_telemetry": false}`, true},
		{`{"enable_automatic_optimization": "yes", "enable_performance_monitoring": false}`, false},
		{`{"telemetry_batch_size": 5, "telemetry_batch_size": 0}`, false}, // duplicate members: refused by both
		{`{"telemetry_batch_size": 0, "telemetry_batch_size": 5}`, false},
		{`[]`, false},
		{`null`, false},
		{`"x"`, false},
		{`3`, false},
	}
}

func TestSchemaAgreesWithValidate(t *testing.T) {
	l := newTestLoader(t)
	for _, tc := range differentialDocs() {
		doc := []byte(tc.doc)
		bySchema := schemaAccepts(t, l, doc)
		if bySchema != tc.accept {
			t.Errorf("%s: schema accepts %v, want %v", tc.doc, bySchema, tc.accept)
		}
		if byRuntime, err := runtimeAccepts(doc); byRuntime != bySchema {
			t.Errorf("%s: schema accepts %v, runtime %v (%v)", tc.doc, bySchema, byRuntime, err)
		}
	}
	// Each profile, written out in full.
	for _, p := range runtime.Profiles() {
		doc, err := p.Config().Export("json")
		if err != nil {
			t.Fatal(err)
		}
		if !schemaAccepts(t, l, doc) {
			t.Errorf("schema rejects profile %s", p.Name)
		}
	}
}

// loadAgrees checks Load on {"optimization": doc} against the runtime.
func loadAgrees(t *testing.T, l *Loader, doc []byte) {
	t.Helper()
	if _, err := indexJSON(doc); err != nil || !bytes.HasPrefix(bytes.TrimSpace(doc), []byte("{")) {
		return
	}
	_, lerr := l.Parse("f.json", append(append([]byte(`{"optimization": `), doc...), '}'))
	byRuntime, rerr := runtimeAccepts(doc)
	if (lerr == nil) != byRuntime {
		t.Errorf("%s: Load error %v; runtime accepts %v (%v)", doc, lerr, byRuntime, rerr)
	}
}

func TestLoadAgreesWithValidate(t *testing.T) {
	l := newTestLoader(t)
	for _, tc := range differentialDocs() {
		loadAgrees(t, l, []byte(tc.doc))
	}
}

// hugeExponent matches exponents of five digits or more.
var hugeExponent = regexp.MustCompile(`[eE][+-]?0*[1-9][0-9]{4,}`)

func FuzzSchemaAgreesWithValidate(f *testing.F) {
	for _, tc := range differentialDocs() {
		f.Add([]byte(tc.doc))
	}
	for _, p := range runtime.Profiles() {
		doc, err := p.Config().Export("json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
	}
	for _, fld := range runtime.ConfigFields() {
		for _, v := range []float64{fld.Min, fld.Max} {
			s := strconv.FormatFloat(v, 'f', -1, 64)
			f.Add([]byte(`{"` + fld.Name + `": ` + s + `}`))
		}
	}
	l := newTestLoader(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 4096 || !json.Valid(doc) {
			return // malformed JSON never reaches either validator
		}
		if hugeExponent.Match(doc) {
			// Exact arithmetic on 1e999999 takes tens of milliseconds in
			// each validator; a few hundred of them stall the fuzzer. The
			// table covers such numbers.
			return
		}
		bySchema := schemaAccepts(t, l, doc)
		if byRuntime, err := runtimeAccepts(doc); bySchema != byRuntime {
			t.Fatalf("%s: schema accepts %v, runtime %v (%v)", doc, bySchema, byRuntime, err)
		}
		loadAgrees(t, l, doc)
	})
}

// TestSchemaAgreesWithValidateAtBoundaries: for every numeric field of
// runtime.ConfigFields, the schema and the runtime agree on the field's
// bounds, just past them, zero, tiny, negative, huge and fractional values.
// The root package's TestConfigRulesAgree checks the same values against
// the executors, so the three agree.
func TestSchemaAgreesWithValidateAtBoundaries(t *testing.T) {
	l := newTestLoader(t)
	for _, f := range runtime.ConfigFields() {
		if f.Kind == runtime.FieldBool {
			continue
		}
		for _, v := range []string{
			strconv.FormatFloat(f.Min, 'f', -1, 64), strconv.FormatFloat(f.Max, 'f', -1, 64),
			strconv.FormatFloat(math.Nextafter(f.Min, math.Inf(-1)), 'g', -1, 64),
			strconv.FormatFloat(math.Nextafter(f.Max, math.Inf(1)), 'g', -1, 64),
			"0", "-0", "-1", "0.5", "1.5", "1e-10", "1e-300", "1e-400", "5e-324", "0.001", "0.0009", "1e18", "1e300", "9223372036854775808",
		} {
			doc := []byte(`{"` + f.Name + `": ` + v + `}`)
			bySchema := schemaAccepts(t, l, doc)
			if byRuntime, err := runtimeAccepts(doc); byRuntime != bySchema {
				t.Errorf("%s: schema accepts %v, runtime %v (%v)", doc, bySchema, byRuntime, err)
			}
		}
	}
}
