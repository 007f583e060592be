// Package schema defines flujo.json, the configuration file that flujogen
// reads: its Go types, the JSON Schema generated from them
// (flujo.schema.json, committed and embedded), and loading with every
// problem reported at its file:line:col.
package schema

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/flujo/flujo/runtime"
)

// SchemaURL is where the committed schema is published; `flujogen init`
// writes it as the "$schema" of new files so editors offer completion.
const SchemaURL = "https://raw.githubusercontent.com/flujo/flujo/main/schema/flujo.schema.json"

// DefaultFileName is the configuration file flujogen looks for.
const DefaultFileName = "flujo.json"

// DefaultOutput is the name of the generated file when "output" is not set.
const DefaultOutput = "flujo_gen.go"

// MaxFileSize is the largest configuration file Load reads, in bytes: the
// runtime's limit for every configuration document (runtime.CheckDocument).
const MaxFileSize = runtime.MaxDocumentSize

// File is the flujo.json document as written. Every member is optional.
type File struct {
	// Schema is the JSON Schema the document claims to follow; editors use
	// it, flujogen ignores it.
	Schema string `json:"$schema,omitempty"`
	// Optimization is a partial runtime.OptimizationConfig: decoding lays
	// it over the defaults, so absent fields keep their default.
	Optimization *runtime.OptimizationConfig `json:"optimization,omitempty"`
	// Steps overrides settings of single steps, keyed "<pipeline>.<step>".
	Steps map[string]StepOverride `json:"steps,omitempty"`
	// Output is the name of the generated Go file, in the package folder.
	Output string `json:"output,omitempty"`
	// Distributed says what the replicas of a service share on a Redis or
	// Valkey server; decoding lays it over the runtime's defaults.
	Distributed *runtime.DistributedConfig `json:"distributed,omitempty"`
}

// StepOverride changes the settings of one step. A nil field keeps what the
// step's declaration and the optimization section say. It is the runtime's
// type, so the ExecutorCore and flujogen read and apply it alike.
type StepOverride = runtime.StepOverride

// MaxRetries is the largest retries value a step override accepts.
const MaxRetries = runtime.MaxStepRetries

// MaxTimeout is the longest timeout a step override accepts (messages say "24h").
const MaxTimeout = runtime.MaxStepTimeout

// Duration is a time.Duration written in JSON as a Go duration string such
// as "200ms", "1.5s" or "2m".
type Duration = runtime.Duration

// parseStepDuration parses a step timeout and checks its range.
func parseStepDuration(s string) (time.Duration, error) { return runtime.ParseStepTimeout(s) }

// Config is the effective configuration: the defaults with a file laid over them.
type Config struct {
	// Path is the file the configuration came from; empty for the defaults.
	Path string
	// Digest identifies the bytes of that file: "sha256:" and the first 16
	// hexadecimal digits of their SHA-256; empty for the defaults.
	Digest string
	// Optimization is the complete, validated optimization configuration.
	Optimization runtime.OptimizationConfig
	// Steps holds the step overrides, keyed "<pipeline>.<step>".
	Steps map[string]StepOverride
	// StepPos is where each key of Steps is written in the file, for
	// messages about a key; empty for the defaults.
	StepPos map[string]Position
	// Output is the name of the generated file.
	Output string
	// Distributed is the file's "distributed" section laid over
	// runtime.DefaultDistributedConfig, validated; nil when the file has
	// none. Printing it never shows the address's password.
	Distributed *runtime.DistributedConfig
}

// Position is a place in a configuration file: 1-based line and byte
// column.
type Position struct {
	Line, Col int
}

// KeyPosition returns "file:line:col" of the step override key in the
// file, or the file's path alone when its position is unknown.
func (c *Config) KeyPosition(key string) string {
	p, ok := c.StepPos[key]
	if !ok || c.Path == "" {
		return c.Path
	}
	return fmt.Sprintf("%s:%d:%d", c.Path, p.Line, p.Col)
}

// Default returns the configuration used when there is no flujo.json.
func Default() *Config {
	return &Config{
		Optimization: runtime.DefaultOptimizationConfig(),
		Steps:        map[string]StepOverride{},
		Output:       DefaultOutput,
	}
}

// Step returns the override for step in pipeline, if the file has one.
func (c *Config) Step(pipeline, step string) (StepOverride, bool) {
	o, ok := c.Steps[runtime.StepKey(pipeline, step)]
	return o, ok
}

// StepKeys returns the keys of the step overrides, sorted.
func (c *Config) StepKeys() []string {
	return slices.Sorted(maps.Keys(c.Steps))
}

// SplitStepKey splits a "<pipeline>.<step>" key at its first dot.
func SplitStepKey(key string) (pipeline, step string, ok bool) {
	return runtime.SplitStepKey(key)
}
