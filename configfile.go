package flujo

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/flujo/flujo/internal/dsl"
	"github.com/flujo/flujo/internal/options"
	"github.com/flujo/flujo/runtime"
)

// WithConfigFile configures the executor from a flujo.json file, the one
// flujogen reads: its "optimization" section, laid over the defaults,
// replaces the configuration passed to NewExecutorCore, and its "steps"
// overrides change the named leaf steps as they change them in the
// generated executor. The file is read with runtime.ReadConfigFile; a file
// that cannot be read or holds anything invalid makes NewExecutorCore
// return a *runtime.ConfigFileError that names the file and every problem.
//
// The file's "distributed" section is read and validated too, and recorded
// for the package that builds the services replicas share (such as
// contrib/redis); this option alone shares nothing. An executor whose
// section shares a part but that is given no WithShared logs a warning
// when it is built and recommends "distributed-not-wired".
// ExportConfig exports
// the optimization configuration only, never the section or its address.
//
// Overrides given by several options are merged, a later option's override
// replacing an earlier one's of the same key. Pipelines are not known when
// the executor is built, so an override that names no leaf step of the
// pipeline it is keyed for is reported when that pipeline is executed:
// Execute returns a *StepOverrideError before any step runs.
//
// Generated executors compile in the file they were generated from; they
// ignore this option.
func WithConfigFile(path string) CoreOption {
	return func(o *options.Core) {
		f, err := runtime.ReadConfigFile(path)
		if err != nil {
			o.Errs = append(o.Errs, err)
			return
		}
		cfg := f.Optimization
		o.FileConfig = &cfg
		o.AddOverrides(f.Steps, path)
		o.Distributed = f.Distributed
	}
}

// WithStepOverrides applies step overrides, keyed "<pipeline>.<step>", as
// flujo.json's "steps" section does (see WithConfigFile). Invalid keys or
// values make NewExecutorCore return an error that lists them.
func WithStepOverrides(steps map[string]runtime.StepOverride) CoreOption {
	return func(o *options.Core) {
		if err := runtime.ValidateStepOverrides(steps); err != nil {
			o.Errs = append(o.Errs, fmt.Errorf("flujo: WithStepOverrides: %w", err))
			return
		}
		o.AddOverrides(steps, "")
	}
}

// NewExecutorCoreFromFile returns an executor configured by the flujo.json
// file at path, overrides included: NewExecutorCore with WithConfigFile(path)
// before opts.
func NewExecutorCoreFromFile(path string, opts ...CoreOption) (*ExecutorCore, error) {
	return NewExecutorCore(runtime.DefaultOptimizationConfig(), append([]CoreOption{WithConfigFile(path)}, opts...)...)
}

// StepOverrides returns a copy of the step overrides the executor applies,
// keyed "<pipeline>.<step>".
func (c *ExecutorCore) StepOverrides() map[string]runtime.StepOverride {
	return maps.Clone(c.overrides)
}

// StepOverrideError reports a step override that cannot apply to the
// pipeline being executed: its key names no leaf step of the pipeline, or
// it turns caching on for a StepS. Execute returns it, joined with the
// others of the pipeline, before any step runs: an override that silently
// changed nothing would be a configuration that the two engines read
// differently (flujogen refuses such a file).
type StepOverrideError struct {
	// Source is the file the override came from, "" for WithStepOverrides.
	Source   string
	Key      string
	Pipeline string
	Message  string
}

// Error names the source, the key and the problem.
func (e *StepOverrideError) Error() string {
	where := "WithStepOverrides"
	if e.Source != "" {
		where = e.Source
	}
	return fmt.Sprintf("flujo: %s: steps.%s: pipeline %q: %s", where, strconv.Quote(e.Key), e.Pipeline, e.Message)
}

// checkOverrides reports the overrides keyed for t's pipeline that cannot
// apply to it, as flujogen does when it generates the pipeline.
func (t *treeInfo) checkOverrides() error {
	leaves := map[string]*nodeBase{}
	composites := map[string]*nodeBase{}
	for b := range t.nodes {
		if b.kind.Leaf() {
			leaves[b.name] = b
		} else {
			composites[b.name] = b
		}
	}
	c := t.core
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(c.overrides)) {
		step, ok := strings.CutPrefix(key, t.pipeline+".")
		if !ok {
			continue
		}
		fail := func(format string, args ...any) {
			errs = append(errs, &StepOverrideError{Source: c.overrideSrc[key], Key: key, Pipeline: t.pipeline, Message: fmt.Sprintf(format, args...)})
		}
		leaf := leaves[step]
		switch {
		case leaf == nil && composites[step] != nil:
			fail("%s", dsl.OverrideComposite(dsl.Describe(composites[step].kind, step)))
		case leaf == nil:
			fail("%s", dsl.OverrideMissing(step, slices.Sorted(maps.Keys(leaves))))
		case leaf.kind == kindStepS:
			if o := c.overrides[key]; o.Cache != nil && *o.Cache {
				fail("%s", dsl.OverrideCacheState)
			}
		}
	}
	return errors.Join(errs...)
}
