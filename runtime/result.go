package runtime

import "time"

// Usage is what producing an output cost.
type Usage struct {
	Cost             float64
	PromptTokens     int
	CompletionTokens int
}

// Tokens returns the prompt and completion tokens together.
func (u Usage) Tokens() int { return u.PromptTokens + u.CompletionTokens }

// UsageReporter is implemented by outputs that know what producing them
// cost. The executor charges the usage of every output a step function
// returns without an error, to the step's result and to the run's budget:
// outputs a validator rejects, those of every attempt and those of
// fallbacks included. An output returned with an error is not charged.
type UsageReporter interface {
	Usage() Usage
}

// UsageLimits bounds the usage of one run: one budget shared by every step
// of the run, Parallel branches and Map elements included. A zero field
// means no limit; negative, NaN or infinite limits are refused before any
// step runs (Validate). A limit is exceeded when the run's total goes above
// it: a total equal to the limit is within it, and so is a cost total above
// it by no more than float64 rounding (a relative 1e-9).
type UsageLimits struct {
	TotalCostLimit   float64
	TotalTokensLimit int
}

// StepResult records how one node ran.
//
// Composite nodes record their children in Steps: a Pipeline its nodes in
// order, a Parallel its branches in branch order, a Loop one result per
// iteration, a Branch the case it ran, a Map one result per element in
// input order. A node whose fallback ran records the fallback's result as
// its last element of Steps.
type StepResult struct {
	// Name is the node's declared name.
	Name string
	// Output is the node's output; nil when it failed.
	Output any
	// Success reports whether the node produced its output.
	Success bool
	// Attempts counts calls of the step function, fallbacks' added; 0 for
	// a cache hit or a step its circuit breaker rejected. For a Loop it is
	// the number of iterations, for other composites 1.
	Attempts int
	// Latency is the time the node took, on the executor's clock.
	Latency time.Duration
	// Feedback explains a failure: "Agent execution failed with <type>:
	// <message>", "Validation failed: <message>" or "Original error: <...>;
	// Fallback error: <...>". It is empty on success.
	Feedback string
	// Cost and Tokens add up the usage reported by the outputs of the node
	// and its children. A cache hit costs nothing.
	Cost   float64
	Tokens int
	// CacheHit reports that the output came from the result cache.
	CacheHit bool
	// FallbackTriggered reports that the primary failed and the fallback
	// ran; OriginalError is then the primary's error.
	FallbackTriggered bool
	OriginalError     error
	// BranchKey is the key a Branch's chooser returned.
	BranchKey string
	// Err is the error of a failed node.
	Err error
	// Steps are the results of the children of a composite node.
	Steps []StepResult
}

// PipelineResult is the result of one run.
type PipelineResult struct {
	// Output is the root node's output.
	Output any
	// Success reports whether the root node succeeded.
	Success bool
	// Steps is the step history. When the root is a Pipeline, its nodes'
	// results in execution order; otherwise the root's own result.
	Steps []StepResult
	// TotalCost and TotalTokens add up the usage of every step.
	TotalCost   float64
	TotalTokens int
	// FinalState is the *S state after the run, or nil when no step reads
	// state.
	FinalState any
	// Latency is the time the run took.
	Latency time.Duration
	// Err is the error of a failed run.
	Err error
}

// Step returns the first result named name, searching the history depth
// first in execution order.
func (r *PipelineResult) Step(name string) (*StepResult, bool) {
	return findStep(r.Steps, name)
}

func findStep(steps []StepResult, name string) (*StepResult, bool) {
	for i := range steps {
		if steps[i].Name == name {
			return &steps[i], true
		}
		if s, ok := findStep(steps[i].Steps, name); ok {
			return s, true
		}
	}
	return nil, false
}

// Metrics describes one monitored run; its JSON names are those of the
// feature guide.
type Metrics struct {
	// ExecutionTimeMs is the run's wall time on the executor's clock.
	ExecutionTimeMs float64 `json:"execution_time_ms"`
	// MemoryUsageMb is the live heap, in MiB, when the run ended.
	MemoryUsageMb float64 `json:"memory_usage_mb"`
	// CacheHit reports that at least one step's output came from the cache.
	CacheHit bool `json:"cache_hit"`
	// Attempts counts the step function calls of the run.
	Attempts int `json:"attempts"`
}
