package main

import (
	"encoding/json"
	"fmt"

	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/schema"
	"github.com/flujo/flujo/templates"
)

// docsCommand is the command line that regenerates docs/config.md.
const docsCommand = "flujogen schema -docs"

// exampleConfig is the flujo.json the reference shows; a test checks that
// it validates.
const exampleConfig = `{
  "$schema": "` + schema.SchemaURL + `",
  "optimization": {
    "telemetry_batch_size": 50,
    "enable_cache_optimization": true,
    "max_concurrent_executions": 8
  },
  "steps": {
    "triage.classify": {"retries": 2, "timeout": "200ms", "cache": true},
    "triage.crm": {"circuit_breaker_failure_threshold": 3}
  },
  "output": "flujo_gen.go"
}
`

// renderStarter renders the starter flujo.json for cfg.
func renderStarter(cfg runtime.OptimizationConfig) ([]byte, error) {
	settings, err := settingsOf(cfg, false)
	if err != nil {
		return nil, err
	}
	return templates.StarterConfig(templates.StarterData{
		SchemaURL:    schema.SchemaURL,
		Optimization: settings,
		Output:       schema.DefaultOutput,
	})
}

// settingsOf lists the fields of cfg in schema order; with onlyChanged,
// only those that differ from the defaults.
func settingsOf(cfg runtime.OptimizationConfig, onlyChanged bool) ([]templates.Setting, error) {
	values, defaults := cfg.ToMap(), runtime.DefaultOptimizationConfig().ToMap()
	var out []templates.Setting
	for _, name := range runtime.ConfigFieldNames() {
		v, err := json.Marshal(values[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		d, _ := json.Marshal(defaults[name])
		if onlyChanged && string(v) == string(d) {
			continue
		}
		out = append(out, templates.Setting{Name: name, Value: string(v)})
	}
	return out, nil
}

// renderReference renders docs/config.md from the schema and the profiles.
func renderReference() ([]byte, error) {
	ref, err := schema.Describe()
	if err != nil {
		return nil, err
	}
	data := templates.ReferenceData{
		Command:     docsCommand,
		Title:       ref.Title,
		Description: ref.Description,
		Example:     exampleConfig,
	}
	for _, s := range ref.Sections {
		sec := templates.Section{Name: s.Name, Pointer: s.Pointer, Description: s.Description}
		for _, f := range s.Fields {
			sec.Fields = append(sec.Fields, templates.Field{Name: f.Name, Type: f.Type, Default: f.Default, Range: f.Range, Description: f.Description})
		}
		data.Sections = append(data.Sections, sec)
	}
	for _, r := range ref.Rules {
		data.Rules = append(data.Rules, templates.Rule{If: r.If, Then: r.Then})
	}
	for _, p := range runtime.Profiles() {
		settings, err := settingsOf(p.Config(), true)
		if err != nil {
			return nil, err
		}
		data.Profiles = append(data.Profiles, templates.Profile{Name: p.Name, Description: p.Description, Settings: settings})
	}
	return templates.ConfigReference(data)
}
