// Package flujo runs pipelines of Go step functions with retries, timeouts,
// fallbacks, caching, circuit breaking and usage limits.
//
// Pipelines are declared once, in plain Go, with a small DSL: leaf steps
// (Step, StepS, Func) composed with Pipeline, Parallel, Loop, Branch and Map,
// and tuned with options (Retries, Timeout, Fallback, Cache, ...). Every type
// mismatch is reported when the declaration is built, before any step runs:
// the constructors panic, like regexp.MustCompile, with a message that names
// the step and the types.
//
// The ExecutorCore runs declarations dynamically, configured at run time by a
// runtime.OptimizationConfig. It is the reference for the semantics that the
// generated executors reproduce; docs/semantics.md lists every rule and the
// test that proves it.
//
// flujo.json, the file flujogen compiles into generated executors, configures
// the ExecutorCore too: NewExecutorCoreFromFile, or the option WithConfigFile,
// loads its optimization section and its step overrides ("steps", keyed
// "<pipeline>.<step>": the root node's name and a leaf's). Each overridden
// leaf then runs with the settings runtime.ResolveStep gives, the rule the
// generated executor's compiled-in settings come from, so both engines agree
// on one file. An override key of the pipeline being executed that names
// none of its leaves fails Execute with a *StepOverrideError before any step
// runs; keys of other pipelines are ignored.
//
// The package runtime of this module shares its name with the standard
// library's; alias one of them when a file needs both:
//
//	import (
//		goruntime "runtime"
//
//		"github.com/flujo/flujo/runtime"
//	)
package flujo
