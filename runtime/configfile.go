package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
)

// ConfigFile is what a flujo.json file says to an executor at run time: the
// complete optimization configuration, the step overrides and the
// distributed section. "$schema"
// and "output" concern editors and flujogen; they are checked for their
// type and otherwise ignored.
type ConfigFile struct {
	// Path is the file's name as given to ReadConfigFile or ParseConfigFile.
	Path string
	// Optimization is the file's "optimization" laid over the defaults,
	// validated.
	Optimization OptimizationConfig
	// Steps holds the validated step overrides, keyed "<pipeline>.<step>";
	// never nil.
	Steps map[string]StepOverride
	// Distributed is the file's "distributed" section laid over
	// DefaultDistributedConfig, validated; nil when the file has none.
	// Printing it never shows the address's password.
	Distributed *DistributedConfig
}

// ConfigFileError lists every problem of a configuration file.
type ConfigFileError struct {
	Path string
	// Problems says what is wrong, each beginning with the JSON pointer of
	// the value when there is one ("/steps/fulfil.price/retries: ...").
	Problems []string
	// Err is the underlying error when the file could not be read
	// (errors.Is(err, fs.ErrNotExist) works through it).
	Err error
}

// Error returns one line per problem, each beginning with the file's path.
func (e *ConfigFileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = e.Path + ": " + p
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the underlying read error, if any.
func (e *ConfigFileError) Unwrap() error { return e.Err }

// configFileMembers are the members of flujo.json's top-level object.
var configFileMembers = []string{"$schema", "optimization", "steps", "output", "distributed"}

// stepOverrideMembers are the members of one step override.
var stepOverrideMembers = []string{"retries", "timeout", "cache", "cache_ttl_seconds",
	"circuit_breaker_failure_threshold", "circuit_breaker_recovery_timeout_seconds"}

// ReadConfigFile reads and parses the flujo.json file at path. A missing
// file, a directory and a file over MaxDocumentSize are errors too.
func ReadConfigFile(path string) (*ConfigFile, error) {
	fail := func(err error, format string, args ...any) error {
		return &ConfigFileError{Path: path, Problems: []string{fmt.Sprintf(format, args...)}, Err: err}
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if target, lerr := os.Readlink(path); lerr == nil {
			return nil, fail(err, "is a symbolic link to %s, which does not exist", target)
		}
		return nil, fail(err, "no such file")
	case err != nil:
		return nil, fail(err, "cannot read: %v", err)
	case fi.IsDir():
		return nil, fail(nil, "is a directory, not a configuration file")
	}
	if err := CheckDocumentSize(fi.Size()); err != nil {
		return nil, fail(err, "%s", err.(*DocumentError).Message)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fail(err, "cannot read: %v", err)
	}
	defer f.Close()
	// The file may grow after Stat.
	data, err := io.ReadAll(io.LimitReader(f, MaxDocumentSize+1))
	if err != nil {
		return nil, fail(err, "cannot read: %v", err)
	}
	return ParseConfigFile(path, data)
}

// ParseConfigFile parses data, a flujo.json document, naming it name in
// errors. It follows CheckDocument's rules, decodes strictly (unknown
// members, wrong types and null are errors), validates the optimization
// section with OptimizationConfig.Validate, the step overrides with
// ValidateStepOverrides and the distributed section with
// ParseDistributedConfig, and reports every problem in a
// *ConfigFileError; no problem holds the password of a distributed
// address.
// It accepts the documents flujogen's loader (schema.Load) accepts, with
// the same result, except that it does not check the "output" file name.
func ParseConfigFile(name string, data []byte) (*ConfigFile, error) {
	ferr := &ConfigFileError{Path: name}
	add := func(ptr, msg string) {
		if ptr != "" {
			msg = ptr + ": " + msg
		}
		ferr.Problems = append(ferr.Problems, msg)
	}
	data, docProblems := CheckDocument(data)
	for _, p := range docProblems {
		if p.Offset < 0 {
			add("", p.Message)
		} else {
			add(p.Pointer, fmt.Sprintf("%d:%d: %s", p.Line, p.Col, p.Message))
		}
	}
	if len(ferr.Problems) > 0 {
		return nil, ferr
	}
	top, msg := decodeObject(data)
	if msg != "" {
		add("", msg)
		return nil, ferr
	}
	cf := &ConfigFile{Path: name, Optimization: DefaultOptimizationConfig(), Steps: map[string]StepOverride{}}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		raw := top[k]
		ptr := "/" + escapePointerToken(k)
		switch k {
		case "$schema", "output":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
				add(ptr, "must be a string, got "+describeJSON(string(raw)))
			}
		case "optimization":
			if !isObject(raw) {
				add(ptr, "must be an object, got "+describeJSON(string(raw)))
				continue
			}
			opt, err := DefaultOptimizationConfig().Import(raw, "json")
			if err != nil {
				var ve *ValidationError
				if errors.As(err, &ve) {
					for _, p := range ve.Problems {
						add(ptr+"/"+escapePointerToken(p.Field), p.Message)
					}
				} else {
					add(ptr, err.Error())
				}
				continue
			}
			cf.Optimization = opt
		case "steps":
			cf.Steps = decodeSteps(raw, ptr, add)
		case "distributed":
			d, err := ParseDistributedConfig(raw)
			if err != nil {
				var ve *ValidationError
				if !errors.As(err, &ve) {
					add(ptr, err.Error())
					continue
				}
				for _, p := range ve.Problems {
					fp := ptr
					if p.Field != "" {
						fp += "/" + escapePointerToken(p.Field)
					}
					add(fp, p.Message)
				}
				continue
			}
			cf.Distributed = &d
		default:
			add(ptr, UnknownFieldError(k, configFileMembers).Message)
		}
	}
	if err := ValidateStepOverrides(cf.Steps); err != nil {
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			add("", e.Error())
		}
	}
	if len(ferr.Problems) > 0 {
		return nil, ferr
	}
	return cf, nil
}

// decodeSteps decodes the "steps" object strictly, reporting with add.
func decodeSteps(raw json.RawMessage, ptr string, add func(ptr, msg string)) map[string]StepOverride {
	steps := map[string]StepOverride{}
	if !isObject(raw) {
		add(ptr, "must be an object, got "+describeJSON(string(raw)))
		return steps
	}
	var byKey map[string]json.RawMessage
	if err := json.Unmarshal(raw, &byKey); err != nil {
		add(ptr, err.Error())
		return steps
	}
	for _, key := range slices.Sorted(maps.Keys(byKey)) {
		kptr := ptr + "/" + escapePointerToken(key)
		if !isObject(byKey[key]) {
			add(kptr, "must be an object, got "+describeJSON(string(byKey[key])))
			continue
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(byKey[key], &members); err != nil {
			add(kptr, err.Error())
			continue
		}
		var o StepOverride
		ok := true
		for _, m := range slices.Sorted(maps.Keys(members)) {
			mptr := kptr + "/" + escapePointerToken(m)
			if !slices.Contains(stepOverrideMembers, m) {
				add(mptr, UnknownFieldError(m, stepOverrideMembers).Message)
				ok = false
				continue
			}
			if bytes.Equal(bytes.TrimSpace(members[m]), []byte("null")) {
				add(mptr, "must not be null")
				ok = false
				continue
			}
			one, _ := json.Marshal(map[string]json.RawMessage{m: members[m]})
			if err := json.Unmarshal(one, &o); err != nil {
				var ute *json.UnmarshalTypeError
				if errors.As(err, &ute) {
					add(mptr, fmt.Sprintf("must be %s, got %s", expectedType(m), describeJSON(string(members[m]))))
				} else {
					add(mptr, strings.TrimPrefix(err.Error(), "json: "))
				}
				ok = false
			}
		}
		if ok {
			steps[key] = o
		}
	}
	return steps
}

func expectedType(member string) string {
	switch member {
	case "cache":
		return "a boolean"
	case "timeout":
		return "a duration string"
	}
	return "an integer"
}

// decodeObject decodes data as one JSON object, returning what is wrong
// with it otherwise.
func decodeObject(data []byte) (map[string]json.RawMessage, string) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, "file is empty; a configuration file holds a JSON object such as {}"
	}
	if !isObject(trimmed) {
		var v any
		if err := json.Unmarshal(trimmed, &v); err != nil {
			return nil, "invalid JSON: " + err.Error()
		}
		return nil, "must be a JSON object, got " + describeJSON(string(trimmed))
	}
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&top); err != nil {
		return nil, "invalid JSON: " + err.Error()
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "invalid JSON: unexpected data after the top-level value"
	}
	return top, ""
}

func isObject(raw []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{"))
}
