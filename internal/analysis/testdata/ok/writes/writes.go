// Package writes has state steps that write their state in every way the
// analysis follows, under every merge strategy.
package writes

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/flujo/flujo"
)

type Counter struct{ N int }

func (c *Counter) Inc() { c.N++ }

func (c Counter) Get() int { return c.N }

type Meta struct{ Labels map[string]string }

type State struct {
	Count   int
	Names   []string
	Index   map[string]int
	Hits    Counter
	Meta    Meta
	Log     *[]string
	Unused  string
	Summary string
}

type In struct{ Key string }

// Assign writes fields directly, through op-assignment and ++.
func Assign(ctx context.Context, in In, st *State) (In, error) {
	st.Count += 2
	st.Names = append(st.Names, in.Key)
	st.Summary = fmt.Sprint(st.Count, st.Names)
	return in, nil
}

// Elements writes map and slice elements, through aliases too.
func Elements(ctx context.Context, in In, st *State) (In, error) {
	st.Index[in.Key] = len(st.Names)
	labels := st.Meta.Labels
	labels["seen"] = in.Key
	if len(st.Names) > 0 {
		st.Names[0] = in.Key
	}
	delete(st.Index, "old")
	return in, nil
}

// Methods calls a pointer method on a field (a write) and a value method
// (a read).
func Methods(ctx context.Context, in In, st *State) (In, error) {
	if st.Hits.Get() < 10 {
		st.Hits.Inc()
	}
	return in, nil
}

// Copies writes only a local copy of the state: no state writes.
func Copies(ctx context.Context, in In, st *State) (In, error) {
	local := *st
	local.Count = 99
	n := st.Count
	n++
	_ = n
	return in, nil
}

// Pointer takes the address of a field and writes through it.
func Pointer(ctx context.Context, in In, st *State) (In, error) {
	p := &st.Count
	*p = 7
	return in, nil
}

// Escapes passes the whole state to a function: it may write everything.
func Escapes(ctx context.Context, in In, st *State) (In, error) {
	return in, json.Unmarshal([]byte(in.Key), st)
}

// FieldEscapes passes a pointer to one field: it may write that field.
func FieldEscapes(ctx context.Context, in In, st *State) (In, error) {
	return in, json.Unmarshal([]byte(in.Key), &st.Meta)
}

// Reads only reads the state.
func Reads(ctx context.Context, in In, st *State) (In, error) {
	fmt.Println(st.Count, st.Names, st.Index)
	return in, nil
}

// Unnamed never names its state.
func Unnamed(ctx context.Context, in In, _ *State) (In, error) { return in, nil }

func Keep(a, b, c In) In { return a }

var Update = flujo.Parallel("update", Keep,
	flujo.StepS("assign", Assign),
	flujo.StepS("elements", Elements),
	flujo.StepS("pointer", Pointer),
)

var First = flujo.Parallel("first", Keep,
	flujo.StepS("methods", Methods),
	flujo.StepS("escapes", Escapes),
	flujo.StepS("copies", Copies),
).With(flujo.Merge(flujo.KeepFirst))

var Discard = flujo.Parallel("discard", Keep,
	flujo.StepS("fieldescapes", FieldEscapes),
	flujo.StepS("reads", Reads),
	flujo.StepS("unnamed", Unnamed),
).With(flujo.Merge(flujo.NoMerge))

// Strict has branches that write disjoint fields, so ErrorOnConflict is
// fine.
var Strict = flujo.Parallel("strict", Keep,
	flujo.StepS("methods", Methods),
	flujo.StepS("pointer", Pointer),
	flujo.StepS("reads", Reads),
).With(flujo.Merge(flujo.ErrorOnConflict))

var registry []*State

// Stores keeps the state pointer in a package variable: everything.
func Stores(ctx context.Context, in In, st *State) (In, error) {
	registry = append(registry, st)
	return in, nil
}

// Ranges writes through the elements of a slice of pointers and a range
// alias of a map.
func Ranges(ctx context.Context, in In, st *State) (In, error) {
	for i := range st.Names {
		st.Names[i] = in.Key
	}
	for k := range st.Index {
		if k == "" {
			clear(st.Meta.Labels)
		}
	}
	return in, nil
}

// Closure writes inside a function literal it calls.
func Closure(ctx context.Context, in In, st *State) (In, error) {
	bump := func() { st.Hits.N++ }
	bump()
	return in, nil
}

// Helper hands the state to another function of the package: everything.
func Helper(ctx context.Context, in In, st *State) (In, error) {
	fill(st)
	return in, nil
}

func fill(st *State) { st.Unused = "x" }

// Copied writes into a slice with copy and through a slice alias.
func Copied(ctx context.Context, in In, st *State) (In, error) {
	names := st.Names[:1]
	names[0] = in.Key
	copy(*st.Log, []string{in.Key})
	return in, nil
}

// Whole assigns the state as a whole.
func Whole(ctx context.Context, in In, st *State) (In, error) {
	*st = State{Count: 1}
	return in, nil
}

func Keep6(a, b, c, d, e, f In) In { return a }

var More = flujo.Parallel("more", Keep6,
	flujo.StepS("stores", Stores),
	flujo.StepS("ranges", Ranges),
	flujo.StepS("closure", Closure),
	flujo.StepS("helper", Helper),
	flujo.StepS("copied", Copied),
	flujo.StepS("whole", Whole),
)
