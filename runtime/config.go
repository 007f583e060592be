package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// OptimizationConfig holds every knob of the executor optimizations. Its JSON
// names are those of the feature guide. The zero value is not the default:
// start from DefaultOptimizationConfig and change what you need, or overlay a
// partial JSON document with Import.
type OptimizationConfig struct {
	// Memory optimization.

	EnableObjectPool           bool    `json:"enable_object_pool"`
	ObjectPoolMaxSize          int     `json:"object_pool_max_size"`
	ObjectPoolCleanupThreshold float64 `json:"object_pool_cleanup_threshold"`
	EnableContextOptimization  bool    `json:"enable_context_optimization"`
	EnableMemoryOptimization   bool    `json:"enable_memory_optimization"`

	// Execution optimization.

	EnableStepOptimization        bool `json:"enable_step_optimization"`
	EnableAlgorithmOptimization   bool `json:"enable_algorithm_optimization"`
	EnableConcurrencyOptimization bool `json:"enable_concurrency_optimization"`
	// MaxConcurrentExecutions caps concurrent executions; nil means
	// DefaultConcurrencyCeiling (1000), a ceiling the adaptive limit stays
	// well below unless the upstream takes that much.
	MaxConcurrentExecutions *int `json:"max_concurrent_executions"`

	// Telemetry.

	EnableOptimizedTelemetry      bool    `json:"enable_optimized_telemetry"`
	EnablePerformanceMonitoring   bool    `json:"enable_performance_monitoring"`
	TelemetryBatchSize            int     `json:"telemetry_batch_size"`
	TelemetryFlushIntervalSeconds float64 `json:"telemetry_flush_interval_seconds"`

	// Error handling.

	EnableOptimizedErrorHandling         bool `json:"enable_optimized_error_handling"`
	EnableCircuitBreaker                 bool `json:"enable_circuit_breaker"`
	ErrorCacheSize                       int  `json:"error_cache_size"`
	CircuitBreakerFailureThreshold       int  `json:"circuit_breaker_failure_threshold"`
	CircuitBreakerRecoveryTimeoutSeconds int  `json:"circuit_breaker_recovery_timeout_seconds"`

	// Result cache.

	EnableCacheOptimization bool `json:"enable_cache_optimization"`
	CacheCompression        bool `json:"cache_compression"`
	CacheTTLSeconds         int  `json:"cache_ttl_seconds"`
	CacheMaxSize            int  `json:"cache_max_size"`

	// Performance thresholds.

	SlowExecutionThresholdMs  float64 `json:"slow_execution_threshold_ms"`
	MemoryPressureThresholdMb float64 `json:"memory_pressure_threshold_mb"`
	CPUUsageThresholdPercent  float64 `json:"cpu_usage_threshold_percent"`

	// Automatic optimization.

	EnableAutomaticOptimization         bool    `json:"enable_automatic_optimization"`
	OptimizationAnalysisIntervalSeconds float64 `json:"optimization_analysis_interval_seconds"`
	PerformanceDegradationThreshold     float64 `json:"performance_degradation_threshold"`
}

// DefaultOptimizationConfig returns the defaults of the feature guide.
func DefaultOptimizationConfig() OptimizationConfig {
	return OptimizationConfig{
		EnableObjectPool:           true,
		ObjectPoolMaxSize:          50,
		ObjectPoolCleanupThreshold: 0.9,
		EnableContextOptimization:  true,
		EnableMemoryOptimization:   true,

		EnableStepOptimization:        true,
		EnableAlgorithmOptimization:   true,
		EnableConcurrencyOptimization: true,
		MaxConcurrentExecutions:       nil,

		EnableOptimizedTelemetry:      true,
		EnablePerformanceMonitoring:   true,
		TelemetryBatchSize:            10,
		TelemetryFlushIntervalSeconds: 30,

		EnableOptimizedErrorHandling:         true,
		EnableCircuitBreaker:                 true,
		ErrorCacheSize:                       50,
		CircuitBreakerFailureThreshold:       10,
		CircuitBreakerRecoveryTimeoutSeconds: 60,

		EnableCacheOptimization: false,
		CacheCompression:        false,
		CacheTTLSeconds:         7200,
		CacheMaxSize:            500,

		SlowExecutionThresholdMs:  1000,
		MemoryPressureThresholdMb: 500,
		CPUUsageThresholdPercent:  80,

		EnableAutomaticOptimization:         false,
		OptimizationAnalysisIntervalSeconds: 60,
		PerformanceDegradationThreshold:     0.2,
	}
}

// Clone returns a copy that shares no memory with c.
func (c OptimizationConfig) Clone() OptimizationConfig {
	if c.MaxConcurrentExecutions != nil {
		n := *c.MaxConcurrentExecutions
		c.MaxConcurrentExecutions = &n
	}
	return c
}

// Equal reports whether c and o hold the same settings.
func (c OptimizationConfig) Equal(o OptimizationConfig) bool {
	a, b := c.MaxConcurrentExecutions, o.MaxConcurrentExecutions
	if (a == nil) != (b == nil) || (a != nil && *a != *b) {
		return false
	}
	c.MaxConcurrentExecutions, o.MaxConcurrentExecutions = nil, nil
	return c == o
}

// ConfigFieldKind is the JSON type of a configuration field.
type ConfigFieldKind int

// The JSON types of configuration fields.
const (
	FieldBool ConfigFieldKind = iota
	FieldInteger
	FieldNumber
	// FieldString is a string; only the distributed section has them.
	FieldString
)

// String returns the JSON Schema type name of k.
func (k ConfigFieldKind) String() string {
	switch k {
	case FieldBool:
		return "boolean"
	case FieldInteger:
		return "integer"
	case FieldString:
		return "string"
	default:
		return "number"
	}
}

// ConfigField describes one OptimizationConfig field: its JSON name, type,
// the range the schema and Validate enforce, and its documentation. The
// schema generator and the validator both read this table, so they cannot
// disagree.
type ConfigField struct {
	Name         string
	Kind         ConfigFieldKind
	Nullable     bool    // null is allowed (max_concurrent_executions only)
	Min, Max     float64 // inclusive bounds for numbers; ignored for booleans
	ExclusiveMin bool    // Min itself is not allowed
	Description  string
	// Runtime reports whether a running executor can apply a change of this
	// field without regeneration.
	Runtime bool
}

// Allowed describes the field's range in words, e.g. "an integer from 1 to 1000000".
func (f ConfigField) Allowed() string {
	switch f.Kind {
	case FieldBool:
		return "true or false"
	case FieldInteger:
		s := fmt.Sprintf("an integer from %s to %s", fmtNum(f.Min), fmtNum(f.Max))
		if f.Nullable {
			s += ", or null for auto-detect"
		}
		return s
	default:
		lo := ">= " + fmtNum(f.Min)
		if f.ExclusiveMin {
			lo = "> " + fmtNum(f.Min)
		}
		return fmt.Sprintf("a number %s and <= %s", lo, fmtNum(f.Max))
	}
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// The upper bounds are generous; they exist so that every accepted value fits
// its Go type and the schema and Validate agree on every document.
const (
	maxCount   = 1_000_000
	maxSeconds = 86_400
)

// The lower bounds of the fields that become a time.Duration: the timers
// and thresholds built from them need a positive duration, which a value
// such as 1e-10 seconds is not once converted. These bounds are the rule;
// the components' own checks never refuse what they allow.
const (
	minIntervalSeconds = 0.001 // 1 ms
	minThresholdMs     = 0.001 // 1 µs
)

// TelemetryFlushInterval returns telemetry_flush_interval_seconds as a
// duration, the telemetry's flush interval.
func (c OptimizationConfig) TelemetryFlushInterval() time.Duration {
	return time.Duration(c.TelemetryFlushIntervalSeconds * float64(time.Second))
}

// SlowExecutionThreshold returns slow_execution_threshold_ms as a duration.
func (c OptimizationConfig) SlowExecutionThreshold() time.Duration {
	return time.Duration(c.SlowExecutionThresholdMs * float64(time.Millisecond))
}

// AnalysisInterval returns optimization_analysis_interval_seconds as a
// duration: the monitor's window and the auto-tuner's interval.
func (c OptimizationConfig) AnalysisInterval() time.Duration {
	return time.Duration(c.OptimizationAnalysisIntervalSeconds * float64(time.Second))
}

// ConfigFields lists every OptimizationConfig field in declaration order.
func ConfigFields() []ConfigField {
	return []ConfigField{
		{Name: "enable_object_pool", Kind: FieldBool, Description: "Reuse pooled objects (results, history records, scratch space) instead of allocating them per run."},
		{Name: "object_pool_max_size", Kind: FieldInteger, Min: 1, Max: maxCount, Description: "Maximum number of idle objects kept per pooled type."},
		{Name: "object_pool_cleanup_threshold", Kind: FieldNumber, Min: 0, Max: 1, Description: "When idle objects exceed this fraction of object_pool_max_size, the pool trims itself to half its capacity."},
		{Name: "enable_context_optimization", Kind: FieldBool, Description: "Copy-on-write pipeline state in Parallel: branches that do not write state share the original."},
		{Name: "enable_memory_optimization", Kind: FieldBool, Description: "Sample memory in the background and shrink caches, pools and concurrency under memory pressure."},
		{Name: "enable_step_optimization", Kind: FieldBool, Description: "Analyse each step once (kind, signature, cacheability, write sets) and reuse the analysis."},
		{Name: "enable_algorithm_optimization", Kind: FieldBool, Description: "Hash cache keys with the fast seeded hashers instead of a canonical JSON encoding."},
		{Name: "enable_concurrency_optimization", Kind: FieldBool, Runtime: true, Description: "Adapt the concurrency limit to the steps' service times: start at 20, admit bursts at once while service time holds, and lower the limit to the upstream's capacity when service time rises with concurrency or calls time out."},
		{Name: "max_concurrent_executions", Kind: FieldInteger, Nullable: true, Min: 1, Max: maxCount, Runtime: true, Description: "Upper bound on concurrent step executions; null means a generous ceiling of 1000, below which the adaptive limit finds the upstream's capacity. Set it to an upstream's known capacity, not from the CPU count."},
		{Name: "enable_optimized_telemetry", Kind: FieldBool, Description: "Record per-execution telemetry events into a lock-free buffer exported in batches."},
		{Name: "enable_performance_monitoring", Kind: FieldBool, Description: "Keep per-step latency histograms, count slow executions and detect regressions. Requires enable_optimized_telemetry."},
		{Name: "telemetry_batch_size", Kind: FieldInteger, Min: 1, Max: DefaultTelemetryBufferSize, Runtime: true, Description: "Number of telemetry events exported per batch; at most the telemetry buffer's size."},
		{Name: "telemetry_flush_interval_seconds", Kind: FieldNumber, Min: minIntervalSeconds, Max: maxSeconds, Runtime: true, Description: "Longest time an event waits before it is exported, in seconds."},
		{Name: "enable_optimized_error_handling", Kind: FieldBool, Description: "Learn error patterns and skip retries of errors that have never recovered."},
		{Name: "enable_circuit_breaker", Kind: FieldBool, Description: "Guard each step with a circuit breaker."},
		{Name: "error_cache_size", Kind: FieldInteger, Min: 1, Max: maxCount, Description: "Number of error patterns the error classifier remembers."},
		{Name: "circuit_breaker_failure_threshold", Kind: FieldInteger, Min: 1, Max: maxCount, Description: "Consecutive failures that open a step's circuit breaker."},
		{Name: "circuit_breaker_recovery_timeout_seconds", Kind: FieldInteger, Min: 1, Max: maxSeconds, Description: "Seconds an open breaker waits before it lets a probe through (half-open)."},
		{Name: "enable_cache_optimization", Kind: FieldBool, Description: "Cache successful results of steps declared with Cache()."},
		{Name: "cache_compression", Kind: FieldBool, Description: "Compress large cached values: less memory, more CPU."},
		{Name: "cache_ttl_seconds", Kind: FieldInteger, Min: 1, Max: 365 * maxSeconds, Description: "Time to live of a cached result, in seconds."},
		{Name: "cache_max_size", Kind: FieldInteger, Min: 1, Max: 100 * maxCount, Description: "Maximum number of cached results."},
		{Name: "slow_execution_threshold_ms", Kind: FieldNumber, Min: minThresholdMs, Max: 1000 * maxSeconds, Runtime: true, Description: "Executions slower than this, in milliseconds, count as slow."},
		{Name: "memory_pressure_threshold_mb", Kind: FieldNumber, Min: 0, ExclusiveMin: true, Max: 16 * 1024 * 1024, Runtime: true, Description: "Memory use, in MiB, at which the process is under pressure."},
		{Name: "cpu_usage_threshold_percent", Kind: FieldNumber, Min: 0, ExclusiveMin: true, Max: 100, Runtime: true, Description: "Process CPU use, in percent of the available cores, at which the process is under pressure."},
		{Name: "enable_automatic_optimization", Kind: FieldBool, Description: "Apply automatic recommendations to run-time settings periodically. Requires enable_performance_monitoring."},
		{Name: "optimization_analysis_interval_seconds", Kind: FieldNumber, Min: minIntervalSeconds, Max: maxSeconds, Runtime: true, Description: "Seconds between two runs of the automatic optimizer."},
		{Name: "performance_degradation_threshold", Kind: FieldNumber, Min: 0, ExclusiveMin: true, Max: 100, Runtime: true, Description: "Relative slowdown of the recent window over the baseline that counts as a regression (0.2 = 20%)."},
	}
}

// LookupConfigField returns the field with the given JSON name.
func LookupConfigField(name string) (ConfigField, bool) {
	for _, f := range ConfigFields() {
		if f.Name == name {
			return f, true
		}
	}
	return ConfigField{}, false
}

// ConfigFieldNames returns every JSON field name in declaration order.
func ConfigFieldNames() []string {
	fs := ConfigFields()
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return names
}

// FieldError is one problem with one configuration field.
type FieldError struct {
	Field   string // JSON name of the field, or of the first field of a rule
	Value   any    // the value found; nil when the field is missing or unknown
	Message string // what is wrong and what is allowed
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError lists every problem found in a configuration, in field order.
type ValidationError struct {
	// Section names the configuration the problems are in: "" for the
	// optimization configuration, "distributed" for DistributedConfig.
	Section  string
	Problems []*FieldError
}

// Error lists the problems, one a line when there are several.
func (e *ValidationError) Error() string {
	section := e.Section
	if section == "" {
		section = "optimization"
	}
	if len(e.Problems) == 1 {
		return "invalid " + section + " config: " + e.Problems[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid %s config: %d problems:", section, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the individual problems, for errors.Is and errors.As.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// Validate checks every field and the cross-field rules and returns a
// *ValidationError listing all problems, or nil. It never panics.
func (c OptimizationConfig) Validate() error {
	var problems []*FieldError
	for _, f := range ConfigFields() {
		if f.Kind == FieldBool {
			continue
		}
		v, isNull := c.numeric(f.Name)
		if isNull {
			if !f.Nullable {
				problems = append(problems, &FieldError{Field: f.Name, Message: "must be " + f.Allowed() + ", got null"})
			}
			continue
		}
		if msg := checkRange(f, v); msg != "" {
			problems = append(problems, &FieldError{Field: f.Name, Value: v, Message: msg})
		}
	}
	problems = append(problems, c.crossFieldProblems()...)
	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: problems}
}

// CrossFieldRule is a dependency between two boolean fields: when If is
// true, Then must be true too.
type CrossFieldRule struct {
	If, Then string
}

// CrossFieldRules lists the dependencies between fields.
func CrossFieldRules() []CrossFieldRule {
	return []CrossFieldRule{
		{If: "enable_performance_monitoring", Then: "enable_optimized_telemetry"},
		{If: "enable_automatic_optimization", Then: "enable_performance_monitoring"},
	}
}

func (c OptimizationConfig) crossFieldProblems() []*FieldError {
	var problems []*FieldError
	for _, r := range CrossFieldRules() {
		if c.boolField(r.If) && !c.boolField(r.Then) {
			problems = append(problems, &FieldError{
				Field:   r.If,
				Value:   true,
				Message: fmt.Sprintf("requires %s to be true; set %s to true or %s to false", r.Then, r.Then, r.If),
			})
		}
	}
	return problems
}

// checkRange returns what is wrong with v for f, or "".
func checkRange(f ConfigField, v float64) string {
	got := fmtNum(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "must be " + f.Allowed() + ", got " + got
	case f.Kind == FieldInteger && v != math.Trunc(v):
		return "must be an integer, got " + got
	case f.ExclusiveMin && v <= f.Min:
		return fmt.Sprintf("must be > %s, got %s", fmtNum(f.Min), got)
	case !f.ExclusiveMin && v < f.Min:
		return fmt.Sprintf("must be >= %s, got %s", fmtNum(f.Min), got)
	case v > f.Max:
		return fmt.Sprintf("must be <= %s, got %s", fmtNum(f.Max), got)
	}
	return ""
}

// fieldByName maps a JSON name to the struct field's index. Built from the
// struct tags on each call; the struct is small and this is off the hot path.
func configFieldValue(c *OptimizationConfig, name string) (reflect.Value, bool) {
	rv := reflect.ValueOf(c).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		if jsonName(rt.Field(i)) == name {
			return rv.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if i := strings.IndexByte(tag, ','); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

func (c OptimizationConfig) numeric(name string) (v float64, isNull bool) {
	fv, ok := configFieldValue(&c, name)
	if !ok {
		return 0, false
	}
	switch fv.Kind() {
	case reflect.Pointer:
		if fv.IsNil() {
			return 0, true
		}
		return float64(fv.Elem().Int()), false
	case reflect.Int:
		return float64(fv.Int()), false
	case reflect.Float64:
		return fv.Float(), false
	}
	return 0, false
}

func (c OptimizationConfig) boolField(name string) bool {
	fv, ok := configFieldValue(&c, name)
	return ok && fv.Kind() == reflect.Bool && fv.Bool()
}

// ToMap returns the configuration as a map keyed by JSON field name. An unset
// max_concurrent_executions is nil; integers are int and numbers float64.
func (c OptimizationConfig) ToMap() map[string]any {
	m := make(map[string]any, len(ConfigFields()))
	for _, f := range ConfigFields() {
		fv, _ := configFieldValue(&c, f.Name)
		switch fv.Kind() {
		case reflect.Pointer:
			if fv.IsNil() {
				m[f.Name] = nil
			} else {
				m[f.Name] = int(fv.Elem().Int())
			}
		default:
			m[f.Name] = fv.Interface()
		}
	}
	return m
}

// SupportedFormats lists the formats Export and Import accept.
func SupportedFormats() []string { return []string{"json"} }

// UnsupportedFormatError reports an export or import format that is not supported.
type UnsupportedFormatError struct {
	Format string
}

func (e *UnsupportedFormatError) Error() string {
	return fmt.Sprintf("unsupported config format %q; supported formats: %s", e.Format, strings.Join(SupportedFormats(), ", "))
}

// Export encodes the whole configuration in format ("json"), fields in
// declaration order, indented, with a trailing newline.
func (c OptimizationConfig) Export(format string) ([]byte, error) {
	if format != "json" {
		return nil, &UnsupportedFormatError{Format: format}
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Import decodes data in format ("json") as a partial configuration laid over
// c: fields present in data replace those of c, the others keep their value.
// Decoding is strict: unknown fields, wrong types and null for a field that
// does not allow it are errors, every one of them reported. The document
// follows CheckDocument's rules, as flujo.json does: at most
// MaxDocumentSize bytes, a leading byte order mark allowed, no member twice
// (a *DocumentError with its position). The result is
// validated; on any error Import returns the error and c unchanged.
func (c OptimizationConfig) Import(data []byte, format string) (OptimizationConfig, error) {
	if format != "json" {
		return c, &UnsupportedFormatError{Format: format}
	}
	out, err := c.overlayJSON(data)
	if err != nil {
		return c, err
	}
	if err := out.Validate(); err != nil {
		return c, err
	}
	return out, nil
}

// DecodeOptimizationJSON lays the JSON object data over c without validating
// ranges. It reports syntax errors, unknown fields (with a suggestion) and
// type errors, all of them.
func (c OptimizationConfig) DecodeOptimizationJSON(data []byte) (OptimizationConfig, error) {
	return c.overlayJSON(data)
}

func (c OptimizationConfig) overlayJSON(data []byte) (OptimizationConfig, error) {
	// The rules of every configuration document: size, byte order mark,
	// duplicate members; the flujo.json loader applies the same.
	data, docProblems := CheckDocument(data)
	if len(docProblems) > 0 {
		errs := make([]error, len(docProblems))
		for i, p := range docProblems {
			errs[i] = p
		}
		return c, errors.Join(errs...)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return c, errors.New("empty config: expected a JSON object")
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&raw); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return c, fmt.Errorf("config must be a JSON object, got %s", ute.Value)
		}
		return c, fmt.Errorf("malformed config JSON: %w", err)
	}
	if raw == nil {
		return c, errors.New("config must be a JSON object, got null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return c, errors.New("malformed config JSON: unexpected data after the object")
	}
	out := c.Clone()
	var problems []*FieldError
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return fieldOrder(keys[i]) < fieldOrder(keys[j]) || (fieldOrder(keys[i]) == fieldOrder(keys[j]) && keys[i] < keys[j])
	})
	for _, k := range keys {
		f, ok := LookupConfigField(k)
		if !ok {
			problems = append(problems, UnknownFieldError(k, ConfigFieldNames()))
			continue
		}
		if p := setField(&out, f, raw[k]); p != nil {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return c, &ValidationError{Problems: problems}
	}
	return out, nil
}

func fieldOrder(name string) int {
	for i, n := range ConfigFieldNames() {
		if n == name {
			return i
		}
	}
	return len(ConfigFields())
}

// UnknownFieldError reports a field name that is not in valid, suggesting the
// closest valid name when one is close enough to be a typo.
func UnknownFieldError(name string, valid []string) *FieldError {
	msg := "unknown field"
	if s := ClosestName(name, valid); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return &FieldError{Field: name, Message: msg}
}

// ClosestName returns the name in valid nearest to name by edit distance,
// or "" when none is close enough to be a likely typo.
func ClosestName(name string, valid []string) string {
	best, bestD := "", math.MaxInt
	for _, v := range valid {
		if d := editDistance(strings.ToLower(name), v); d < bestD {
			best, bestD = v, d
		}
	}
	limit := len(name)/3 + 1
	if bestD <= limit {
		return best
	}
	return ""
}

// editDistance is the Damerau-Levenshtein (optimal string alignment) distance.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// setField decodes one raw JSON value into the field named by f.
func setField(c *OptimizationConfig, f ConfigField, raw json.RawMessage) *FieldError {
	fv, _ := configFieldValue(c, f.Name)
	text := string(bytes.TrimSpace(raw))
	typeErr := func() *FieldError {
		return &FieldError{Field: f.Name, Value: text, Message: "must be " + f.Allowed() + ", got " + describeJSON(text)}
	}
	if text == "null" {
		if !f.Nullable {
			return typeErr()
		}
		fv.SetZero()
		return nil
	}
	switch f.Kind {
	case FieldBool:
		switch text {
		case "true":
			fv.SetBool(true)
		case "false":
			fv.SetBool(false)
		default:
			return typeErr()
		}
		return nil
	}
	var num json.Number
	if strings.HasPrefix(text, `"`) || json.Unmarshal(raw, &num) != nil {
		return typeErr()
	}
	r, ok := new(big.Rat).SetString(num.String())
	if !ok {
		return typeErr()
	}
	if f.Kind == FieldInteger && !r.IsInt() {
		return &FieldError{Field: f.Name, Value: text, Message: "must be an integer, got " + text}
	}
	// Range-check exactly before converting, so huge values never wrap.
	// The bounds as the schema writes them (shortest decimal), so that
	// 0.001 is not below the float64 nearest 0.001.
	lo, _ := new(big.Rat).SetString(fmtNum(f.Min))
	hi, _ := new(big.Rat).SetString(fmtNum(f.Max))
	cmpLo := r.Cmp(lo)
	switch {
	case f.ExclusiveMin && cmpLo <= 0:
		return &FieldError{Field: f.Name, Value: text, Message: fmt.Sprintf("must be > %s, got %s", fmtNum(f.Min), text)}
	case !f.ExclusiveMin && cmpLo < 0:
		return &FieldError{Field: f.Name, Value: text, Message: fmt.Sprintf("must be >= %s, got %s", fmtNum(f.Min), text)}
	case r.Cmp(hi) > 0:
		return &FieldError{Field: f.Name, Value: text, Message: fmt.Sprintf("must be <= %s, got %s", fmtNum(f.Max), text)}
	}
	v, _ := r.Float64()
	if f.ExclusiveMin && v <= f.Min {
		// A positive value below float64's resolution: keep it positive.
		v = math.Nextafter(f.Min, math.Inf(1))
	}
	switch fv.Kind() {
	case reflect.Pointer:
		n := int(r.Num().Int64())
		fv.Set(reflect.ValueOf(&n))
	case reflect.Int:
		fv.SetInt(r.Num().Int64())
	case reflect.Float64:
		fv.SetFloat(v)
	}
	return nil
}

func describeJSON(text string) string {
	switch {
	case text == "null":
		return "null"
	case text == "true" || text == "false":
		return "boolean " + text
	case strings.HasPrefix(text, `"`):
		return "string " + text
	case strings.HasPrefix(text, "["):
		return "an array"
	case strings.HasPrefix(text, "{"):
		return "an object"
	}
	return text
}

// MarshalJSON encodes every field, max_concurrent_executions as null when unset.
func (c OptimizationConfig) MarshalJSON() ([]byte, error) {
	type plain OptimizationConfig
	return json.Marshal(plain(c))
}

// UnmarshalJSON decodes strictly, laying the document over the defaults:
// absent fields take their default, unknown fields are errors.
func (c *OptimizationConfig) UnmarshalJSON(data []byte) error {
	out, err := DefaultOptimizationConfig().overlayJSON(data)
	if err != nil {
		return err
	}
	*c = out
	return nil
}
