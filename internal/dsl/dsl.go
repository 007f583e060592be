// Package dsl holds the rules of the flujo DSL that both of its checkers
// apply: the reflective checker of package flujo, run when a declaration is
// built, and the go/types analysis of internal/analysis, run by flujogen on
// the source. It names the node kinds and the options, says which node
// kinds each option applies to and which values it accepts, resolves a
// node's options, renders options and step fingerprints, and words every
// message the two checkers share, so that both report a broken declaration
// in the same words. The checkers differ only in where they point: the
// reflective one names the node, the analysis adds the source position.
package dsl

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is the kind of a node.
type Kind uint8

// The node kinds, in the order of the DSL's constructors.
const (
	Step Kind = iota
	StepS
	Func
	Pipeline
	Parallel
	Loop
	Branch
	Map
)

var kindNouns = [...]string{
	Step:     "step",
	StepS:    "state step",
	Func:     "func step",
	Pipeline: "pipeline",
	Parallel: "parallel",
	Loop:     "loop",
	Branch:   "branch",
	Map:      "map",
}

var kindConstructors = [...]string{
	Step: "Step", StepS: "StepS", Func: "Func", Pipeline: "Pipeline",
	Parallel: "Parallel", Loop: "Loop", Branch: "Branch", Map: "Map",
}

// String returns the kind's noun as messages and fingerprints write it:
// "step", "state step", "func step", "pipeline", "parallel"...
func (k Kind) String() string { return kindNouns[k] }

// Constructor returns the name of the DSL function that builds the kind:
// "Step", "StepS", "Func", "Pipeline"...
func (k Kind) Constructor() string { return kindConstructors[k] }

// Leaf reports whether k is a leaf step kind: Step, StepS or Func.
func (k Kind) Leaf() bool { return k <= Func }

// Describe names a node as messages do: `step "classify"` for every leaf
// kind, `parallel "enrich"` for a composite.
func Describe(k Kind, name string) string {
	noun := "step"
	if !k.Leaf() {
		noun = k.String()
	}
	return noun + " " + strconv.Quote(name)
}

// Option is the kind of an option.
type Option uint8

// The options, in the order the DSL declares them. The zero Option is the
// kind of a zero flujo.Option value, which no DSL function builds.
const (
	Retries Option = iota + 1
	Backoff
	Timeout
	Fallback
	Cache
	CacheTTL
	ImmutableOutput
	Validate
	Merge
	OnBranchFailure
	MaxLoops
	Default
	Concurrency
	BreakerCounts
)

// Args is the shape of an option's arguments.
type Args uint8

// The argument shapes.
const (
	// NoArgs: Cache(), ImmutableOutput().
	NoArgs Args = iota
	// IntArg: one int constant, Value.N.
	IntArg
	// DurationArg: one time.Duration, Value.D1.
	DurationArg
	// DurationsArg: two time.Durations, Value.D1 and Value.D2.
	DurationsArg
	// NodeArg: a node, Value.Node names it.
	NodeArg
	// FuncArg: a function; Validate's parameter type is Value.Type.
	FuncArg
	// MergeArg: a MergeStrategy, Value.N.
	MergeArg
	// PolicyArg: a BranchFailurePolicy, Value.N.
	PolicyArg
)

// OptionRule is the row of the rule table for one option.
type OptionRule struct {
	// Name is the DSL function that builds the option.
	Name string
	// Args is the shape of its arguments.
	Args Args
	// Kinds are the node kinds it applies to.
	Kinds []Kind
	// Where names those kinds in a message: "a Parallel".
	Where string
	// Example is the option written with valid constants, for messages
	// that ask for a constant.
	Example string
}

// Rules is the rule table: one row an option, indexed by Option.
var Rules = [...]OptionRule{
	Retries:         {Name: "Retries", Args: IntArg, Kinds: leaves, Where: whereLeaf, Example: "Retries(3)"},
	Backoff:         {Name: "Backoff", Args: DurationsArg, Kinds: leaves, Where: whereLeaf, Example: "Backoff(10*time.Millisecond, time.Second)"},
	Timeout:         {Name: "Timeout", Args: DurationArg, Kinds: allKinds, Example: "Timeout(200*time.Millisecond)"},
	Fallback:        {Name: "Fallback", Args: NodeArg, Kinds: allKinds, Example: `Fallback(flujo.Step("backup", Backup))`},
	Cache:           {Name: "Cache", Args: NoArgs, Kinds: []Kind{Step, Func}, Where: "a Step or a Func", Example: "Cache()"},
	CacheTTL:        {Name: "CacheTTL", Args: DurationArg, Kinds: []Kind{Step, Func}, Where: "a Step or a Func", Example: "CacheTTL(time.Minute)"},
	ImmutableOutput: {Name: "ImmutableOutput", Args: NoArgs, Kinds: []Kind{Step, Func}, Where: "a Step or a Func", Example: "ImmutableOutput()"},
	Validate:        {Name: "Validate", Args: FuncArg, Kinds: allKinds, Example: "Validate(CheckOutput)"},
	Merge:           {Name: "Merge", Args: MergeArg, Kinds: []Kind{Parallel}, Where: "a Parallel", Example: "Merge(flujo.ErrorOnConflict)"},
	OnBranchFailure: {Name: "OnBranchFailure", Args: PolicyArg, Kinds: []Kind{Parallel}, Where: "a Parallel", Example: "OnBranchFailure(flujo.Ignore)"},
	MaxLoops:        {Name: "MaxLoops", Args: IntArg, Kinds: []Kind{Loop}, Where: "a Loop", Example: "MaxLoops(10)"},
	Default:         {Name: "Default", Args: NodeArg, Kinds: []Kind{Branch}, Where: "a Branch", Example: `Default(flujo.Step("other", Other))`},
	Concurrency:     {Name: "Concurrency", Args: IntArg, Kinds: []Kind{Map}, Where: "a Map", Example: "Concurrency(4)"},
	BreakerCounts:   {Name: "BreakerCounts", Args: FuncArg, Kinds: leaves, Where: whereLeaf, Example: "BreakerCounts(Counts)"},
}

const whereLeaf = "a leaf step (Step, StepS or Func)"

var (
	leaves   = []Kind{Step, StepS, Func}
	allKinds = []Kind{Step, StepS, Func, Pipeline, Parallel, Loop, Branch, Map}
)

// Named returns the option the DSL function name builds, or 0.
func Named(name string) Option {
	for o := Retries; int(o) < len(Rules); o++ {
		if Rules[o].Name == name {
			return o
		}
	}
	return 0
}

// String returns the name of the DSL function that builds the option.
func (o Option) String() string {
	if o == 0 || int(o) >= len(Rules) {
		return "Option(" + strconv.Itoa(int(o)) + ")"
	}
	return Rules[o].Name
}

// AppliesTo reports whether the option may be set on a node of kind k.
func (o Option) AppliesTo(k Kind) bool {
	for _, x := range Rules[o].Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Caches reports whether the option turns the step's cache on.
func (o Option) Caches() bool { return o == Cache || o == CacheTTL }

// Value is an option's arguments as a checker read them.
type Value struct {
	// N is an int argument, or a MergeStrategy or BranchFailurePolicy.
	N int64
	// D1 and D2 are duration arguments.
	D1, D2 time.Duration
	// Node is the name of a node argument.
	Node string
	// Nil reports a nil node or function argument, or one the checker
	// could not read.
	Nil bool
	// Type is Validate's type argument, as messages write types.
	Type string
}

// Text renders the option as it would be written in Go, with the name of
// a node argument in place of the node: "Retries(2)", "Timeout(200ms)",
// `Fallback("backup")`, "Validate[main.Doc]". Step fingerprints are built
// from it.
func (o Option) Text(v Value) string {
	name := o.String()
	switch Rules[o].Args {
	case IntArg:
		return name + "(" + strconv.FormatInt(v.N, 10) + ")"
	case DurationsArg:
		return name + "(" + v.D1.String() + ", " + v.D2.String() + ")"
	case DurationArg:
		return name + "(" + v.D1.String() + ")"
	case NodeArg:
		if v.Nil {
			return name + "(nil)"
		}
		return name + "(" + strconv.Quote(v.Node) + ")"
	case MergeArg:
		return name + "(" + MergeName(v.N) + ")"
	case PolicyArg:
		return name + "(" + PolicyName(v.N) + ")"
	}
	if o == Validate {
		return name + "[" + v.Type + "]"
	}
	return name + "()"
}

// The names of the merge strategies and branch failure policies, indexed
// by their values.
var (
	MergeNames  = [...]string{"MergeUpdate", "ErrorOnConflict", "KeepFirst", "NoMerge"}
	PolicyNames = [...]string{"Propagate", "Ignore"}
)

// MergeName returns the Go name of a MergeStrategy value:
// "MergeUpdate"..., or "MergeStrategy(7)" for an unknown one.
func MergeName(n int64) string {
	if n >= 0 && n < int64(len(MergeNames)) {
		return MergeNames[n]
	}
	return "MergeStrategy(" + strconv.FormatInt(n, 10) + ")"
}

// PolicyName returns the Go name of a BranchFailurePolicy value:
// "Propagate", "Ignore", or "BranchFailurePolicy(5)" for an unknown one.
func PolicyName(n int64) string {
	if n >= 0 && n < int64(len(PolicyNames)) {
		return PolicyNames[n]
	}
	return "BranchFailurePolicy(" + strconv.FormatInt(n, 10) + ")"
}

// The defaults of the options a node does not set.
const (
	// DefaultRetries is the number of retries of a leaf step without
	// Retries: one, so two attempts.
	DefaultRetries = 1
	// DefaultMaxLoops is the iteration limit of a Loop without MaxLoops.
	DefaultMaxLoops = 5
	// DefaultConcurrency is how many elements a Map without Concurrency
	// processes at once.
	DefaultConcurrency = 1
	// MaxFallbackDepth is the longest chain of fallbacks a node may
	// declare.
	MaxFallbackDepth = 10
)

// Settings are a node's options resolved (see Resolve).
type Settings struct {
	Retries int
	// HasBackoff reports a Backoff option, BackoffInitial and BackoffMax
	// its durations.
	HasBackoff                 bool
	BackoffInitial, BackoffMax time.Duration
	Timeout                    time.Duration
	// Cache is set by Cache or CacheTTL; CacheTTL is 0 for the configured
	// time to live.
	Cache           bool
	CacheTTL        time.Duration
	ImmutableOutput bool
	Merge           int64
	OnBranchFailure int64
	MaxLoops        int
	Concurrency     int
	// Fallback, Default and BreakerCounts are the indices of the options
	// that set them, or -1.
	Fallback, Default, BreakerCounts int
	// Validate are the indices of the validators, in order.
	Validate []int
}

// Resolve resolves a node's n options, at(i) being the i-th: the last
// option of a kind wins, except that validators add up; CacheTTL turns the
// cache on as Cache does; a nil validator or BreakerCounts function is
// passed over (the checks report it).
func Resolve(n int, at func(i int) (Option, Value)) Settings {
	s := Settings{Retries: DefaultRetries, MaxLoops: DefaultMaxLoops, Concurrency: DefaultConcurrency,
		Fallback: -1, Default: -1, BreakerCounts: -1}
	for i := range n {
		o, v := at(i)
		switch o {
		case Retries:
			s.Retries = int(v.N)
		case Backoff:
			s.HasBackoff, s.BackoffInitial, s.BackoffMax = true, v.D1, v.D2
		case Timeout:
			s.Timeout = v.D1
		case Fallback:
			s.Fallback = i
		case Cache:
			s.Cache = true
		case CacheTTL:
			s.Cache, s.CacheTTL = true, v.D1
		case ImmutableOutput:
			s.ImmutableOutput = true
		case Validate:
			if !v.Nil {
				s.Validate = append(s.Validate, i)
			}
		case Merge:
			s.Merge = v.N
		case OnBranchFailure:
			s.OnBranchFailure = v.N
		case MaxLoops:
			s.MaxLoops = int(v.N)
		case Default:
			s.Default = i
		case Concurrency:
			s.Concurrency = int(v.N)
		case BreakerCounts:
			if !v.Nil {
				s.BreakerCounts = i
			}
		}
	}
	return s
}

// Fingerprint renders what makes two leaf steps interchangeable for the
// cache: "step|classify|main.Ticket->main.Ticket|Retries(2)", the kind's
// noun, the name, the input and output types, and each option's Text in
// declaration order.
func Fingerprint(k Kind, name, in, out string, opts []string) string {
	var s strings.Builder
	s.WriteString(k.String())
	s.WriteByte('|')
	s.WriteString(name)
	s.WriteByte('|')
	s.WriteString(in)
	s.WriteString("->")
	s.WriteString(out)
	for _, o := range opts {
		s.WriteByte('|')
		s.WriteString(o)
	}
	return s.String()
}

// Messages: each returns the text after the node's description (see
// Describe) and ": ". Where a message names another place (at), the
// reflective checker passes "" and the analysis a source position.

// NameEmpty reports a node without a name.
const NameEmpty = "name is empty"

// NameBlank reports a node whose name is only white space.
const NameBlank = "name is only white space; give the node a name that says what it does, such as \"classify\""

// NameProblem returns what is wrong with a node's name, or "" for a sound
// one: a name must hold more than white space, since results, stats,
// metrics, breakers and cache entries are keyed and reported by it.
func NameProblem(name string) string {
	switch {
	case name == "":
		return NameEmpty
	case strings.TrimSpace(name) == "":
		return NameBlank
	}
	return ""
}

// ZeroOption reports a zero flujo.Option.
const ZeroOption = "zero Option; build options with the DSL's functions"

// DuplicateName reports a name first used by the node first (described),
// at at, within the declaration root (described).
func DuplicateName(name, first, at, root string) string {
	return fmt.Sprintf("name %q is already used by %s%s; names must be unique within %s", name, first, atText(at), root)
}

// TwoStates reports a StepS whose state type differs from the state type
// of an earlier StepS (described), at at.
func TwoStates(state, other, at, otherState string) string {
	return fmt.Sprintf("uses state %s, but %s%s uses state %s; a pipeline has one state type", state, other, atText(at), otherState)
}

func atText(at string) string {
	if at == "" {
		return ""
	}
	return " at " + at
}

// NotApplicable reports option o set on a node of kind k, which it does
// not apply to.
func NotApplicable(o Option, k Kind) string {
	if k == StepS && o.Caches() {
		return fmt.Sprintf("%s cannot apply to a StepS: %s; remove %s or make the step a Step that does not take the state", o, StateNotInKey, o)
	}
	return fmt.Sprintf("%s applies to %s, not to a %s", o, Rules[o].Where, k)
}

// Invalid checks the option's values and returns the problem, or "".
// Nil functions and nodes and Validate's type are checked apart (NilArg,
// ValidateType).
func Invalid(o Option, v Value) string {
	switch o {
	case Retries:
		if v.N < 0 {
			return fmt.Sprintf("%s: must be >= 0", o.Text(v))
		}
	case Backoff:
		if v.D1 < 0 || v.D2 < v.D1 {
			return fmt.Sprintf("%s: need 0 <= initial <= max", o.Text(v))
		}
	case Timeout, CacheTTL:
		if v.D1 <= 0 {
			return fmt.Sprintf("%s: must be > 0", o.Text(v))
		}
	case MaxLoops, Concurrency:
		if v.N < 1 {
			return fmt.Sprintf("%s: must be >= 1", o.Text(v))
		}
	case Merge:
		if v.N < 0 || v.N >= int64(len(MergeNames)) {
			return fmt.Sprintf("%s: unknown strategy; use flujo.%s", o.Text(v), strings.Join(MergeNames[:len(MergeNames)-1], ", flujo.")+" or flujo."+MergeNames[len(MergeNames)-1])
		}
	case OnBranchFailure:
		if v.N < 0 || v.N >= int64(len(PolicyNames)) {
			return fmt.Sprintf("%s: unknown policy; use flujo.%s or flujo.%s", o.Text(v), PolicyNames[0], PolicyNames[1])
		}
	}
	return ""
}

// NilArg reports a nil argument of an option that takes a function or a
// node.
func NilArg(o Option) string {
	if Rules[o].Args == FuncArg {
		return o.String() + ": function is nil"
	}
	return o.String() + "(nil)"
}

// ValidateType reports a validator of type vtype on a node whose output
// type out it does not fit.
func ValidateType(vtype, out string) string {
	return fmt.Sprintf("Validate[%s] does not fit the output type %s", vtype, out)
}

// FallbackTypes reports a fallback whose types differ from its node's.
func FallbackTypes(fallback, fin, fout, in, out string) string {
	return fmt.Sprintf("fallback %q takes %s and produces %s, but the node takes %s and produces %s", fallback, fin, fout, in, out)
}

// FallbackLoop reports a fallback chain that leads back to one of its
// nodes; chain names the nodes, the repeated one last.
func FallbackLoop(chain []string) string {
	return "fallback loop: " + strings.Join(chain, " -> ")
}

// FallbackTooDeep reports a fallback chain, named from the node, that is
// more than MaxFallbackDepth deep.
func FallbackTooDeep(chain []string) string {
	return fmt.Sprintf("fallback chain %s is %d deep; at most %d allowed", strings.Join(chain, " -> "), len(chain)-1, MaxFallbackDepth)
}

// ConcurrentState reports a Map running n elements at once whose body
// reads the pipeline state.
func ConcurrentState(n int64) string {
	return fmt.Sprintf("%s: the body reads the pipeline state, which elements running at once would share; use %s", Concurrency.Text(Value{N: n}), Concurrency.Text(Value{N: 1}))
}

// StateNotInKey says why a StepS is not cached.
const StateNotInKey = "it reads the pipeline state, which is not part of the cache key"

// Step overrides (flujo.json "steps", WithStepOverrides) apply to the leaf
// steps of a pipeline by "pipeline.step" key. The messages below say why
// one cannot apply; the checkers put the key before them.

// OverrideComposite reports a key that names a composite node (described).
func OverrideComposite(node string) string {
	return "names its " + node + ", but overrides apply to Step, StepS and Func nodes only; name one of its steps"
}

// OverrideMissing reports a key naming a step the pipeline does not have;
// steps are the names of its leaf steps.
func OverrideMissing(step string, steps []string) string {
	q := make([]string, len(steps))
	for i, s := range steps {
		q[i] = strconv.Quote(s)
	}
	return fmt.Sprintf("overrides the step %q, which the pipeline does not have; its steps are %s; fix the key or remove it", step, strings.Join(q, ", "))
}

// OverrideCacheState reports an override that turns the cache on for a
// StepS.
const OverrideCacheState = "sets cache for it, but it is a StepS: " + StateNotInKey + "; remove the cache setting"

// The structure of composites: what each must have.
const (
	NoSteps      = "has no steps"
	NoBranches   = "has no branches"
	NoCases      = "has no cases and no Default"
	BodyNil      = "body is nil"
	JoinNil      = "join function is nil"
	JoinVariadic = "join must not be variadic: give it one parameter per branch"
)

// NodeNil reports the i-th node (from 1) of a Pipeline that is nil.
func NodeNil(i int) string { return fmt.Sprintf("node %d is nil", i) }

// BranchNil reports the i-th branch (from 1) of a Parallel that is nil.
func BranchNil(i int) string { return fmt.Sprintf("branch %d is nil", i) }

// CaseNil reports a Branch case (`case "x"`) that is nil.
func CaseNil(label string) string { return label + " is nil" }

// CaseLabel names the case of key in messages.
func CaseLabel(key string) string { return "case " + strconv.Quote(key) }

// JoinNotFunc reports a join of type typ, which is not a function.
func JoinNotFunc(typ string) string { return "join must be a function, got " + typ }

// JoinResults reports a join of type sig whose results are not Out or
// (Out, error).
func JoinResults(sig string) string { return "join must return Out or (Out, error), got " + sig }

// JoinArity reports a join taking params parameters for a Parallel of
// branches branches.
func JoinArity(params, branches int) string {
	return fmt.Sprintf("join takes %d parameters, but there are %d branches", params, branches)
}

// Find returns the first node of n's tree that match accepts, in the DSL's
// order: a node, then its children (a Branch's in key order), then its
// fallback, then its default. runs returns a node's children and its
// resolved fallback and default, zero when it has none. The state type
// of a pipeline is that of the first StepS found so; a node reads the
// state when a StepS is found in it.
func Find[N comparable](n N, runs func(N) (children []N, fallback, def N), match func(N) bool) (N, bool) {
	var zero N
	if n == zero {
		return zero, false
	}
	if match(n) {
		return n, true
	}
	children, fallback, def := runs(n)
	for _, c := range children {
		if f, ok := Find(c, runs, match); ok {
			return f, true
		}
	}
	if f, ok := Find(fallback, runs, match); ok {
		return f, true
	}
	return Find(def, runs, match)
}

// Type fit. These messages are about the node that does not fit, the
// subject of the message: a step of a Pipeline, a branch, a body, a case.

// InputMismatch reports a node taking in after a node (described) that
// produces out.
func InputMismatch(in, prev, out string) string {
	return fmt.Sprintf("expects input %s, but %s before it produces %s", in, prev, out)
}

// BranchInput reports a branch taking in, where the branches of the
// Parallel (described) all receive the input firstIn of its first branch
// (described).
func BranchInput(in, parallel, first, firstIn string) string {
	return fmt.Sprintf("expects input %s, but the branches of %s all receive the input of %s, %s", in, parallel, first, firstIn)
}

// JoinParam reports a branch producing out where the i-th (from 1)
// parameter of the join of the Parallel (described) is param.
func JoinParam(out string, i int, parallel, param string) string {
	return fmt.Sprintf("produces %s, but parameter %d of the join function of %s is %s", out, i, parallel, param)
}

// LoopBody reports a Loop body taking in and producing out, where the
// Loop (described) runs on t.
func LoopBody(in, out, loop, t string) string {
	return fmt.Sprintf("takes %s and produces %s, but the body of %s must take and produce %s", in, out, loop, t)
}

// MapBody reports a Map body taking in and producing out, where the Map
// (described) has elements of elemIn and elemOut.
func MapBody(in, out, m, elemIn, elemOut string) string {
	return fmt.Sprintf("takes %s and produces %s, but the body of %s must take %s and produce %s", in, out, m, elemIn, elemOut)
}

// CaseInput reports a case (labelled, see CaseLabel) of a Branch
// (described) taking in where the chooser takes chooserIn.
func CaseInput(label, branch, in, chooserIn string) string {
	return fmt.Sprintf("%s of %s expects input %s, but the chooser takes %s", label, branch, in, chooserIn)
}

// CaseOutput reports a case producing out where an earlier case
// (described) produces firstOut.
func CaseOutput(label, branch, out, first, firstOut string) string {
	return fmt.Sprintf("%s of %s produces %s, but %s produces %s; all cases must produce one type", label, branch, out, first, firstOut)
}
