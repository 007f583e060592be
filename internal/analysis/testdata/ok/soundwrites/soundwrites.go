// Package soundwrites has state steps that write their state in the ways
// an unsound analysis misses: method values, converted, boxed and unsafe
// pointers, re-aimed pointers, sub-slice aliases, and library calls that
// run the user's methods.
package soundwrites

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"unsafe"

	"github.com/flujo/flujo"
)

type Loud struct{ Calls int }

// String counts its calls: fmt runs it.
func (l *Loud) String() string { l.Calls++; return "loud" }

type Doc struct{ Seen *int }

// MarshalJSON writes through its pointer: encoding/json runs it.
func (d Doc) MarshalJSON() ([]byte, error) { *d.Seen++; return []byte(`{}`), nil }

type MyInt int

type State struct {
	Count     int
	Other     int
	Reserved  []string
	Names     []string
	Loud      Loud
	Doc       Doc
	Buf       bytes.Buffer
	Plain     []int
	Untouched string
}

type In struct{ Items []string }

func (st *State) reserve(sku string) { st.Reserved = append(st.Reserved, sku) }

func forEachSKU(items []string, fn func(string)) {
	for _, it := range items {
		fn(it)
	}
}

// MethodValuePassed hands a method value of the state to a helper.
func MethodValuePassed(ctx context.Context, in In, st *State) (In, error) {
	forEachSKU(in.Items, st.reserve)
	return in, nil
}

// MethodValueStored keeps a method value in a local and calls it.
func MethodValueStored(ctx context.Context, in In, st *State) (In, error) {
	f := st.reserve
	f("x")
	return in, nil
}

// MethodValueDeferred defers a method call on the state.
func MethodValueDeferred(ctx context.Context, in In, st *State) (In, error) {
	defer st.reserve("late")
	return in, nil
}

// MethodValueGoroutine runs a method of the state in a goroutine.
func MethodValueGoroutine(ctx context.Context, in In, st *State) (In, error) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); st.reserve("go") }()
	wg.Wait()
	return in, nil
}

// PointerConverted writes through a converted pointer to a field.
func PointerConverted(ctx context.Context, in In, st *State) (In, error) {
	p := (*MyInt)(&st.Count)
	*p = 3
	return in, nil
}

// PointerBoxed writes through a pointer boxed in an interface.
func PointerBoxed(ctx context.Context, in In, st *State) (In, error) {
	var x any = &st.Count
	*x.(*int) = 4
	return in, nil
}

// PointerUnsafe reaches the next field from a pointer to the first.
func PointerUnsafe(ctx context.Context, in In, st *State) (In, error) {
	p := unsafe.Pointer(&st.Count)
	*(*int)(unsafe.Add(p, unsafe.Sizeof(st.Count))) = 5
	return in, nil
}

// PointerReaimed aims one pointer at two fields in turn.
func PointerReaimed(ctx context.Context, in In, st *State) (In, error) {
	p := &st.Count
	if len(in.Items) > 0 {
		p = &st.Other
	}
	*p = 6
	return in, nil
}

// SubSliceAppend appends to a sub-slice, which writes the field's backing
// array.
func SubSliceAppend(ctx context.Context, in In, st *State) (In, error) {
	s := st.Plain[:1]
	s = append(s, 7)
	_ = s
	return in, nil
}

// FmtRunsString formats a field whose String method writes.
func FmtRunsString(ctx context.Context, in In, st *State) (In, error) {
	_ = fmt.Sprint(&st.Loud)
	return in, nil
}

// JSONRunsMarshal encodes a field whose MarshalJSON writes.
func JSONRunsMarshal(ctx context.Context, in In, st *State) (In, error) {
	_, err := json.Marshal(st.Doc)
	return in, err
}

// FprintfWrites prints into a buffer held in the state.
func FprintfWrites(ctx context.Context, in In, st *State) (In, error) {
	fmt.Fprintf(&st.Buf, "%d", len(in.Items))
	return in, nil
}

// ReadsOnly formats and compares plain values: no writes.
func ReadsOnly(ctx context.Context, in In, st *State) (In, error) {
	_ = fmt.Sprint(st.Count, st.Names, st.Untouched)
	if len(st.Names) > st.Count && st.Untouched != "" {
		return in, nil
	}
	return in, nil
}

func Keep(a, b, c, d, e, f, g In) In { return a }

var Methods = flujo.Parallel("methods", Keep,
	flujo.StepS("passed", MethodValuePassed),
	flujo.StepS("stored", MethodValueStored),
	flujo.StepS("deferred", MethodValueDeferred),
	flujo.StepS("goroutine", MethodValueGoroutine),
	flujo.StepS("converted", PointerConverted),
	flujo.StepS("boxed", PointerBoxed),
	flujo.StepS("unsafe", PointerUnsafe),
).With(flujo.Merge(flujo.KeepFirst))

var Aliases = flujo.Parallel("aliases", Keep,
	flujo.StepS("reaimed", PointerReaimed),
	flujo.StepS("subslice", SubSliceAppend),
	flujo.StepS("fmt", FmtRunsString),
	flujo.StepS("json", JSONRunsMarshal),
	flujo.StepS("fprintf", FprintfWrites),
	flujo.StepS("reads", ReadsOnly),
	flujo.StepS("passed", MethodValuePassed),
).With(flujo.Merge(flujo.NoMerge))
