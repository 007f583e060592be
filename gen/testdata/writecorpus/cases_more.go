package writecorpus

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
)

// More ways to reach the state: pointers returned by methods and helpers,
// pointers kept in slices, maps and arrays, element pointers, generic
// callers of method values, library calls that write their arguments.

func MethodReturnsPointer(ctx context.Context, in In, st *State) (In, error) {
	*st.intPtr() = 5
	return in, nil
}

func HelperReturnsTwo(ctx context.Context, in In, st *State) (In, error) {
	_, b := twoPtrs(st)
	*b = 1
	return in, nil
}

func PointerAppended(ctx context.Context, in In, st *State) (In, error) {
	ps := append([]*int{}, &st.Int)
	*ps[0] = 3
	return in, nil
}

func PointerInMap(ctx context.Context, in In, st *State) (In, error) {
	m := map[string]*float64{"f": &st.Float}
	*m["f"] = 4.5
	return in, nil
}

func PointerInArray(ctx context.Context, in In, st *State) (In, error) {
	a := [1]*string{&st.Str}
	*a[0] = "arr"
	return in, nil
}

func ElementPointer(ctx context.Context, in In, st *State) (In, error) {
	p := &st.Slice[0]
	*p = 50
	return in, nil
}

func ArrayElementPointer(ctx context.Context, in In, st *State) (In, error) {
	p := &st.Arr[0]
	*p = 50
	return in, nil
}

func RowPointer(ctx context.Context, in In, st *State) (In, error) {
	row := &st.Matrix[0]
	(*row)[0] = 9
	return in, nil
}

func ArrayPointerRange(ctx context.Context, in In, st *State) (In, error) {
	p := &st.Arr
	for i := range p {
		p[i] = 0
	}
	return in, nil
}

func InnerConverted(ctx context.Context, in In, st *State) (In, error) {
	p := (*innerAlias)(&st.Inner)
	p.N = 3
	return in, nil
}

func PInnerTagsAppend(ctx context.Context, in In, st *State) (In, error) {
	st.PInner.Tags = append(st.PInner.Tags, "x")
	return in, nil
}

func ClosureReassigned(ctx context.Context, in In, st *State) (In, error) {
	var g func()
	f := func() { st.Str = "x" }
	g = f
	g()
	return in, nil
}

func MethodValueBoxed(ctx context.Context, in In, st *State) (In, error) {
	var fn func() = st.Hit
	any(fn).(func())()
	return in, nil
}

func MethodValueGeneric(ctx context.Context, in In, st *State) (In, error) {
	callF(st.PCounter.Inc)
	return in, nil
}

func MethodValueOnValueReceiver(ctx context.Context, in In, st *State) (In, error) {
	f := st.Doc.MarshalJSON
	_, err := f()
	return in, err
}

func ClosureInFuncField(ctx context.Context, in In, st *State) (In, error) {
	st.Fn = func() int { st.Other++; return 0 }
	st.Fn()
	st.Fn = one
	return in, nil
}

func OnceDo(ctx context.Context, in In, st *State) (In, error) {
	var once sync.Once
	once.Do(func() { st.Bool = true })
	return in, nil
}

func SelectSend(ctx context.Context, in In, st *State) (In, error) {
	c := make(chan *int, 1)
	select {
	case c <- &st.Other:
	default:
	}
	*(<-c) = 30
	return in, nil
}

func FmtSscan(ctx context.Context, in In, st *State) (In, error) {
	_, err := fmt.Sscan("5", &st.Int)
	return in, err
}

func FmtWholeState(ctx context.Context, in In, st *State) (In, error) {
	_ = fmt.Sprint(st) // runs PLoud's String
	return in, nil
}

func FmtStateValue(ctx context.Context, in In, st *State) (In, error) {
	_ = fmt.Sprintf("%v", st.PLoud)
	return in, nil
}

func IOCopyTape(ctx context.Context, in In, st *State) (In, error) {
	_, err := io.Copy(&st.Tape, strings.NewReader("copied"))
	return in, err
}

func SortSlice(ctx context.Context, in In, st *State) (In, error) {
	sort.Slice(st.Strs, func(i, j int) bool { return st.Strs[i] > st.Strs[j] })
	return in, nil
}

func SlicesSort(ctx context.Context, in In, st *State) (In, error) {
	st.Slice[0] = 9
	slices.Sort(st.Slice)
	return in, nil
}

func CopyString(ctx context.Context, in In, st *State) (In, error) {
	copy(st.Bytes, "zz")
	return in, nil
}

func InnerAssigned(ctx context.Context, in In, st *State) (In, error) {
	st.Inner = Inner{N: 5}
	return in, nil
}

func WriteThenRestore(ctx context.Context, in In, st *State) (In, error) {
	old := st.Int
	st.Int = 100
	st.Int = old
	return in, nil
}

func ReadFmtInner(ctx context.Context, in In, st *State) (In, error) {
	_ = fmt.Sprint(st.Inner, *st.PInner, st.Matrix, st.Lists)
	return in, nil
}

func ReadSliceAliasNoWrite(ctx context.Context, in In, st *State) (In, error) {
	s := st.Slice[1:]
	for _, v := range s {
		in.N += v
	}
	return in, nil
}

func ReadPointerDeref(ctx context.Context, in In, st *State) (In, error) {
	p := &st.Int
	in.N = *p + st.PInner.N + st.PCounter.Get()
	return in, nil
}

func ReadClosure(ctx context.Context, in In, st *State) (In, error) {
	get := func() int { return st.Int + len(st.Map) }
	in.N = get()
	return in, nil
}
