package flujo

import "github.com/flujo/flujo/runtime"

// The types of a run's results and usage are declared in the runtime
// package, which both engines share; they are the same types under these
// names.

// Usage is what producing an output cost: its cost and prompt and
// completion tokens.
type Usage = runtime.Usage

// UsageReporter is implemented by outputs that know what producing them
// cost. The executor charges the usage of every output a step function
// returns without an error, to the step's result and to the run's budget.
type UsageReporter = runtime.UsageReporter

// UsageLimits bounds the usage of one run: one budget shared by every step
// of the run, Parallel branches and Map elements included. A zero field
// means no limit.
type UsageLimits = runtime.UsageLimits

// StepResult records how one node ran: its output or error, attempts,
// latency, feedback, usage and, for a composite, its children's results.
type StepResult = runtime.StepResult

// PipelineResult is the result of one run: the output, the step history,
// the usage totals and the final state.
type PipelineResult = runtime.PipelineResult

// ErrInvalidUsageLimits is wrapped by the error of a run whose UsageLimits
// are negative, NaN or infinite; such a run starts no step.
var ErrInvalidUsageLimits = runtime.ErrInvalidUsageLimits
