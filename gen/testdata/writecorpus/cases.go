package writecorpus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// Method values: passed, stored, deferred, run in goroutines, kept in
// composite values, returned; method expressions.

func MethodValuePassed(ctx context.Context, in In, st *State) (In, error) {
	each([]int{1, 2}, st.Counter.Add)
	return in, nil
}

func MethodValueStored(ctx context.Context, in In, st *State) (In, error) {
	f := st.PCounter.Inc
	f()
	return in, nil
}

func MethodValueDeferred(ctx context.Context, in In, st *State) (In, error) {
	defer st.addStr("late")
	return in, nil
}

func MethodValueGoroutine(ctx context.Context, in In, st *State) (In, error) {
	var wg sync.WaitGroup
	wg.Add(1)
	go st.hitDone(&wg)
	wg.Wait()
	return in, nil
}

func MethodValueInStruct(ctx context.Context, in In, st *State) (In, error) {
	h := holder{f: st.Counter.Inc}
	h.f()
	return in, nil
}

func MethodValueInMap(ctx context.Context, in In, st *State) (In, error) {
	m := map[string]func(){"hit": st.Hit}
	m["hit"]()
	return in, nil
}

func MethodValueReturned(ctx context.Context, in In, st *State) (In, error) {
	incMethod(st)()
	return in, nil
}

func MethodValueCall(ctx context.Context, in In, st *State) (In, error) {
	call(st.PCounter.Inc)
	return in, nil
}

func MethodExpression(ctx context.Context, in In, st *State) (In, error) {
	(*Counter).Inc(&st.Counter)
	return in, nil
}

func MethodOnState(ctx context.Context, in In, st *State) (In, error) {
	st.setLabel("m")
	return in, nil
}

func MethodPromoted(ctx context.Context, in In, st *State) (In, error) {
	st.Hit()
	return in, nil
}

func FieldPromoted(ctx context.Context, in In, st *State) (In, error) {
	st.Hits += 2
	return in, nil
}

// Pointers to fields: converted, boxed, unsafe, re-aimed, returned,
// double pointers, sent on channels.

func PointerConverted(ctx context.Context, in In, st *State) (In, error) {
	p := (*MyInt)(&st.Int)
	*p = 3
	return in, nil
}

func PointerBoxed(ctx context.Context, in In, st *State) (In, error) {
	var x any = &st.Int
	*x.(*int) = 4
	return in, nil
}

func PointerUnsafe(ctx context.Context, in In, st *State) (In, error) {
	p := unsafe.Pointer(&st.Int)
	*(*int)(unsafe.Add(p, unsafe.Sizeof(st.Int))) = 5 // Other
	return in, nil
}

func PointerUnsafeArray(ctx context.Context, in In, st *State) (In, error) {
	p := unsafe.Pointer(&st.Arr[0])
	*(*int)(unsafe.Add(p, 2*unsafe.Sizeof(st.Arr[0]))) = 9
	return in, nil
}

func PointerReaimed(ctx context.Context, in In, st *State) (In, error) {
	p := &st.Int
	if in.N > 0 {
		p = &st.Other
	}
	*p = 6
	return in, nil
}

func PointerReaimedLoop(ctx context.Context, in In, st *State) (In, error) {
	for _, p := range []*int{&st.Int, &st.Other} {
		*p += 10
	}
	return in, nil
}

func PointerDouble(ctx context.Context, in In, st *State) (In, error) {
	p := &st.Int
	pp := &p
	*pp = &st.Other
	**pp = 7
	return in, nil
}

func PointerReturned(ctx context.Context, in In, st *State) (In, error) {
	p := otherPtr(st)
	*p = 8
	return in, nil
}

func PointerSentOnChannel(ctx context.Context, in In, st *State) (In, error) {
	c := make(chan *int, 1)
	c <- &st.Int
	*(<-c) = 9
	return in, nil
}

func PointerMultiAssign(ctx context.Context, in In, st *State) (In, error) {
	a, b := &st.Float, &st.Other
	*a, *b = 2.5, 3
	return in, nil
}

func PointerToArray(ctx context.Context, in In, st *State) (In, error) {
	a := &st.Arr
	a[2] = 7
	return in, nil
}

func PointerFieldTarget(ctx context.Context, in In, st *State) (In, error) {
	p := st.Ptr
	*p = 70
	return in, nil
}

func StateInAny(ctx context.Context, in In, st *State) (In, error) {
	var x any = st
	x.(*State).Int = 11
	return in, nil
}

func StateConverted(ctx context.Context, in In, st *State) (In, error) {
	(*aliasState)(st).Str = "alias"
	return in, nil
}

func StateInSlice(ctx context.Context, in In, st *State) (In, error) {
	ss := []*State{st}
	ss[0].Bool = true
	return in, nil
}

func StateInStruct(ctx context.Context, in In, st *State) (In, error) {
	b := stateBox{s: st}
	b.s.Other = 12
	return in, nil
}

func StateShallowCopy(ctx context.Context, in In, st *State) (In, error) {
	c := *st
	c.PInner.N = 9 // the copy shares PInner
	c.Int = 99     // a local write
	return in, nil
}

func InnerCopySharesMap(ctx context.Context, in In, st *State) (In, error) {
	x := st.Inner
	x.M["k"] = 1
	return in, nil
}

func WholeStateAssigned(ctx context.Context, in In, st *State) (In, error) {
	n := NewState()
	n.Untouched = "whole"
	*st = *n
	return in, nil
}

// Slices and their aliases.

func SubSliceAppend(ctx context.Context, in In, st *State) (In, error) {
	s := st.Slice[:1]
	s = append(s, 7)
	_ = s
	return in, nil
}

func SubSliceAppendMiddle(ctx context.Context, in In, st *State) (In, error) {
	_ = append(st.Slice[1:2], 9)
	return in, nil
}

func SubSliceElem(ctx context.Context, in In, st *State) (In, error) {
	s := st.Slice[1:]
	s[0] = 20
	return in, nil
}

func ListsAppendAlias(ctx context.Context, in In, st *State) (In, error) {
	l := st.Lists["a"][:1]
	_ = append(l, 9)
	return in, nil
}

func ListsAppendStore(ctx context.Context, in In, st *State) (In, error) {
	st.Lists["a"] = append(st.Lists["a"], 3)
	return in, nil
}

func BytesElem(ctx context.Context, in In, st *State) (In, error) {
	st.Bytes[0] = 'z'
	return in, nil
}

func BytesAppendAlias(ctx context.Context, in In, st *State) (In, error) {
	b := st.Bytes
	_ = append(b[:1], 'q')
	return in, nil
}

func FirstOfGeneric(ctx context.Context, in In, st *State) (In, error) {
	*firstOf(st.Strs) = "first"
	return in, nil
}

// Builtins and library functions that write.

func CopyInto(ctx context.Context, in In, st *State) (In, error) {
	copy(st.Slice, []int{9})
	return in, nil
}

func CopyIntoSub(ctx context.Context, in In, st *State) (In, error) {
	copy(st.Slice[2:], []int{7})
	return in, nil
}

func CopyFromIsRead(ctx context.Context, in In, st *State) (In, error) {
	dst := make([]int, 2)
	copy(dst, st.Slice)
	st.Other = dst[0]
	return in, nil
}

func DeleteKey(ctx context.Context, in In, st *State) (In, error) {
	delete(st.Map, "a")
	return in, nil
}

func ClearMap(ctx context.Context, in In, st *State) (In, error) {
	clear(st.Inner.M)
	return in, nil
}

func ClearSlice(ctx context.Context, in In, st *State) (In, error) {
	clear(st.Strs)
	return in, nil
}

func SortInPlace(ctx context.Context, in In, st *State) (In, error) {
	sort.Sort(sort.Reverse(sort.IntSlice(st.Slice)))
	return in, nil
}

func SlicesReverse(ctx context.Context, in In, st *State) (In, error) {
	slices.Reverse(st.Strs)
	return in, nil
}

func MapsCopy(ctx context.Context, in In, st *State) (In, error) {
	maps.Copy(st.Map, map[string]int{"z": 26})
	return in, nil
}

// fmt and encoding/json running user methods or writing a destination.

func FmtRunsString(ctx context.Context, in In, st *State) (In, error) {
	_ = fmt.Sprint(&st.Loud)
	return in, nil
}

func FmtRunsStringPtrField(ctx context.Context, in In, st *State) (In, error) {
	_ = fmt.Sprintf("%v", st.PLoud)
	return in, nil
}

func FmtErrorfRunsString(ctx context.Context, in In, st *State) (In, error) {
	_ = fmt.Errorf("%s", st.PLoud)
	return in, nil
}

func FprintfTape(ctx context.Context, in In, st *State) (In, error) {
	fmt.Fprintf(&st.Tape, "%d", in.N)
	return in, nil
}

func FprintTapePtr(ctx context.Context, in In, st *State) (In, error) {
	t := &st.Tape
	fmt.Fprint(t, "x")
	return in, nil
}

func JSONRunsMarshal(ctx context.Context, in In, st *State) (In, error) {
	_, err := json.Marshal(st.Doc)
	return in, err
}

func JSONMarshalWholeState(ctx context.Context, in In, st *State) (In, error) {
	_, _ = json.Marshal(st) // fails on Fn, after Doc's MarshalJSON ran
	return in, nil
}

func JSONEncoderTape(ctx context.Context, in In, st *State) (In, error) {
	err := json.NewEncoder(&st.Tape).Encode(in.N)
	return in, err
}

func JSONUnmarshalField(ctx context.Context, in In, st *State) (In, error) {
	err := json.Unmarshal([]byte(`{"V":3}`), &st.Target)
	return in, err
}

func JSONUnmarshalMap(ctx context.Context, in In, st *State) (In, error) {
	err := json.Unmarshal([]byte(`{"z":3}`), &st.Map)
	return in, err
}

func JSONUnmarshalState(ctx context.Context, in In, st *State) (In, error) {
	err := json.Unmarshal([]byte(`{"Str":"json","Other":4}`), st)
	return in, err
}

// Reflection.

func ReflectFieldByName(ctx context.Context, in In, st *State) (In, error) {
	reflect.ValueOf(st).Elem().FieldByName("Str").SetString("r")
	return in, nil
}

func ReflectFieldIndex(ctx context.Context, in In, st *State) (In, error) {
	reflect.ValueOf(st).Elem().Field(1).SetInt(9)
	return in, nil
}

func ReflectOnField(ctx context.Context, in In, st *State) (In, error) {
	reflect.ValueOf(st.Map).SetMapIndex(reflect.ValueOf("r"), reflect.ValueOf(1))
	return in, nil
}

// Interfaces and type switches.

func InterfaceCall(ctx context.Context, in In, st *State) (In, error) {
	var i Incer = st.PCounter
	i.Inc()
	return in, nil
}

func InterfaceOfField(ctx context.Context, in In, st *State) (In, error) {
	var i Incer = &st.Counter
	i.Inc()
	return in, nil
}

func TypeSwitchAny(ctx context.Context, in In, st *State) (In, error) {
	var x any = st.PCounter
	switch v := x.(type) {
	case *Counter:
		v.N++
	}
	return in, nil
}

func TypeAssertAny(ctx context.Context, in In, st *State) (In, error) {
	var x any = &st.Counter
	x.(*Counter).Inc()
	return in, nil
}

func TypeSwitchState(ctx context.Context, in In, st *State) (In, error) {
	var x any = st
	switch v := x.(type) {
	case *State:
		v.Untouched = "switched"
	}
	return in, nil
}

func PCounterReplaced(ctx context.Context, in In, st *State) (In, error) {
	st.PCounter = &Counter{N: 1}
	return in, nil
}

// Closures.

func ClosureCaptures(ctx context.Context, in In, st *State) (In, error) {
	inc := func() { st.Int++ }
	inc()
	return in, nil
}

func ClosureReturned(ctx context.Context, in In, st *State) (In, error) {
	makeInc(st)()
	return in, nil
}

func ClosureFieldPointer(ctx context.Context, in In, st *State) (In, error) {
	p := &st.Float
	f := func() { *p = 2.5 }
	f()
	return in, nil
}

func ClosureImmediate(ctx context.Context, in In, st *State) (In, error) {
	func(s *State) { s.Untouched = "iife" }(st)
	return in, nil
}

// Helpers.

func HelperWhole(ctx context.Context, in In, st *State) (In, error) {
	mutate(st)
	return in, nil
}

func HelperRecursive(ctx context.Context, in In, st *State) (In, error) {
	mutateDeep(st, 3)
	return in, nil
}

func GenericSetPtr(ctx context.Context, in In, st *State) (In, error) {
	setPtr(&st.Str, "g")
	return in, nil
}

func GenericAppend(ctx context.Context, in In, st *State) (In, error) {
	appendTo(&st.Strs, "g")
	return in, nil
}

// Ranges.

func RangeRowAlias(ctx context.Context, in In, st *State) (In, error) {
	for _, row := range st.Matrix {
		row[0]++
	}
	return in, nil
}

func RangeIndexAlias(ctx context.Context, in In, st *State) (In, error) {
	for i := range st.Matrix {
		r := st.Matrix[i]
		r[1] = 0
	}
	return in, nil
}

func RangeMapOfSlices(ctx context.Context, in In, st *State) (In, error) {
	for _, l := range st.Lists {
		l[0] = 5
	}
	return in, nil
}

func RangePointers(ctx context.Context, in In, st *State) (In, error) {
	for _, p := range []*Inner{st.PInner, &st.Inner} {
		p.N++
	}
	return in, nil
}

// Package variables.

func StoreFieldPtrInGlobal(ctx context.Context, in In, st *State) (In, error) {
	Global = &st.Int
	*Global = 8
	Global = nil
	return in, nil
}

func StoreStateInGlobal(ctx context.Context, in In, st *State) (In, error) {
	GlobalState = st
	GlobalState.Str = "global"
	GlobalState = nil
	return in, nil
}

// Goroutines and channels.

func GoroutineWrites(ctx context.Context, in In, st *State) (In, error) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		st.Str = "go"
	}()
	wg.Wait()
	return in, nil
}

func GoroutineChannel(ctx context.Context, in In, st *State) (In, error) {
	done := make(chan struct{})
	go func(m map[string]int) {
		m["go"] = 1
		close(done)
	}(st.Map)
	<-done
	return in, nil
}

func ChannelSend(ctx context.Context, in In, st *State) (In, error) {
	st.Ch <- 1
	return in, nil
}

func DeferClosure(ctx context.Context, in In, st *State) (In, error) {
	defer func() { st.Bool = true }()
	return in, nil
}

// Func fields.

func FuncFieldReplaced(ctx context.Context, in In, st *State) (In, error) {
	st.Fn = two
	return in, nil
}

func FuncFieldCalled(ctx context.Context, in In, st *State) (In, error) {
	st.Other = st.Fn()
	return in, nil
}

// Values that compare unequal to themselves.

func FloatNaN(ctx context.Context, in In, st *State) (In, error) {
	st.Float = math.NaN()
	return in, nil
}

// Plain assignments.

func SwapFields(ctx context.Context, in In, st *State) (In, error) {
	st.Int, st.Other = st.Other, st.Int
	return in, nil
}

func OpAssignString(ctx context.Context, in In, st *State) (In, error) {
	st.Str += "x"
	return in, nil
}

func InnerMapAlias(ctx context.Context, in In, st *State) (In, error) {
	m := st.Inner.M
	m["x"] = 1
	return in, nil
}

func PInnerReplaced(ctx context.Context, in In, st *State) (In, error) {
	st.PInner = &Inner{N: 42}
	return in, nil
}

// Failed attempts: their writes are discarded by both engines.

func FailAfterAssign(ctx context.Context, in In, st *State) (In, error) {
	st.Int = 99
	return in, errors.New("fail after assign")
}

func FailAfterInPlaceWrite(ctx context.Context, in In, st *State) (In, error) {
	st.Slice[0] = 42
	st.PInner.N = 42
	return in, errors.New("fail after in-place write")
}

func PanicAfterWrite(ctx context.Context, in In, st *State) (In, error) {
	st.Map["panic"] = 1
	panic("after a write")
}

// Reads: their static write set must be empty.

func ReadFmtPlain(ctx context.Context, in In, st *State) (In, error) {
	_ = fmt.Sprint(st.Int, st.Str, st.Strs, st.Map, st.Arr)
	return in, nil
}

func ReadLenCompare(ctx context.Context, in In, st *State) (In, error) {
	if len(st.Slice) > st.Int && st.Str != "" && st.Ptr != nil && *st.Ptr > 0 {
		in.N++
	}
	return in, nil
}

func ReadRangeSum(ctx context.Context, in In, st *State) (In, error) {
	for _, v := range st.Slice {
		in.N += v
	}
	for k, v := range st.Map {
		in.N += len(k) * v
	}
	return in, nil
}

func ReadValueMethod(ctx context.Context, in In, st *State) (In, error) {
	in.N = st.Counter.Get() + st.total()
	return in, nil
}

func ReadLocalCopies(ctx context.Context, in In, st *State) (In, error) {
	a := st.Arr
	a[0] = 9
	n := st.Int
	n++
	c := st.Counter
	c.Inc()
	in.N = a[0] + n + c.N
	return in, nil
}

func ReadJSONPlain(ctx context.Context, in In, st *State) (In, error) {
	b, err := json.Marshal(st.Strs)
	in.N = len(b)
	return in, err
}

func ReadStringsSlices(ctx context.Context, in In, st *State) (In, error) {
	if strings.Contains(strings.Join(st.Strs, ","), "a") && slices.Contains(st.Slice, 2) {
		in.N++
	}
	return in, nil
}

func ReadHelper(ctx context.Context, in In, st *State) (In, error) {
	in.N = readInt(st)
	return in, nil
}

func ReadSwitch(ctx context.Context, in In, st *State) (In, error) {
	switch st.Str {
	case "s":
		in.N = 1
	default:
		in.N = 2
	}
	return in, nil
}

func ReadMapLookup(ctx context.Context, in In, st *State) (In, error) {
	if v, ok := st.Map["a"]; ok {
		in.N = v + st.Inner.M["a"] + st.Matrix[0][1]
	}
	return in, nil
}

func ReadDeepEqual(ctx context.Context, in In, st *State) (In, error) {
	if reflect.DeepEqual(st.Strs, []string{"a", "b"}) {
		in.N = 1
	}
	return in, nil
}

func ReadUnnamed(ctx context.Context, in In, _ *State) (In, error) {
	return in, nil
}
