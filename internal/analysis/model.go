package analysis

import (
	"time"

	"github.com/flujo/flujo/internal/dsl"
	"github.com/flujo/flujo/schema"
)

// The model is plain data: it holds no go/types or go/ast values, serialises
// to JSON and back without loss, and lists everything in a deterministic
// order (slices in source or sorted order, maps only where encoding/json
// sorts the keys). The emitter works from it alone.
//
// Types are referred to by key: the type's string as types.TypeString
// writes it with every package qualified by its import path, such as
// "example.com/shop.Ticket", "[]example.com/shop.Item" or
// "map[string]*example.com/shop.Node". Model.Types describes every key
// that appears anywhere in the model.
//
// Positions are "file:line:col", the file relative to the directory the
// packages were loaded from when it lies inside it, else absolute.

// Model is the analysis of the loaded packages.
type Model struct {
	// Packages are the packages that declare at least one pipeline, or were
	// named by the patterns, sorted by import path.
	Packages []*Package `json:"packages"`
	// Types describes every type the model refers to, by key.
	Types map[string]*Type `json:"types"`
	// PackageNames maps the import path of every package a type or a step
	// function of the model comes from to its package name, which the last
	// element of the path does not always tell.
	PackageNames map[string]string `json:"packageNames"`
}

// Package is one loaded Go package.
type Package struct {
	// Path is the import path.
	Path string `json:"path"`
	// Name is the package name.
	Name string `json:"name"`
	// Dir is the absolute directory of the package's files.
	Dir string `json:"dir"`
	// Module is the path of the module the package belongs to, if any.
	Module string `json:"module,omitempty"`
	// ModuleDir is the absolute root directory of that module, if any.
	ModuleDir string `json:"moduleDir,omitempty"`
	// Files are the Go files the package was loaded from, base names,
	// sorted.
	Files []string `json:"files"`
	// Pipelines are the package-level variables initialised with a DSL
	// call, in source order.
	Pipelines []*Pipeline `json:"pipelines"`
	// Skipped are the package-level variables of type flujo.Node that are
	// not DSL declarations (a node built by a function at run time, for
	// example): they get no generated executor and run on the
	// ExecutorCore only.
	Skipped []Skipped `json:"skipped,omitempty"`
	// Notes are remarks on the declarations that are not errors, such as
	// ErrorOnConflict branches that may both write a field, in source
	// order.
	Notes []Note `json:"notes,omitempty"`
	// Declared are the unexported names the package's files declare at
	// package level, sorted. The generated file shares that block: its
	// imports must not take these names, and its own variables must not
	// hide those it refers to.
	Declared []string `json:"declared,omitempty"`
}

// Note is a remark on a declaration: the generated executor is built all
// the same.
type Note struct {
	Pos     string `json:"pos"`
	Message string `json:"message"`
}

// Skipped is a package-level node the generator cannot follow.
type Skipped struct {
	// Var is the variable's name; Pos its position.
	Var string `json:"var"`
	Pos string `json:"pos"`
	// Reason says why it gets no executor and how to get one.
	Reason string `json:"reason"`
}

// Pipeline is a package-level variable whose value is a declared node. Every
// such variable is a pipeline of the model, whatever its root kind: a
// `var Classify = flujo.Step(...)` can be run on its own.
type Pipeline struct {
	// Var is the Go variable's name.
	Var string `json:"var"`
	// Exported reports whether Var is exported.
	Exported bool `json:"exported"`
	// Name is the root node's declared name; config step overrides are
	// keyed "<Name>.<step name>".
	Name string `json:"name"`
	// Pos is the position of the variable's name in its declaration.
	Pos string `json:"pos"`
	// Root is the node the variable holds.
	Root *Node `json:"root"`
	// In and Out are the root's input and output types.
	In  TypeRef `json:"in"`
	Out TypeRef `json:"out"`
	// State is the S of the pipeline's StepS nodes, nil when none runs in
	// it.
	State *TypeRef `json:"state,omitempty"`
	// Steps counts the leaf steps, fallbacks and defaults included.
	Steps int `json:"steps"`
	// UsedBy lists the other pipeline variables of the package whose
	// declarations refer to this one, sorted.
	UsedBy []string `json:"usedBy,omitempty"`
}

// Kind is a node's kind, named after the DSL function that declares it.
type Kind string

// The node kinds.
const (
	KindStep     Kind = "Step"
	KindStepS    Kind = "StepS"
	KindFunc     Kind = "Func"
	KindPipeline Kind = "Pipeline"
	KindParallel Kind = "Parallel"
	KindLoop     Kind = "Loop"
	KindBranch   Kind = "Branch"
	KindMap      Kind = "Map"
)

// Leaf reports whether k is a leaf step kind (Step, StepS or Func).
func (k Kind) Leaf() bool { return k == KindStep || k == KindStepS || k == KindFunc }

// dsl returns the rule table's kind of k.
func (k Kind) dsl() dsl.Kind {
	for d := dsl.Step; d <= dsl.Map; d++ {
		if d.Constructor() == string(k) {
			return d
		}
	}
	panic("analysis: unknown node kind " + string(k))
}

// Node is a declared step or composition.
type Node struct {
	// ID numbers the node within its pipeline, in preorder (children, then
	// fallback, then default), starting at 0 for the root. Generated
	// identifiers can use it where names may clash.
	ID int `json:"id"`
	// Kind is the node's kind.
	Kind Kind `json:"kind"`
	// Name is the declared name.
	Name string `json:"name"`
	// Pos is the position of the DSL call that declares the node.
	Pos string `json:"pos"`
	// Var names the package-level variable the node was taken from when the
	// declaration refers to one instead of declaring the node inline.
	Var string `json:"var,omitempty"`
	// In and Out are the node's input and output types.
	In  TypeRef `json:"in"`
	Out TypeRef `json:"out"`
	// Options are the node's options, resolved, defaults filled in.
	Options Options `json:"options"`
	// Override is the flujo.json step override for the node, if any (leaf
	// steps only).
	Override *schema.StepOverride `json:"override,omitempty"`
	// Children are the nodes a composite runs directly: a Pipeline's
	// sequence, a Parallel's branches in order, a Loop's or Map's body, a
	// Branch's cases in the order of Branch.Keys. Fallback and Default
	// nodes are in Options.
	Children []*Node `json:"children,omitempty"`
	// Step details a leaf step; nil for composites.
	Step *Leaf `json:"step,omitempty"`
	// Parallel, Loop, Branch and Map detail composites of those kinds.
	Parallel *ParallelInfo `json:"parallel,omitempty"`
	Loop     *LoopInfo     `json:"loop,omitempty"`
	Branch   *BranchInfo   `json:"branch,omitempty"`
	Map      *MapInfo      `json:"map,omitempty"`
	// WritesState reports whether the node, or anything it may run, is a
	// StepS that writes the state.
	WritesState bool `json:"writesState"`
	// ReadsState reports whether a StepS runs in the node.
	ReadsState bool `json:"readsState"`
}

// Options are a node's options resolved the way the DSL resolves them: the
// last option of a kind wins, validators add up, absent options take their
// defaults.
type Options struct {
	// Retries is the number of retries: attempts = Retries + 1. Default 1.
	Retries int `json:"retries"`
	// Backoff is the wait between attempts; both zero without Backoff.
	BackoffInitial time.Duration `json:"backoffInitial"`
	BackoffMax     time.Duration `json:"backoffMax"`
	// Timeout bounds each attempt of a leaf, or a composite's whole run;
	// zero for none.
	Timeout time.Duration `json:"timeout"`
	// Cache is set by Cache or CacheTTL.
	Cache bool `json:"cache"`
	// CacheTTL is the CacheTTL option's value; zero means the configured
	// cache_ttl_seconds.
	CacheTTL time.Duration `json:"cacheTTL"`
	// ImmutableOutput lets a cache hit return the stored value itself.
	ImmutableOutput bool `json:"immutableOutput"`
	// Validate are the validators, in declaration order.
	Validate []FuncRef `json:"validate,omitempty"`
	// BreakerCounts is the BreakerCounts function, which decides which
	// failed attempts the step's circuit breaker counts; nil means the
	// default rule, flujo.CountsAsBreakerFailure.
	BreakerCounts *FuncRef `json:"breakerCounts,omitempty"`
	// Merge is the Parallel merge strategy: "MergeUpdate" (default),
	// "ErrorOnConflict", "KeepFirst" or "NoMerge".
	Merge string `json:"merge"`
	// OnBranchFailure is the Parallel branch failure policy: "Propagate"
	// (default) or "Ignore".
	OnBranchFailure string `json:"onBranchFailure"`
	// MaxLoops is a Loop's iteration limit. Default 5.
	MaxLoops int `json:"maxLoops"`
	// Concurrency bounds a Map's elements in flight. Default 1.
	Concurrency int `json:"concurrency"`
	// Fallback is the node run when this one fails after its last attempt.
	Fallback *Node `json:"fallback,omitempty"`
	// Default is a Branch's node for keys without a case.
	Default *Node `json:"default,omitempty"`
	// Declared are the options as written, in order, for reports and
	// fingerprints.
	Declared []OptionUse `json:"declared,omitempty"`
}

// The merge strategy and branch failure policy names.
const (
	MergeUpdate     = "MergeUpdate"
	ErrorOnConflict = "ErrorOnConflict"
	KeepFirst       = "KeepFirst"
	NoMerge         = "NoMerge"
	Propagate       = "Propagate"
	Ignore          = "Ignore"
)

// OptionUse is one option as written.
type OptionUse struct {
	// Name is the option function's name, such as "Retries".
	Name string `json:"name"`
	// Text renders the option as the DSL's Option.String does, such as
	// "Retries(2)", "Timeout(200ms)" or `Fallback("backup")`.
	Text string `json:"text"`
	// Pos is the position of the option call.
	Pos string `json:"pos"`
}

// FuncRef names a function the generated code calls directly.
type FuncRef struct {
	// PkgPath is the import path of the function's package.
	PkgPath string `json:"pkgPath"`
	// Name is the function's or method's name.
	Name string `json:"name"`
	// Recv is the receiver type of a method expression as written in it,
	// such as "Svc" or "*Svc" (package-local name); empty for a function.
	Recv string `json:"recv,omitempty"`
	// RecvType is the key of the receiver type, empty for a function.
	RecvType string `json:"recvType,omitempty"`
	// IsMethodExpr reports a method expression such as (*Svc).Lookup.
	IsMethodExpr bool `json:"isMethodExpr,omitempty"`
	// TypeArgs are the type arguments of an instantiated generic function,
	// as keys, in order.
	TypeArgs []string `json:"typeArgs,omitempty"`
	// Signature is the key of the function's type as the DSL call sees it
	// (a method expression's receiver is its first parameter).
	Signature string `json:"signature"`
	// Pos is the position of the function argument in the DSL call.
	Pos string `json:"pos"`
	// DeclPos is the position of the function's declaration.
	DeclPos string `json:"declPos,omitempty"`
}

// Leaf details a Step, StepS or Func.
type Leaf struct {
	// Shape is the signature shape: KindStep for func(ctx, In) (Out,
	// error), KindStepS for func(ctx, In, *S) (Out, error), KindFunc for
	// func(In) Out.
	Shape Kind `json:"shape"`
	// Func is the step function.
	Func FuncRef `json:"func"`
	// In, Out and State (StepS only) are the step's types.
	In    TypeRef  `json:"in"`
	Out   TypeRef  `json:"out"`
	State *TypeRef `json:"state,omitempty"`
	// OutReportsUsage reports that Out has a method Usage() flujo.Usage in
	// its value method set, so the step's results carry cost and tokens.
	OutReportsUsage bool `json:"outReportsUsage"`
	// Cacheable reports that the step may be cached: a Step or Func whose
	// In can be hashed. CacheReason says why not when it is false.
	Cacheable   bool   `json:"cacheable"`
	CacheReason string `json:"cacheReason,omitempty"`
	// Fingerprint identifies the step for the cache key as the dynamic
	// engine does: kind, name, signature and options.
	Fingerprint string `json:"fingerprint"`
	// Hash is the hashing plan for In.
	Hash *HashPlan `json:"hash"`
	// Copy is the deep-copy plan for Out, used on cache hits.
	Copy *CopyPlan `json:"copy"`
	// Writes is the state write set of a StepS; nil otherwise.
	Writes *WriteSet `json:"writes,omitempty"`
	// ContextUnused reports that the step function provably never uses its
	// context: a Func, or a Step or StepS whose loaded declaration leaves
	// the context parameter unnamed, names it _, or never mentions it.
	ContextUnused bool `json:"contextUnused,omitempty"`
}

// TypeRef names a type.
type TypeRef struct {
	// Type is the type's key (see Model).
	Type string `json:"type"`
	// PkgPath and Name identify a named type; empty for other types.
	PkgPath string `json:"pkgPath,omitempty"`
	Name    string `json:"name,omitempty"`
}

// TypeKind is the structural kind of a type.
type TypeKind string

// The type kinds. Basic kinds are named as Go names them ("int", "string",
// "float64", ...); the others are these.
const (
	TypeStruct        TypeKind = "struct"
	TypePointer       TypeKind = "pointer"
	TypeSlice         TypeKind = "slice"
	TypeArray         TypeKind = "array"
	TypeMap           TypeKind = "map"
	TypeChan          TypeKind = "chan"
	TypeFunc          TypeKind = "func"
	TypeInterface     TypeKind = "interface"
	TypeUnsafePointer TypeKind = "unsafe.Pointer"
	TypeTypeParam     TypeKind = "typeparam"
)

// Type is the structural description of a type. A named type is described
// by its underlying type's structure plus its name.
type Type struct {
	// Key is the type's key.
	Key string `json:"key"`
	// Kind is the underlying type's kind.
	Kind TypeKind `json:"kind"`
	// PkgPath and Name identify a named type (Name alone for a predeclared
	// named type such as error); TypeArgs are an instantiation's type
	// arguments, as keys.
	PkgPath  string   `json:"pkgPath,omitempty"`
	Name     string   `json:"name,omitempty"`
	TypeArgs []string `json:"typeArgs,omitempty"`
	// Fields are a struct's fields, in declaration order.
	Fields []Field `json:"fields,omitempty"`
	// Elem is the element type of a pointer, slice, array, map or chan.
	Elem string `json:"elem,omitempty"`
	// MapKey is a map's key type.
	MapKey string `json:"mapKey,omitempty"`
	// Len is an array's length.
	Len int64 `json:"len,omitempty"`
	// Comparable reports whether == is defined on the type.
	Comparable bool `json:"comparable"`
	// HasHashMethod reports that the type's value method set has
	// Hash64() uint64 (runtime.Hashable).
	HasHashMethod bool `json:"hasHashMethod,omitempty"`
	// PtrHasHashMethod reports that only *T has Hash64() uint64.
	PtrHasHashMethod bool `json:"ptrHasHashMethod,omitempty"`
	// ReportsUsage reports that the value method set has Usage() flujo.Usage.
	ReportsUsage bool `json:"reportsUsage,omitempty"`
	// EncodesItself reports that the value method set has MarshalJSON or
	// MarshalText (json.Marshaler, encoding.TextMarshaler): JSON takes the
	// type as it encodes.
	EncodesItself bool `json:"encodesItself,omitempty"`
	// IsTime marks time.Time.
	IsTime bool `json:"isTime,omitempty"`
	// Pos is the position of a named type's declaration, when it was
	// loaded from source.
	Pos string `json:"pos,omitempty"`
}

// Field is a struct field.
type Field struct {
	// Name is the field's name; an embedded field's is its type's name.
	Name string `json:"name"`
	// Type is the field type's key.
	Type string `json:"type"`
	// Exported reports an exported field name.
	Exported bool `json:"exported"`
	// Embedded reports an embedded field.
	Embedded bool `json:"embedded,omitempty"`
	// JSONSkip reports a field tagged json:"-", which JSON leaves out.
	JSONSkip bool `json:"jsonSkip,omitempty"`
	// Pos is the field's declaration position, when loaded from source.
	Pos string `json:"pos,omitempty"`
}

// HashHow says how one value is hashed, following the canonical order of
// the runtime's hashing primitives.
type HashHow string

// The ways to hash a value.
const (
	// HashMethod calls the value's Hash64 method (for a pointer type that
	// has it: AddNil when nil).
	HashMethod HashHow = "method"
	// HashTime adds a time.Time's instant.
	HashTime    HashHow = "time"
	HashBool    HashHow = "bool"
	HashInt     HashHow = "int"
	HashUint    HashHow = "uint"
	HashFloat   HashHow = "float"
	HashComplex HashHow = "complex"
	HashString  HashHow = "string"
	// HashStruct hashes Fields in declaration order, blank fields skipped.
	HashStruct HashHow = "struct"
	// HashBytes adds a []byte or [N]byte (any element kind uint8) whole.
	HashBytes HashHow = "bytes"
	// HashArray hashes Elem for each element; the length is static.
	HashArray HashHow = "array"
	// HashSlice adds nil, or the length and then Elem for each element.
	HashSlice HashHow = "slice"
	// HashMap adds nil, or hashes each entry (Key, then Elem) on its own
	// and adds the length and the sum of the entry hashes.
	HashMap HashHow = "map"
	// HashPointer adds nil, or not-nil and then Elem. CycleCheck is set
	// when the pointer can lead back to a value being hashed.
	HashPointer HashHow = "pointer"
	// HashInterface adds nil, or not-nil, the dynamic type's identity and
	// the dynamic value; only the runtime's reflective hasher can do it.
	HashInterface HashHow = "interface"
	// HashRef hashes the value with the plan of the named type Ref, found
	// in HashPlan.Named: the type is recursive.
	HashRef HashHow = "ref"
)

// HashPlan says how to hash a step's input.
type HashPlan struct {
	// Hashable reports whether In can be hashed. When false, Unhashable
	// says why and Root may be nil.
	Hashable   bool        `json:"hashable"`
	Unhashable *Unhashable `json:"unhashable,omitempty"`
	// Reflective reports that some part (an interface) needs the runtime's
	// reflective hasher.
	Reflective bool `json:"reflective,omitempty"`
	// Root is the plan for the whole input.
	Root *HashNode `json:"root,omitempty"`
	// Named holds the plans of recursive named types, by type key, for
	// HashRef nodes.
	Named map[string]*HashNode `json:"named,omitempty"`
}

// HashNode is the plan for one value within the input.
type HashNode struct {
	// Path is the value's path from the input, written as Go reads it:
	// "in", "in.Items[i]", "in.Next.Name" (through a pointer to a struct),
	// "*in.Count" (through another pointer), "in.Tags[k]" for a map's
	// values and "key(in.Tags)" for its keys.
	Path string `json:"path"`
	// Type is the value's type key.
	Type string `json:"type"`
	// How says how the value is hashed.
	How HashHow `json:"how"`
	// Fields are a struct's fields, in declaration order, blank ones
	// left out.
	Fields []*HashField `json:"fields,omitempty"`
	// Elem is the element plan of an array, slice, map (the value) or
	// pointer.
	Elem *HashNode `json:"elem,omitempty"`
	// Key is a map's key plan.
	Key *HashNode `json:"key,omitempty"`
	// Ref is the named type key of a HashRef node.
	Ref string `json:"ref,omitempty"`
	// CycleCheck marks a pointer, slice or map whose elements lead back to
	// a recursive type, so values may form a cycle: the hasher must track
	// what it has followed.
	CycleCheck bool `json:"cycleCheck,omitempty"`
}

// HashField is a struct field in a hash plan.
type HashField struct {
	// Name is the field's name.
	Name string `json:"name"`
	// Plan is the field value's plan.
	Plan *HashNode `json:"plan"`
}

// Unhashable says why a type cannot be hashed.
type Unhashable struct {
	// Path is the path of the first part that cannot be hashed, as in
	// HashNode.Path.
	Path string `json:"path"`
	// Type is that part's type key.
	Type string `json:"type"`
	// Reason says what is wrong, such as "func field" or "chan field".
	Reason string `json:"reason"`
	// Pos is the position of the field's declaration, when known.
	Pos string `json:"pos,omitempty"`
}

// CopyHow says how a part of an output is deep-copied.
type CopyHow string

// The ways to copy a value.
const (
	// CopyValue: assignment copies the value completely.
	CopyValue CopyHow = "value"
	// CopyStruct: assign, then copy Fields (the reference-typed ones).
	CopyStruct CopyHow = "struct"
	// CopyArray: assign, then copy each element with Elem.
	CopyArray CopyHow = "array"
	// CopySlice: new slice of the same length, each element copied with
	// Elem (or copy() when Elem is CopyValue); nil stays nil.
	CopySlice CopyHow = "slice"
	// CopyMap: new map, each value copied with Elem (keys are comparable
	// and copied by assignment); nil stays nil.
	CopyMap CopyHow = "map"
	// CopyPointer: new value of Elem's type, copied with Elem; nil stays
	// nil. CycleCheck as for hashing.
	CopyPointer CopyHow = "pointer"
	// CopyInterface: the dynamic value needs the runtime's reflective copy.
	CopyInterface CopyHow = "interface"
	// CopyShared: a func, chan or unsafe.Pointer; the copy shares it.
	CopyShared CopyHow = "shared"
	// CopyRef: copy with the plan of the named type Ref in CopyPlan.Named.
	CopyRef CopyHow = "ref"
)

// CopyPlan says how to deep-copy a step's output.
type CopyPlan struct {
	// NeedsCopy reports that Out holds reference-typed parts a caller could
	// mutate through; when false, returning the value copies it.
	NeedsCopy bool `json:"needsCopy"`
	// Reflective reports that some part needs the runtime's reflective copy.
	Reflective bool `json:"reflective,omitempty"`
	// Shared lists the paths of parts the copy cannot duplicate (funcs,
	// chans), which a copy shares with the cached value.
	Shared []string `json:"shared,omitempty"`
	// Root is the plan for the whole output.
	Root *CopyNode `json:"root"`
	// Named holds the plans of recursive named types, by type key.
	Named map[string]*CopyNode `json:"named,omitempty"`
}

// CopyNode is the plan for one value within the output.
type CopyNode struct {
	// Path is the value's path from the output, as in HashNode.Path with
	// "out" at the root.
	Path string `json:"path"`
	// Type is the value's type key.
	Type string `json:"type"`
	// How says how the value is copied.
	How CopyHow `json:"how"`
	// Fields are the struct fields that need more than assignment, in
	// declaration order.
	Fields []*CopyField `json:"fields,omitempty"`
	// Elem is the element plan of an array, slice, map (the value) or
	// pointer.
	Elem *CopyNode `json:"elem,omitempty"`
	// Key is a map's key plan, when keys hold references (the dynamic
	// engine copies them too); nil otherwise.
	Key *CopyNode `json:"key,omitempty"`
	// Ref is the named type key of a CopyRef node.
	Ref string `json:"ref,omitempty"`
	// CycleCheck marks a pointer that may close a cycle of values.
	CycleCheck bool `json:"cycleCheck,omitempty"`
}

// CopyField is a struct field in a copy plan.
type CopyField struct {
	// Name is the field's name.
	Name string `json:"name"`
	// Plan is the field value's plan.
	Plan *CopyNode `json:"plan"`
}

// WriteKind says how a StepS writes a part of its state.
type WriteKind string

// The kinds of state writes.
const (
	// WriteAssign assigns the field (=, op=, ++, --, or through &field).
	WriteAssign WriteKind = "assign"
	// WriteElem writes a map or slice element of the field
	// (st.M[k] = v, delete(st.M, k), st.S[i] = v, clear(st.M)).
	WriteElem WriteKind = "element"
	// WriteMay: a reference into the field goes where the analysis does
	// not follow (a call without source, an interface method, a store),
	// so the field counts as written; Reason says why.
	WriteMay WriteKind = "may"
	// WriteAll: the whole state is assigned (*st = v), or a reference to
	// all of it goes where the analysis does not follow; every field counts
	// as written, and Reason says why.
	WriteAll WriteKind = "all"
)

// WriteSet is what a StepS may write of its state S.
type WriteSet struct {
	// State is S's type key.
	State string `json:"state"`
	// All reports that the step may write every field: it assigns *S
	// whole, or the *S (or a pointer into it) escapes to another function
	// or to storage.
	All bool `json:"all"`
	// Fields are the names of the top-level fields of S the step writes,
	// sorted; with All, every field of S.
	Fields []string `json:"fields"`
	// Writes are the writes found, by position.
	Writes []StateWrite `json:"writes"`
}

// StateWrite is one write to the state.
type StateWrite struct {
	// Field is the top-level field of S written; empty for WriteAll.
	Field string `json:"field,omitempty"`
	// Path is the written expression's path from the state, such as
	// "Counts[key]" or "Meta.Tags".
	Path string `json:"path,omitempty"`
	// Kind says how it is written.
	Kind WriteKind `json:"kind"`
	// Reason explains a WriteMay or WriteAll, such as "st is passed to
	// json.Unmarshal, whose source is not loaded", and says through which
	// calls a write in another function was reached.
	Reason string `json:"reason,omitempty"`
	// Pos is the write's position.
	Pos string `json:"pos"`
}

// ParallelInfo details a Parallel.
type ParallelInfo struct {
	// Join is the join function; JoinParams its parameter types, one per
	// branch; JoinReturnsError reports an (Out, error) result.
	Join             FuncRef   `json:"join"`
	JoinParams       []TypeRef `json:"joinParams"`
	JoinReturnsError bool      `json:"joinReturnsError"`
	// Branches are the state writes of each branch, in branch order.
	Branches []BranchWrites `json:"branches"`
	// Conflicts are the state fields written by more than one branch,
	// sorted by field, and what the merge strategy does about them.
	Conflicts []Conflict `json:"conflicts,omitempty"`
	// MergeBack lists, per written field, the branch indexes whose copy
	// the merge takes the field from, in the order they are applied.
	// Empty under NoMerge.
	MergeBack []FieldMerge `json:"mergeBack,omitempty"`
}

// BranchWrites is what one Parallel branch may write of the state.
type BranchWrites struct {
	// Branch is the branch's name.
	Branch string `json:"branch"`
	// ReadsState reports that a StepS runs in the branch, so it may read
	// the state; a branch that neither reads nor writes gets no copy.
	ReadsState bool `json:"readsState"`
	// All reports that the branch may write every field.
	All bool `json:"all"`
	// Fields are the fields it may write, sorted.
	Fields []string `json:"fields"`
	// Writes are the writes behind Fields, by position.
	Writes []StateWrite `json:"writes,omitempty"`
}

// Conflict is a state field written by several branches of a Parallel.
type Conflict struct {
	// Field is the top-level state field.
	Field string `json:"field"`
	// Branches are the indexes of the branches that write it, in order.
	Branches []int `json:"branches"`
	// Positions are the positions of the writes, one per branch (the first
	// write of the branch).
	Positions []string `json:"positions"`
	// Resolution is what the merge strategy does: "error" under
	// ErrorOnConflict, "last" (the last branch's write wins) under
	// MergeUpdate, "first" under KeepFirst, "discard" under NoMerge.
	Resolution string `json:"resolution"`
}

// FieldMerge says where a merged state field comes from.
type FieldMerge struct {
	// Field is the top-level state field.
	Field string `json:"field"`
	// From are the branch indexes copied back, in application order.
	From []int `json:"from"`
}

// LoopInfo details a Loop.
type LoopInfo struct {
	// Until is the predicate, Until.Signature func(T) bool.
	Until FuncRef `json:"until"`
	// T is the loop's input and output type.
	T TypeRef `json:"t"`
}

// BranchInfo details a Branch.
type BranchInfo struct {
	// Chooser is the function that returns the key.
	Chooser FuncRef `json:"chooser"`
	// Keys are the case keys, sorted; Node.Children holds the cases in this
	// order.
	Keys []string `json:"keys"`
	// HasDefault reports a Default option (the node is Options.Default).
	HasDefault bool `json:"hasDefault"`
}

// MapInfo details a Map.
type MapInfo struct {
	// Elem and OutElem are the body's input and output types; the Map
	// takes []Elem and produces []OutElem.
	Elem    TypeRef `json:"elem"`
	OutElem TypeRef `json:"outElem"`
}
