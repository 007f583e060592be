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
// The package runtime of this module shares its name with the standard
// library's; alias one of them when a file needs both:
//
//	import (
//		goruntime "runtime"
//
//		"github.com/flujo/flujo/runtime"
//	)
package flujo
