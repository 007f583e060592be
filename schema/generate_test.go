package schema

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/flujo/flujo/runtime"
)

var update = flag.Bool("update", false, "rewrite flujo.schema.json from the Go types")

func TestCommittedSchemaIsGenerated(t *testing.T) {
	got, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("flujo.schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	onDisk, err := os.ReadFile("flujo.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, onDisk) {
		t.Errorf("schema/flujo.schema.json is stale: run `go run ./cmd/flujogen schema > schema/flujo.schema.json` (or go test ./schema -update)")
	}
	if !bytes.Equal(Embedded(), onDisk) {
		t.Errorf("the embedded schema differs from flujo.schema.json")
	}
	again, err := Generate()
	if err != nil || !bytes.Equal(got, again) {
		t.Errorf("Generate is not deterministic (err %v)", err)
	}
}

// schemaDoc decodes the committed schema.
func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(Embedded()))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func objectAt(t *testing.T, doc map[string]any, path ...string) map[string]any {
	t.Helper()
	cur := doc
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			t.Fatalf("schema has no object at %s", strings.Join(path, "/"))
		}
		cur = next
	}
	return cur
}

func jsonFieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

func TestSchemaHasEveryJSONField(t *testing.T) {
	doc := schemaDoc(t)
	for _, tc := range []struct {
		typ  reflect.Type
		path []string
	}{
		{reflect.TypeFor[File](), nil},
		{reflect.TypeFor[StepOverride](), []string{"$defs", "StepOverride"}},
		{reflect.TypeFor[runtime.OptimizationConfig](), []string{"$defs", "OptimizationConfig"}},
	} {
		obj := objectAt(t, doc, tc.path...)
		props := objectAt(t, obj, "properties")
		names := jsonFieldNames(tc.typ)
		if len(names) != tc.typ.NumField() {
			t.Errorf("%s: %d of %d fields have a JSON name", tc.typ, len(names), tc.typ.NumField())
		}
		if len(props) != len(names) {
			t.Errorf("%s: schema has %d properties, the type %d JSON fields", tc.typ, len(props), len(names))
		}
		for _, name := range names {
			p, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s: JSON field %q is not in the schema", tc.typ, name)
				continue
			}
			if d, _ := p["description"].(string); d == "" {
				t.Errorf("%s: %q has no description", tc.typ, name)
			}
		}
		if obj["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties = %v, want false", tc.typ, obj["additionalProperties"])
		}
		if _, ok := obj["required"]; ok {
			t.Errorf("%s: schema requires members; every member is optional", tc.typ)
		}
	}
	if got := doc["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", got)
	}
	if got := doc["$id"]; got != SchemaURL {
		t.Errorf("$id = %v, want %s", got, SchemaURL)
	}
}

// The defaults of the feature guide, as its tables state them.
var guideDefaults = map[string]string{
	"enable_object_pool": "true", "object_pool_max_size": "50", "object_pool_cleanup_threshold": "0.9",
	"enable_context_optimization": "true", "enable_memory_optimization": "true",
	"enable_step_optimization": "true", "enable_algorithm_optimization": "true",
	"enable_concurrency_optimization": "true", "max_concurrent_executions": "null",
	"enable_optimized_telemetry": "true", "enable_performance_monitoring": "true",
	"telemetry_batch_size": "10", "telemetry_flush_interval_seconds": "30",
	"enable_optimized_error_handling": "true", "enable_circuit_breaker": "true",
	"error_cache_size": "50", "circuit_breaker_failure_threshold": "10",
	"circuit_breaker_recovery_timeout_seconds": "60",
	"enable_cache_optimization":                "false", "cache_compression": "false",
	"cache_ttl_seconds": "7200", "cache_max_size": "500",
	"slow_execution_threshold_ms": "1000", "memory_pressure_threshold_mb": "500",
	"cpu_usage_threshold_percent":   "80",
	"enable_automatic_optimization": "false", "optimization_analysis_interval_seconds": "60",
	"performance_degradation_threshold": "0.2",
}

func TestSchemaHasGuideDefaults(t *testing.T) {
	props := objectAt(t, schemaDoc(t), "$defs", "OptimizationConfig", "properties")
	if len(guideDefaults) != 28 || len(props) != 28 {
		t.Fatalf("want 28 parameters: guide table %d, schema %d", len(guideDefaults), len(props))
	}
	for name, want := range guideDefaults {
		p, ok := props[name].(map[string]any)
		if !ok {
			t.Errorf("%s is not in the schema", name)
			continue
		}
		d, ok := p["default"]
		if !ok {
			t.Errorf("%s has no default", name)
			continue
		}
		got, _ := json.Marshal(d)
		if string(got) != want {
			t.Errorf("%s: default %s, guide says %s", name, got, want)
		}
	}
}

func TestSchemaRangesAreRuntimeRanges(t *testing.T) {
	props := objectAt(t, schemaDoc(t), "$defs", "OptimizationConfig", "properties")
	for _, f := range runtime.ConfigFields() {
		p := objectAt(t, props, f.Name)
		wantType := any(f.Kind.String())
		if f.Nullable {
			wantType = []any{f.Kind.String(), "null"}
		}
		if !reflect.DeepEqual(p["type"], wantType) {
			t.Errorf("%s: type %v, want %v", f.Name, p["type"], wantType)
		}
		if p["description"] != f.Description {
			t.Errorf("%s: description differs from runtime.ConfigFields", f.Name)
		}
		if f.Kind == runtime.FieldBool {
			for _, kw := range []string{"minimum", "exclusiveMinimum", "maximum"} {
				if _, ok := p[kw]; ok {
					t.Errorf("%s: boolean with %s", f.Name, kw)
				}
			}
			continue
		}
		minKw, otherKw := "minimum", "exclusiveMinimum"
		if f.ExclusiveMin {
			minKw, otherKw = otherKw, minKw
		}
		if got := p[minKw]; got != jsonNum(f.Min) {
			t.Errorf("%s: %s %v, want %v", f.Name, minKw, got, f.Min)
		}
		if _, ok := p[otherKw]; ok {
			t.Errorf("%s: has %s too", f.Name, otherKw)
		}
		if got := p["maximum"]; got != jsonNum(f.Max) {
			t.Errorf("%s: maximum %v, want %v", f.Name, got, f.Max)
		}
	}
}

func TestSchemaStatesCrossFieldRules(t *testing.T) {
	opt := objectAt(t, schemaDoc(t), "$defs", "OptimizationConfig")
	all, _ := opt["allOf"].([]any)
	rules := runtime.CrossFieldRules()
	if len(all) != len(rules) {
		t.Fatalf("schema has %d conditions, runtime %d rules", len(all), len(rules))
	}
	for i, r := range rules {
		c := all[i].(map[string]any)
		ifProps := objectAt(t, c, "if", "properties")
		thenProps := objectAt(t, c, "then", "properties")
		if _, ok := ifProps[r.If]; !ok || len(ifProps) != 1 {
			t.Errorf("rule %d: if names %v, want %s", i, ifProps, r.If)
		}
		if _, ok := thenProps[r.Then]; !ok || len(thenProps) != 1 {
			t.Errorf("rule %d: then names %v, want %s", i, thenProps, r.Then)
		}
	}
}

func TestDescribeCoversSchema(t *testing.T) {
	ref, err := Describe()
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.Sections) != 4 {
		t.Fatalf("%d sections, want flujo.json, optimization, steps, distributed", len(ref.Sections))
	}
	wantFields := []int{len(jsonFieldNames(reflect.TypeFor[File]())), len(runtime.ConfigFields()), len(jsonFieldNames(reflect.TypeFor[StepOverride]())), len(runtime.DistributedFields())}
	for i, s := range ref.Sections {
		if len(s.Fields) != wantFields[i] {
			t.Errorf("section %s: %d fields, want %d", s.Name, len(s.Fields), wantFields[i])
		}
		for _, f := range s.Fields {
			if f.Type == "" || f.Description == "" {
				t.Errorf("section %s: field %s lacks type or description", s.Name, f.Name)
			}
		}
	}
	for _, f := range ref.Sections[1].Fields {
		if f.Default != guideDefaults[f.Name] {
			t.Errorf("%s: default %q, guide %q", f.Name, f.Default, guideDefaults[f.Name])
		}
	}
	var want []Rule
	for _, r := range runtime.CrossFieldRules() {
		want = append(want, Rule{If: r.If, Then: r.Then})
	}
	if !reflect.DeepEqual(ref.Rules, want) {
		t.Errorf("rules %v, want %v", ref.Rules, want)
	}
}
