package flujo

import (
	"reflect"
	"time"

	"github.com/flujo/flujo/internal/dsl"
	"github.com/flujo/flujo/runtime"
)

// Option tunes a node. Options are plain values built from constants, so the
// code generator can read them from the source.
type Option struct {
	kind     dsl.Option
	n        int
	d1, d2   time.Duration
	node     Node
	merge    MergeStrategy
	policy   BranchFailurePolicy
	validate func(any) error
	// counts is a BreakerCounts function.
	counts func(error) bool
	// vtype is the parameter type of a Validate function.
	vtype reflect.Type
}

// value returns the option's arguments as the rule table reads them.
func (o Option) value() dsl.Value {
	v := dsl.Value{N: int64(o.n), D1: o.d1, D2: o.d2}
	switch o.kind {
	case dsl.Merge:
		v.N = int64(o.merge)
	case dsl.OnBranchFailure:
		v.N = int64(o.policy)
	case dsl.Fallback, dsl.Default:
		v.Nil = o.node == nil
		if o.node != nil {
			v.Node = o.node.Name()
		}
	case dsl.Validate:
		v.Nil = o.validate == nil
		v.Type = typeName(o.vtype)
	case dsl.BreakerCounts:
		v.Nil = o.counts == nil
	}
	return v
}

// String renders the option as it would be written in Go, with the name of a
// node argument in place of the node. Step fingerprints are built from it.
func (o Option) String() string { return o.kind.Text(o.value()) }

// DefaultRetries is the number of retries of a step that has no Retries
// option: one, so two attempts, as in Flujo.
const DefaultRetries = dsl.DefaultRetries

// DefaultMaxLoops is the iteration limit of a Loop without MaxLoops.
const DefaultMaxLoops = dsl.DefaultMaxLoops

// MaxFallbackDepth is the longest chain of fallbacks a node may declare.
const MaxFallbackDepth = dsl.MaxFallbackDepth

// Retries sets how many times a failed attempt is retried: a step makes at
// most n+1 attempts. Leaf steps only; n >= 0.
func Retries(n int) Option { return Option{kind: dsl.Retries, n: n} }

// Backoff waits between attempts: initial before the second attempt, then
// twice the previous wait, never more than max. Leaf steps only;
// 0 <= initial <= max. Without Backoff, retries follow each other at once.
func Backoff(initial, max time.Duration) Option {
	return Option{kind: dsl.Backoff, d1: initial, d2: max}
}

// Timeout bounds each attempt of a leaf step, or the whole run of a
// composite node. d > 0. A step that overruns is abandoned: its result is
// discarded and its goroutine is waited for by ExecutorCore.Close.
func Timeout(d time.Duration) Option { return Option{kind: dsl.Timeout, d1: d} }

// Fallback runs node when the primary fails after its last attempt. node
// must take and produce the same types as the primary. Fallbacks may have
// fallbacks, at most MaxFallbackDepth deep, and may not lead back to a node
// of the chain.
func Fallback(node Node) Option { return Option{kind: dsl.Fallback, node: node} }

// Cache stores successful outputs of a Step or Func, keyed by the step's
// fingerprint and the hash of its input, when the executor's config enables
// caching (enable_cache_optimization). A StepS cannot be cached: the key
// does not include the state it reads.
func Cache() Option { return Option{kind: dsl.Cache} }

// CacheTTL caches like Cache with a time to live of d instead of the
// configured cache_ttl_seconds. d > 0.
func CacheTTL(d time.Duration) Option { return Option{kind: dsl.CacheTTL, d1: d} }

// ImmutableOutput declares that callers never mutate a cached step's output,
// so a cache hit returns the stored value itself instead of a deep copy.
func ImmutableOutput() Option { return Option{kind: dsl.ImmutableOutput} }

// Validate checks each output of the node. A validator error fails the
// attempt with the feedback "Validation failed: <error>" and counts as a
// failed attempt, so it is retried like any other failure. Out must be the
// node's output type.
func Validate[Out any](fn func(Out) error) Option {
	o := Option{kind: dsl.Validate, vtype: reflect.TypeFor[Out]()}
	if fn != nil {
		o.validate = func(v any) error { return fn(as[Out](v)) }
	}
	return o
}

// BreakerCounts lets fn decide, in place of CountsAsBreakerFailure, which
// failed attempts of a leaf step count toward opening its circuit breaker:
// fn(err) true counts err as a failure, false leaves the breaker as it was
// (neither a failure nor a success). An attempt cut short by the caller's
// own context never reaches the breaker, whatever fn says. fn must be a
// named function or a method expression, so that flujogen can compile the
// call in; it may call CountsAsBreakerFailure to refine the default.
func BreakerCounts(fn func(error) bool) Option {
	return Option{kind: dsl.BreakerCounts, counts: fn}
}

// MergeStrategy says how a Parallel merges the state written by its branches
// back into the state it was given.
type MergeStrategy uint8

const (
	// MergeUpdate copies every field a branch wrote back, in branch order,
	// so a later branch's write wins. It is the default.
	MergeUpdate MergeStrategy = iota
	// ErrorOnConflict fails the Parallel when two branches wrote one field.
	ErrorOnConflict
	// KeepFirst copies each written field from the first branch, in branch
	// order, that wrote it.
	KeepFirst
	// NoMerge discards every branch's writes.
	NoMerge
)

// String returns the strategy's Go name.
func (m MergeStrategy) String() string { return dsl.MergeName(int64(m)) }

// Merge sets a Parallel's merge strategy.
func Merge(strategy MergeStrategy) Option { return Option{kind: dsl.Merge, merge: strategy} }

// BranchFailurePolicy says what a Parallel does when a branch fails.
type BranchFailurePolicy uint8

const (
	// Propagate fails the Parallel when any branch fails and cancels the
	// branches still running. It is the default.
	Propagate BranchFailurePolicy = iota
	// Ignore lets the Parallel succeed when branches fail: a failed branch
	// passes the zero value of its output type to the join, and its state
	// writes are discarded.
	Ignore
)

// String returns the policy's Go name.
func (p BranchFailurePolicy) String() string { return dsl.PolicyName(int64(p)) }

// OnBranchFailure sets a Parallel's branch failure policy.
func OnBranchFailure(policy BranchFailurePolicy) Option {
	return Option{kind: dsl.OnBranchFailure, policy: policy}
}

// MaxLoops sets a Loop's iteration limit; n >= 1.
func MaxLoops(n int) Option { return Option{kind: dsl.MaxLoops, n: n} }

// Default names the node a Branch runs when no case matches the key.
func Default(node Node) Option { return Option{kind: dsl.Default, node: node} }

// Concurrency bounds how many elements a Map processes at once; n >= 1.
func Concurrency(n int) Option { return Option{kind: dsl.Concurrency, n: n} }

// settings are a node's options resolved: the last option of a kind wins,
// validators add up.
type settings struct {
	retries     int
	backoff     runtime.Backoff
	timeout     time.Duration
	fallback    Node
	cache       bool
	cacheTTL    time.Duration
	immutable   bool
	validators  []func(any) error
	merge       MergeStrategy
	onFailure   BranchFailurePolicy
	maxLoops    int
	def         Node
	concurrency int
	// breakerCounts says which failed attempts the breaker counts.
	breakerCounts func(error) bool
}

func resolveSettings(opts []Option) settings {
	r := dsl.Resolve(len(opts), func(i int) (dsl.Option, dsl.Value) { return opts[i].kind, opts[i].value() })
	s := settings{
		retries: r.Retries, timeout: r.Timeout, cache: r.Cache, cacheTTL: r.CacheTTL, immutable: r.ImmutableOutput,
		merge: MergeStrategy(r.Merge), onFailure: BranchFailurePolicy(r.OnBranchFailure),
		maxLoops: r.MaxLoops, concurrency: r.Concurrency, breakerCounts: CountsAsBreakerFailure,
	}
	if r.HasBackoff {
		s.backoff = runtime.Backoff{Initial: r.BackoffInitial, Max: r.BackoffMax, Multiplier: 2}
	}
	if r.Fallback >= 0 {
		s.fallback = opts[r.Fallback].node
	}
	if r.Default >= 0 {
		s.def = opts[r.Default].node
	}
	if r.BreakerCounts >= 0 {
		s.breakerCounts = opts[r.BreakerCounts].counts
	}
	for _, i := range r.Validate {
		s.validators = append(s.validators, opts[i].validate)
	}
	return s
}
