package flujoimpl

import (
	"github.com/flujo/flujo/internal/kernel"
	"github.com/flujo/flujo/runtime"
)

// The step kernel, as generated executors instantiate it with their own
// types. The ExecutorCore runs the same code over values of type any.

// Env is what the executions of one configuration share.
type Env = kernel.Env

// Frame is what a run gives each execution besides its input.
type Frame = kernel.Frame

// Leaf is a leaf step's behaviour, fixed by its declaration.
type Leaf[In, Out any] = kernel.Leaf[In, Out]

// Step is a leaf step as the configuration in force runs it.
type Step[In, Out any] = kernel.Step[In, Out]

// UnkeyedCache is a result cache whose keys identify inputs on their own.
type UnkeyedCache[In, Out any] = kernel.UnkeyedCache[In, Out]

// Fallback folds the result of a node's fallback into the failed primary's.
func Fallback(res *runtime.StepResult, fb runtime.StepResult, aborted bool) {
	kernel.Fallback(res, fb, aborted)
}

// JSONKey is the cache key of an input without enable_algorithm_optimization.
func JSONKey(fingerprint string, in any) (uint64, error) { return kernel.JSONKey(fingerprint, in) }

// KeyPanic is deferred by a cache key function that calls an input's own
// Hash64 method: a panic there fails the step with a *runtime.PanicError.
func KeyPanic(err *error) {
	if v := recover(); v != nil {
		*err = kernel.KeyPanicError(v)
	}
}

// Ms converts nanoseconds to the milliseconds stats report.
func Ms(ns int64) float64 { return kernel.Ms(ns) }

// Services are an executor's configuration in force and its components.
type Services = kernel.Services

// Deps are what an executor gives its services.
type Deps = kernel.Deps

// Engine is one configuration in force with its components.
type Engine = kernel.Engine

// Closer stops a component.
type Closer = kernel.Closer

// AddCache adds a step cache's figures to the stats.
func AddCache(s *runtime.Stats, name string, cs runtime.ResultCacheStats) {
	kernel.AddCache(s, name, cs)
}

// IsUsageLimit reports whether err is a usage limit's abort.
func IsUsageLimit(err error) bool { return kernel.IsUsageLimit(err) }

// Run is one run of a generated executor.
type Run[S any] = kernel.Run[S]

// NewRun returns a run of the engine in force on the state st.
func NewRun[S any](s *Services, st *S, record bool) Run[S] { return kernel.NewRun(s, st, record) }

// RunState returns the state of a recorded run: st, or WithState's.
func RunState[S any](node string, st *S, given any) (*S, error) {
	return kernel.RunState(node, st, given)
}

// Methods are the methods a generated executor has on its services.
type Methods = kernel.Methods

// MethodsOf returns the methods on s.
func MethodsOf(s *Services) Methods { return kernel.MethodsOf(s) }

// WithMetrics returns a recorded run's result and error with its metrics.
func WithMetrics(pr *runtime.PipelineResult, err error) (*runtime.PipelineResult, runtime.Metrics, error) {
	return kernel.WithMetrics(pr, err)
}

// Scratch is the object pool of an executor's Parallel working space.
type Scratch[T any] = kernel.Scratch[T]
