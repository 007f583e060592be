// Package kernel holds the execution rules of flujo, written once and run by
// both engines: the ExecutorCore, which drives it over values of type any,
// and the executors flujogen generates, which instantiate it with their own
// types through the flujoimpl support package.
//
// A leaf step's execution is a state machine: the result cache, then
// attempts under the circuit breaker and the concurrency limiter, each
// validated and charged to the run's budget, with backoff between them and
// the error classifier deciding whether to retry; then the step's counters,
// its monitor, the adaptive limiter's sample and a telemetry event. Step.Run
// is that machine. Its generic parameters are the step's input and output
// types, so that a generated executor calls it without boxing, and it
// allocates nothing on the path of a step that succeeds.
//
// The rules of composite nodes that need no knowledge of types live here
// too (compose.go), one function each: what a Pipeline, Loop or Branch does
// with a child's result (Child), where a Parallel's branches meet (Fan)
// and the folding of their results (Branches), a Map's sequential and concurrent loops (MapSeq, MapWorkers, Elements), the
// composite failures (LoopExhausted, NoCase, JoinFailed, Guard for panics
// in user code), and a composite's own Timeout and validators
// (CompositeTimeout, Validated), and running a node's fallback
// (WithFallback). Generic parameters let generated code
// pass its own types; its typed parts (child calls, joins, choosers,
// predicates, state copies and merges) stay generated.
package kernel
