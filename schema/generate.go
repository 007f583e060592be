package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/invopop/jsonschema"

	"github.com/flujo/flujo/runtime"
)

// The patterns of the schema. Each has its own wording in error messages
// (see patternMessage), so a change here must keep those in step.
const (
	// durationPattern accepts Go duration strings greater than zero: one or
	// more number+unit segments, at least one with a non-zero digit.
	durationPattern = `^(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))*` +
		`([0-9]*[1-9][0-9]*(\.[0-9]*)?|[0-9]*\.[0-9]*[1-9][0-9]*)(ns|us|µs|μs|ms|s|m|h)` +
		`(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))*$`
	// stepKeyPattern is "<pipeline>.<step>": the pipeline name has no dot.
	stepKeyPattern = `^[^.]+\..+$`
	// outputPattern is a Go file name the go tool compiles: no directory,
	// not hidden or ignored (leading "." or "_").
	outputPattern = `^[A-Za-z0-9][A-Za-z0-9_.-]*\.go$`
	// partialBuildPattern matches names of files the go tool compiles
	// into some builds only: test files, and files named for an operating
	// system or architecture (x_linux.go, x_linux_amd64.go, x_arm64.go,
	// which go/build decides on the part of the name before its first
	// dot). The lists are go/build's known ones.
	partialBuildPattern = `_test\.go$|^[^.]*_(?:(?:` + knownOS + `)(?:_(?:` + knownArch + `))?|(?:` + knownArch + `))\.`
	knownOS             = `aix|android|darwin|dragonfly|freebsd|hurd|illumos|ios|js|linux|nacl|netbsd|openbsd|plan9|solaris|wasip1|windows|zos`
	knownArch           = `386|amd64|amd64p32|arm|armbe|arm64|arm64be|loong64|mips|mipsle|mips64|mips64le|mips64p32|mips64p32le|ppc|ppc64|ppc64le|riscv|riscv64|s390|s390x|sparc|sparc64|wasm`
)

// Definition names in "$defs".
const (
	optimizationDef = "OptimizationConfig"
	stepOverrideDef = "StepOverride"
	distributedDef  = "DistributedConfig"
)

// fileDocs and stepDocs describe the members of File and StepOverride.
func fileDocs() map[string]string {
	return map[string]string{
		"$schema":      "The JSON Schema of this file, for editors; flujogen ignores it.",
		"optimization": "Optimization settings; any field left out takes its default.",
		"steps":        `Overrides for single steps, keyed "<pipeline>.<step>" (the pipeline name may not contain a dot).`,
		"output":       "Name of the generated Go file, written into the package folder; every build must compile it, so not a test file (x_test.go) nor one named for an operating system or architecture (x_linux.go).",
		"distributed":  "Sharing across the replicas of a service on a Redis or Valkey server: result cache, circuit-breaker state, usage budgets; any field left out takes its default.",
	}
}

func stepDocs() map[string]string {
	return map[string]string{
		"retries":                           "Retries after the first failed attempt (attempts = retries + 1); replaces the step's Retries option.",
		"timeout":                           `Timeout of one attempt, as a Go duration such as "200ms" or "1.5s", at most 24h; replaces the step's Timeout option.`,
		"cache":                             "Turns result caching of this step on or off, whatever its declaration says.",
		"cache_ttl_seconds":                 "Time to live of this step's cached results, in seconds; replaces optimization.cache_ttl_seconds.",
		"circuit_breaker_failure_threshold": "Consecutive failures that open this step's circuit breaker; replaces optimization.circuit_breaker_failure_threshold.",
		"circuit_breaker_recovery_timeout_seconds": "Seconds this step's open breaker waits before a probe; replaces optimization.circuit_breaker_recovery_timeout_seconds.",
	}
}

// Generate returns flujo.schema.json as the Go types and the runtime's
// field table produce it: indented, with a trailing newline. The committed
// file must equal it byte for byte.
func Generate() ([]byte, error) {
	s, err := build()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	// Schema.MarshalJSON escapes <, > and & itself; undo it so the
	// descriptions stay readable. No description holds a literal `\u00`,
	// so the replacement cannot touch anything else.
	for _, r := range [][2]string{{`\u003c`, "<"}, {`\u003e`, ">"}, {`\u0026`, "&"}} {
		out = bytes.ReplaceAll(out, []byte(r[0]), []byte(r[1]))
	}
	return out, nil
}

// build reflects File into a schema and completes it from the runtime's
// field table, so the schema and runtime.Validate share one source of
// ranges, defaults and descriptions.
func build() (*jsonschema.Schema, error) {
	r := &jsonschema.Reflector{
		Anonymous:                  true,
		ExpandedStruct:             true,
		RequiredFromJSONSchemaTags: true, // every member is optional
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == reflect.TypeFor[Duration]() {
				return &jsonschema.Schema{Type: "string", Pattern: durationPattern}
			}
			return nil
		},
	}
	s := r.Reflect(&File{})
	s.ID = jsonschema.ID(SchemaURL)
	s.Title = "flujo.json"
	s.Description = "Configuration of flujogen and of the executors it generates."

	if err := completeFile(s); err != nil {
		return nil, err
	}
	step, ok := s.Definitions[stepOverrideDef]
	if !ok {
		return nil, errors.New("schema: no definition for StepOverride")
	}
	if err := completeStep(step); err != nil {
		return nil, err
	}
	opt, ok := s.Definitions[optimizationDef]
	if !ok {
		return nil, errors.New("schema: no definition for OptimizationConfig")
	}
	if err := completeOptimization(opt); err != nil {
		return nil, err
	}
	dist, ok := s.Definitions[distributedDef]
	if !ok {
		return nil, errors.New("schema: no definition for DistributedConfig")
	}
	if err := completeDistributed(dist); err != nil {
		return nil, err
	}
	return s, nil
}

// The rules between the distributed section's members, in "allOf" in
// this order; translate words them as the runtime does.
const (
	ruleBothAddresses = iota
	ruleNoAddress
)

// completeDistributed adds the runtime's table (descriptions, defaults,
// ranges, patterns) and the rules between members to the distributed
// section's schema.
func completeDistributed(s *jsonschema.Schema) error {
	s.Description = "Sharing across replicas (runtime.DistributedConfig): where the Redis or Valkey server is, how long a call may take, the key prefix, and which parts are shared. Any field left out takes its default."
	fields := runtime.DistributedFields()
	if s.Properties.Len() != len(fields) {
		return fmt.Errorf("schema: DistributedConfig has %d JSON fields, runtime.DistributedFields %d", s.Properties.Len(), len(fields))
	}
	for _, f := range fields {
		p, ok := s.Properties.Get(f.Name)
		if !ok {
			return fmt.Errorf("schema: runtime field %q is not a JSON field of DistributedConfig", f.Name)
		}
		if p.Type != f.Kind.String() {
			return fmt.Errorf("schema: distributed.%s is %q in the Go type and %q in runtime.DistributedFields", f.Name, p.Type, f.Kind)
		}
		p.Description = f.Description
		p.Default = f.Default
		switch f.Kind {
		case runtime.FieldInteger:
			p.Minimum = json.Number(strconv.Itoa(f.Min))
			p.Maximum = json.Number(strconv.Itoa(f.Max))
		case runtime.FieldString:
			p.Pattern = f.Pattern
			if f.MaxLength > 0 {
				n := uint64(f.MaxLength)
				p.MaxLength = &n
			}
		}
	}
	props := jsonschema.NewProperties()
	for _, part := range []string{"cache", "breaker", "budgets"} {
		props.Set(part, &jsonschema.Schema{Const: false})
	}
	rules := make([]*jsonschema.Schema, 2)
	rules[ruleBothAddresses] = &jsonschema.Schema{
		Comments: "address and address_env exclude each other",
		Not:      &jsonschema.Schema{Required: []string{"address", "address_env"}},
	}
	rules[ruleNoAddress] = &jsonschema.Schema{
		Comments: "a section that shares anything names its server",
		AnyOf: []*jsonschema.Schema{
			{Required: []string{"address"}},
			{Required: []string{"address_env"}},
			{Properties: props, Required: []string{"cache", "breaker", "budgets"}},
		},
	}
	s.AllOf = rules
	return nil
}

func describe(s *jsonschema.Schema, docs map[string]string) error {
	for p := s.Properties.Oldest(); p != nil; p = p.Next() {
		d, ok := docs[p.Key]
		if !ok {
			return fmt.Errorf("schema: no description for %q", p.Key)
		}
		p.Value.Description = d
	}
	if len(docs) != s.Properties.Len() {
		return fmt.Errorf("schema: %d descriptions for %d properties", len(docs), s.Properties.Len())
	}
	return nil
}

func completeFile(s *jsonschema.Schema) error {
	if err := describe(s, fileDocs()); err != nil {
		return err
	}
	steps, _ := s.Properties.Get("steps")
	steps.PropertyNames = &jsonschema.Schema{Pattern: stepKeyPattern}
	steps.Default = map[string]any{}
	out, _ := s.Properties.Get("output")
	out.Pattern = outputPattern
	out.Not = &jsonschema.Schema{Pattern: partialBuildPattern}
	out.Default = DefaultOutput
	return nil
}

func completeStep(s *jsonschema.Schema) error {
	s.Description = "Settings of one step that replace those of its declaration and of the optimization section."
	if err := describe(s, stepDocs()); err != nil {
		return err
	}
	retries, _ := s.Properties.Get("retries")
	retries.Minimum = "0"
	retries.Maximum = json.Number(strconv.Itoa(MaxRetries))
	// The numeric overrides share the ranges of the optimization fields
	// they replace.
	for _, name := range []string{"cache_ttl_seconds", "circuit_breaker_failure_threshold", "circuit_breaker_recovery_timeout_seconds"} {
		f, ok := runtime.LookupConfigField(name)
		if !ok {
			return fmt.Errorf("schema: runtime has no field %q", name)
		}
		p, _ := s.Properties.Get(name)
		if err := setRange(p, f); err != nil {
			return err
		}
	}
	return nil
}

func completeOptimization(s *jsonschema.Schema) error {
	s.Description = "Optimization settings of the executors (runtime.OptimizationConfig). Any field left out takes its default."
	fields := runtime.ConfigFields()
	if s.Properties.Len() != len(fields) {
		return fmt.Errorf("schema: OptimizationConfig has %d JSON fields, runtime.ConfigFields %d", s.Properties.Len(), len(fields))
	}
	defaults := runtime.DefaultOptimizationConfig().ToMap()
	for _, f := range fields {
		p, ok := s.Properties.Get(f.Name)
		if !ok {
			return fmt.Errorf("schema: runtime field %q is not a JSON field of OptimizationConfig", f.Name)
		}
		p.Description = f.Description
		if err := setRange(p, f); err != nil {
			return err
		}
		if d := defaults[f.Name]; d != nil {
			p.Default = d
		} else {
			if p.Extras == nil {
				p.Extras = map[string]any{}
			}
			p.Extras["default"] = nil
		}
	}
	for _, rule := range runtime.CrossFieldRules() {
		cond, err := requireTrue(rule.If, defaults)
		if err != nil {
			return err
		}
		then, err := requireTrue(rule.Then, defaults)
		if err != nil {
			return err
		}
		s.AllOf = append(s.AllOf, &jsonschema.Schema{
			Comments: rule.If + " requires " + rule.Then,
			If:       cond,
			Then:     then,
		})
	}
	return nil
}

// requireTrue returns a schema that holds when the boolean field is true
// once the defaults are applied: a field that defaults to true may be
// absent, one that defaults to false must be present.
func requireTrue(name string, defaults map[string]any) (*jsonschema.Schema, error) {
	d, ok := defaults[name].(bool)
	if !ok {
		return nil, fmt.Errorf("schema: cross-field rule names %q, which is not a boolean field", name)
	}
	props := jsonschema.NewProperties()
	props.Set(name, &jsonschema.Schema{Const: true})
	s := &jsonschema.Schema{Properties: props}
	if !d {
		s.Required = []string{name}
	}
	return s, nil
}

// setRange checks that the reflected type of p is the kind of f and adds
// the bounds of f.
func setRange(p *jsonschema.Schema, f runtime.ConfigField) error {
	if p.Type != f.Kind.String() {
		return fmt.Errorf("schema: %s is %q in the Go type and %q in runtime.ConfigFields", f.Name, p.Type, f.Kind)
	}
	if f.Nullable {
		p.Type = ""
		if p.Extras == nil {
			p.Extras = map[string]any{}
		}
		p.Extras["type"] = []string{f.Kind.String(), "null"}
	}
	if f.Kind == runtime.FieldBool {
		return nil
	}
	if f.ExclusiveMin {
		p.ExclusiveMinimum = jsonNum(f.Min)
	} else {
		p.Minimum = jsonNum(f.Min)
	}
	p.Maximum = jsonNum(f.Max)
	return nil
}

func jsonNum(v float64) json.Number {
	return json.Number(strconv.FormatFloat(v, 'f', -1, 64))
}
