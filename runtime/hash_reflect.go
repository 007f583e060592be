package runtime

import (
	"errors"
	"fmt"
	"hash/maphash"
	"reflect"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// ReflectHasher hashes values of any type by reflection, for the dynamic
// ExecutorCore. It follows the canonical order documented in hash.go, so for
// one seed it returns what a generated inline hasher returns for an equal
// value. It compiles a plan once per reflect.Type and caches it; fields are
// read through their offsets, unexported ones included. It is safe for
// concurrent use; make one with NewReflectHasher or NewStableReflectHasher.
type ReflectHasher struct {
	seed   Hash
	stable StableHash
	isStab bool

	plans atomic.Pointer[map[reflect.Type]*hashPlan] // copy on write
	mu    sync.Mutex                                 // serialises compilation
}

// UnhashableError reports a value that the reflective hasher cannot hash: a
// func, chan or unsafe.Pointer reachable from its type or held by an
// interface, a reference cycle, or a Hash64 method that panicked.
type UnhashableError struct {
	Type   string // the type given to Hash
	Path   string // where in it, e.g. ".Handlers[2].Fn"; empty for the root
	Reason string
	// Panic is the panic of a Hash64 method, with its stack; nil for a
	// value that cannot be hashed.
	Panic *PanicError
}

// Unwrap returns the panic of a Hash64 method, or nil.
func (e *UnhashableError) Unwrap() error {
	if e.Panic == nil {
		return nil
	}
	return e.Panic
}

// Error implements error.
func (e *UnhashableError) Error() string {
	return "runtime: cannot hash " + e.Type + e.Path + ": " + e.Reason
}

// NewReflectHasher returns a reflective hasher that agrees with the inline
// hashers started from seed. The seed must come from NewHash.
func NewReflectHasher(seed Hash) (*ReflectHasher, error) {
	if seed.seed == (maphash.Seed{}) {
		return nil, errors.New("runtime: NewReflectHasher: seed is the zero Hash; want one from NewHash")
	}
	r := &ReflectHasher{seed: seed}
	r.init()
	return r, nil
}

// NewStableReflectHasher returns a reflective hasher that agrees with the
// inline hashers started from seed, in every process.
func NewStableReflectHasher(seed StableHash) *ReflectHasher {
	r := &ReflectHasher{stable: seed, isStab: true}
	r.init()
	return r
}

func (r *ReflectHasher) init() {
	m := map[reflect.Type]*hashPlan{}
	r.plans.Store(&m)
}

// Hash returns the hash of v, as the inline hasher of v's dynamic type would.
// A nil v hashes as h.AddNil().
func (r *ReflectHasher) Hash(v any) (sum uint64, err error) {
	a := hashAcc{h: r.seed, s: r.stable, stable: r.isStab}
	if v == nil {
		a.addNil()
		return a.sum(), nil
	}
	t := reflect.TypeOf(v)
	pl := r.plan(t)
	if pl.err != nil {
		return 0, hashRootErr(t, pl.err)
	}
	defer func() {
		if p := recover(); p != nil {
			sum, err = 0, &UnhashableError{Type: t.String(), Reason: fmt.Sprintf("panic while hashing: %v", p), Panic: &PanicError{Value: p, Stack: debug.Stack()}}
		}
	}()
	var st hashWalk
	if pl.direct {
		err = r.hashDirect(&a, &st, pl, v)
	} else {
		err = r.exec(&a, &st, pl, (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1])
	}
	if err != nil {
		return 0, hashRootErr(t, err)
	}
	return a.sum(), nil
}

// hashDirect hashes a root whose value an interface holds in its data word
// rather than behind it (pointers, maps and one-pointer structs and arrays).
func (r *ReflectHasher) hashDirect(a *hashAcc, st *hashWalk, pl *hashPlan, v any) error {
	if len(pl.ops) == 0 {
		return nil
	}
	op := &pl.ops[0]
	switch op.code {
	case hopHashable:
		a.addUint(v.(Hashable).Hash64())
		return nil
	case hopHashablePtr:
		if reflect.ValueOf(v).IsNil() {
			a.addNil()
			return nil
		}
		a.addUint(v.(Hashable).Hash64())
		return nil
	case hopPtr:
		if reflect.TypeOf(v).Kind() == reflect.Pointer {
			return r.execPtr(a, st, op, reflect.ValueOf(v).UnsafePointer())
		}
	case hopMap:
		if reflect.TypeOf(v).Kind() == reflect.Map {
			return r.execMap(a, st, op, reflect.ValueOf(v))
		}
	}
	// A struct or array wrapping one pointer: give the word an address.
	w := new(unsafe.Pointer)
	*w = (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1]
	return r.exec(a, st, pl, unsafe.Pointer(w))
}

// HashTypeIdentity returns the identity string that the canonical order adds
// for the dynamic type of a non-nil interface: the package path and name of
// a named type, and for unnamed pointers, slices, arrays and maps the same
// built from their parts (the form of go/types.TypeString qualified by
// package path). Other unnamed types use reflect.Type.String.
func HashTypeIdentity(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return t.Name()
		}
		return t.PkgPath() + "." + t.Name()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + HashTypeIdentity(t.Elem())
	case reflect.Slice:
		return "[]" + HashTypeIdentity(t.Elem())
	case reflect.Array:
		return "[" + strconv.Itoa(t.Len()) + "]" + HashTypeIdentity(t.Elem())
	case reflect.Map:
		return "map[" + HashTypeIdentity(t.Key()) + "]" + HashTypeIdentity(t.Elem())
	}
	return t.String()
}

// hashAcc is the running hash of either variant. Each operation calls the
// exported method of the variant, so the reflective and the inline hashers
// share one implementation of every primitive.
type hashAcc struct {
	h      Hash
	s      StableHash
	stable bool
}

func (a *hashAcc) addBool(v bool) {
	if a.stable {
		a.s = a.s.AddBool(v)
	} else {
		a.h = a.h.AddBool(v)
	}
}

func (a *hashAcc) addInt(v int64) {
	if a.stable {
		a.s = a.s.AddInt(v)
	} else {
		a.h = a.h.AddInt(v)
	}
}

func (a *hashAcc) addUint(v uint64) {
	if a.stable {
		a.s = a.s.AddUint(v)
	} else {
		a.h = a.h.AddUint(v)
	}
}

func (a *hashAcc) addFloat(v float64) {
	if a.stable {
		a.s = a.s.AddFloat(v)
	} else {
		a.h = a.h.AddFloat(v)
	}
}

func (a *hashAcc) addComplex(v complex128) {
	if a.stable {
		a.s = a.s.AddComplex(v)
	} else {
		a.h = a.h.AddComplex(v)
	}
}

func (a *hashAcc) addString(v string) {
	if a.stable {
		a.s = a.s.AddString(v)
	} else {
		a.h = a.h.AddString(v)
	}
}

func (a *hashAcc) addBytes(v []byte) {
	if a.stable {
		a.s = a.s.AddBytes(v)
	} else {
		a.h = a.h.AddBytes(v)
	}
}

func (a *hashAcc) addTime(v time.Time) {
	if a.stable {
		a.s = a.s.AddTime(v)
	} else {
		a.h = a.h.AddTime(v)
	}
}

func (a *hashAcc) addLen(n int) {
	if a.stable {
		a.s = a.s.AddLen(n)
	} else {
		a.h = a.h.AddLen(n)
	}
}

func (a *hashAcc) addNil() {
	if a.stable {
		a.s = a.s.AddNil()
	} else {
		a.h = a.h.AddNil()
	}
}

func (a *hashAcc) addNotNil() {
	if a.stable {
		a.s = a.s.AddNotNil()
	} else {
		a.h = a.h.AddNotNil()
	}
}

func (a *hashAcc) entry() hashAcc {
	if a.stable {
		return hashAcc{s: a.s.Entry(), stable: true}
	}
	return hashAcc{h: a.h.Entry()}
}

func (a *hashAcc) sum() uint64 {
	if a.stable {
		return a.s.Sum64()
	}
	return a.h.Sum64()
}

// hashOpCode says how one op reads and hashes the memory at its offset.
type hashOpCode uint8

const (
	hopBool hashOpCode = iota
	hopInt8
	hopInt16
	hopInt32
	hopInt64
	hopUint8
	hopUint16
	hopUint32
	hopUint64
	hopFloat32
	hopFloat64
	hopComplex64
	hopComplex128
	hopString
	hopTime
	hopHashable    // a non-pointer type with Hash64
	hopHashablePtr // a pointer type with Hash64
	hopByteArray   // [n]uint8-kind
	hopByteSlice   // []uint8-kind
	hopArray       // n elements of elem
	hopSlice       // elements of elem
	hopMap
	hopPtr
	hopIface
)

// hashOp hashes one value at base+off. Struct fields and short arrays are
// flattened into their parent's op list, so a plan for a struct of scalars is
// one linear pass.
type hashOp struct {
	code hashOpCode
	off  uintptr
	n    int          // array length
	size uintptr      // element size for arrays and slices
	elem *hashPlan    // element, pointee or map value
	key  *hashPlan    // map key
	typ  reflect.Type // for maps, interfaces and Hashable
	path string       // field path from the plan's type, for errors
}

// hashPlan is the compiled hashing of one type.
type hashPlan struct {
	typ    reflect.Type
	ops    []hashOp
	direct bool   // an interface stores the value in its data word
	id     string // HashTypeIdentity(typ)
	err    *UnhashableError
}

// hashWalk tracks reference depth, and past hashCycleDepth the references on
// the current path, to detect cycles without cost for ordinary values. On an
// error the walk is abandoned, so enter and leave need not pair up then.
type hashWalk struct {
	depth int
	seen  map[hashRef]struct{}
}

type hashRef struct {
	p unsafe.Pointer
	n int
	t reflect.Type
}

const hashCycleDepth = 64

// enter records a reference on the path; it reports false on a cycle.
func (st *hashWalk) enter(ref hashRef) bool {
	st.depth++
	if st.depth <= hashCycleDepth {
		return true
	}
	if st.seen == nil {
		st.seen = map[hashRef]struct{}{}
	}
	if _, ok := st.seen[ref]; ok {
		return false
	}
	st.seen[ref] = struct{}{}
	return true
}

func (st *hashWalk) leave(ref hashRef) {
	if st.depth > hashCycleDepth {
		delete(st.seen, ref)
	}
	st.depth--
}

var (
	hashableType = reflect.TypeFor[Hashable]()
	timeType     = reflect.TypeFor[time.Time]()
)

// plan returns the cached plan for t, compiling it on first use.
func (r *ReflectHasher) plan(t reflect.Type) *hashPlan {
	if pl, ok := (*r.plans.Load())[t]; ok {
		return pl
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.plans.Load()
	if pl, ok := old[t]; ok {
		return pl
	}
	c := hashCompiler{known: old, built: map[reflect.Type]*hashPlan{}}
	pl := c.planFor(t, "")
	next := make(map[reflect.Type]*hashPlan, len(old)+len(c.built))
	for k, v := range old {
		next[k] = v
	}
	if c.err != nil {
		// Keep only the failed root: the other plans may point at it.
		pl = &hashPlan{typ: t, err: c.err}
		next[t] = pl
	} else {
		for k, v := range c.built {
			next[k] = v
		}
	}
	r.plans.Store(&next)
	return pl
}

// hashCompiler builds the plans for one root type and everything it reaches.
type hashCompiler struct {
	known map[reflect.Type]*hashPlan
	built map[reflect.Type]*hashPlan
	err   *UnhashableError
	at    string // path from the root to the plan being compiled
}

// planFor returns the plan for t, found at path at from the root.
func (c *hashCompiler) planFor(t reflect.Type, at string) *hashPlan {
	if pl, ok := c.known[t]; ok && pl.err == nil {
		return pl
	}
	if pl, ok := c.built[t]; ok {
		return pl // possibly still being built: recursive types
	}
	pl := &hashPlan{typ: t, id: HashTypeIdentity(t), direct: hashIsDirect(t)}
	c.built[t] = pl
	saved := c.at
	c.at = at
	pl.ops = c.appendOps(nil, t, 0, "")
	c.at = saved
	return pl
}

func (c *hashCompiler) fail(path, reason string) {
	if c.err == nil {
		c.err = &UnhashableError{Path: c.at + path, Reason: reason}
	}
}

// hashFlattenMax bounds the ops an array may be unrolled into.
const hashFlattenMax = 16

func (c *hashCompiler) appendOps(ops []hashOp, t reflect.Type, off uintptr, path string) []hashOp {
	if c.err != nil {
		return ops
	}
	k := t.Kind()
	if k != reflect.Interface && t.Implements(hashableType) {
		code := hopHashable
		if k == reflect.Pointer {
			code = hopHashablePtr
		}
		return append(ops, hashOp{code: code, off: off, typ: t, path: path})
	}
	if t == timeType {
		return append(ops, hashOp{code: hopTime, off: off, path: path})
	}
	op := hashOp{off: off, path: path}
	switch k {
	case reflect.Bool:
		op.code = hopBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		op.code = [...]hashOpCode{1: hopInt8, 2: hopInt16, 4: hopInt32, 8: hopInt64}[t.Size()]
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		op.code = [...]hashOpCode{1: hopUint8, 2: hopUint16, 4: hopUint32, 8: hopUint64}[t.Size()]
	case reflect.Float32:
		op.code = hopFloat32
	case reflect.Float64:
		op.code = hopFloat64
	case reflect.Complex64:
		op.code = hopComplex64
	case reflect.Complex128:
		op.code = hopComplex128
	case reflect.String:
		op.code = hopString
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Name == "_" {
				continue
			}
			ops = c.appendOps(ops, f.Type, off+f.Offset, path+"."+f.Name)
		}
		return ops
	case reflect.Array:
		et := t.Elem()
		if et.Kind() == reflect.Uint8 && !et.Implements(hashableType) {
			op.code, op.n = hopByteArray, t.Len()
			break
		}
		elem := c.appendOps(nil, et, 0, "[]")
		if t.Len()*len(elem) <= hashFlattenMax {
			for i := range t.Len() {
				ops = c.appendOps(ops, et, off+uintptr(i)*et.Size(), path+"["+strconv.Itoa(i)+"]")
			}
			return ops
		}
		op.code, op.n, op.size, op.elem = hopArray, t.Len(), et.Size(), c.planFor(et, c.at+path+"[]")
	case reflect.Slice:
		et := t.Elem()
		if et.Kind() == reflect.Uint8 && !et.Implements(hashableType) {
			op.code = hopByteSlice
			break
		}
		op.code, op.size, op.typ = hopSlice, et.Size(), t
		op.elem = c.planFor(et, c.at+path+"[]")
	case reflect.Map:
		op.code, op.typ = hopMap, t
		op.key = c.planFor(t.Key(), c.at+path+"[key]")
		op.elem = c.planFor(t.Elem(), c.at+path+"[]")
	case reflect.Pointer:
		op.code, op.typ = hopPtr, t.Elem()
		op.elem = c.planFor(t.Elem(), c.at+path)
	case reflect.Interface:
		op.code, op.typ = hopIface, t
	default: // Func, Chan, UnsafePointer
		c.fail(path, "a "+k.String()+" cannot be hashed")
		return ops
	}
	return append(ops, op)
}

// hashIsDirect reports whether an interface holding a t stores the value
// itself in its data word. Only one-word types can; for structs and arrays
// the compiler's rule is observed rather than restated.
func hashIsDirect(t reflect.Type) bool {
	if t.Size() != unsafe.Sizeof(uintptr(0)) {
		return false
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Struct, reflect.Array:
		var sentinel byte
		pv := reflect.New(t)
		*(*unsafe.Pointer)(pv.UnsafePointer()) = unsafe.Pointer(&sentinel)
		e := pv.Elem().Interface()
		return (*[2]unsafe.Pointer)(unsafe.Pointer(&e))[1] == unsafe.Pointer(&sentinel)
	}
	return false
}

// exec runs pl's ops over the value at p.
func (r *ReflectHasher) exec(a *hashAcc, st *hashWalk, pl *hashPlan, p unsafe.Pointer) error {
	if pl.err != nil {
		return pl.err
	}
	for i := range pl.ops {
		op := &pl.ops[i]
		q := unsafe.Add(p, op.off)
		switch op.code {
		case hopBool:
			a.addBool(*(*bool)(q))
		case hopInt8:
			a.addInt(int64(*(*int8)(q)))
		case hopInt16:
			a.addInt(int64(*(*int16)(q)))
		case hopInt32:
			a.addInt(int64(*(*int32)(q)))
		case hopInt64:
			a.addInt(*(*int64)(q))
		case hopUint8:
			a.addUint(uint64(*(*uint8)(q)))
		case hopUint16:
			a.addUint(uint64(*(*uint16)(q)))
		case hopUint32:
			a.addUint(uint64(*(*uint32)(q)))
		case hopUint64:
			a.addUint(*(*uint64)(q))
		case hopFloat32:
			a.addFloat(float64(*(*float32)(q)))
		case hopFloat64:
			a.addFloat(*(*float64)(q))
		case hopComplex64:
			a.addComplex(complex128(*(*complex64)(q)))
		case hopComplex128:
			a.addComplex(*(*complex128)(q))
		case hopString:
			a.addString(*(*string)(q))
		case hopTime:
			a.addTime(*(*time.Time)(q))
		case hopHashable:
			a.addUint(reflect.NewAt(op.typ, q).Interface().(Hashable).Hash64())
		case hopHashablePtr:
			w := *(*unsafe.Pointer)(q)
			if w == nil {
				a.addNil()
				continue
			}
			a.addUint(reflect.NewAt(op.typ.Elem(), w).Interface().(Hashable).Hash64())
		case hopByteArray:
			a.addBytes(unsafe.Slice((*byte)(q), op.n))
		case hopByteSlice:
			b := *(*[]byte)(q)
			if b == nil {
				a.addNil()
				continue
			}
			a.addBytes(b)
		case hopArray:
			for j := range op.n {
				if err := r.exec(a, st, op.elem, unsafe.Add(q, uintptr(j)*op.size)); err != nil {
					return hashWrapErr(err, op.path+"["+strconv.Itoa(j)+"]")
				}
			}
		case hopSlice:
			if err := r.execSlice(a, st, op, q); err != nil {
				return err
			}
		case hopMap:
			if err := r.execMap(a, st, op, reflect.NewAt(op.typ, q).Elem()); err != nil {
				return err
			}
		case hopPtr:
			if err := r.execPtr(a, st, op, *(*unsafe.Pointer)(q)); err != nil {
				return err
			}
		case hopIface:
			if err := r.execIface(a, st, op, q); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *ReflectHasher) execSlice(a *hashAcc, st *hashWalk, op *hashOp, q unsafe.Pointer) error {
	data := *(*unsafe.Pointer)(q)
	if data == nil {
		a.addNil()
		return nil
	}
	n := *(*int)(unsafe.Add(q, unsafe.Sizeof(uintptr(0))))
	a.addLen(n)
	ref := hashRef{p: data, n: n, t: op.typ}
	if !st.enter(ref) {
		return &UnhashableError{Path: op.path, Reason: "reference cycle"}
	}
	for j := range n {
		if err := r.exec(a, st, op.elem, unsafe.Add(data, uintptr(j)*op.size)); err != nil {
			return hashWrapErr(err, op.path+"["+strconv.Itoa(j)+"]")
		}
	}
	st.leave(ref)
	return nil
}

func (r *ReflectHasher) execPtr(a *hashAcc, st *hashWalk, op *hashOp, w unsafe.Pointer) error {
	if w == nil {
		a.addNil()
		return nil
	}
	a.addNotNil()
	ref := hashRef{p: w, t: op.typ}
	if !st.enter(ref) {
		return &UnhashableError{Path: op.path, Reason: "reference cycle"}
	}
	if err := r.exec(a, st, op.elem, w); err != nil {
		return hashWrapErr(err, op.path)
	}
	st.leave(ref)
	return nil
}

func (r *ReflectHasher) execMap(a *hashAcc, st *hashWalk, op *hashOp, m reflect.Value) error {
	if m.IsNil() {
		a.addNil()
		return nil
	}
	ref := hashRef{p: m.UnsafePointer(), t: op.typ}
	if !st.enter(ref) {
		return &UnhashableError{Path: op.path, Reason: "reference cycle"}
	}
	kp, vp := reflect.New(op.typ.Key()), reflect.New(op.typ.Elem())
	kv, vv := kp.Elem(), vp.Elem()
	var sum uint64
	var e hashAcc // declared once: escape analysis moves it to the heap
	it := m.MapRange()
	for it.Next() {
		kv.SetIterKey(it)
		vv.SetIterValue(it)
		e = a.entry()
		if err := r.exec(&e, st, op.key, kp.UnsafePointer()); err != nil {
			return hashWrapErr(err, op.path+"[key]")
		}
		if err := r.exec(&e, st, op.elem, vp.UnsafePointer()); err != nil {
			return hashWrapErr(err, op.path+fmt.Sprintf("[%v]", kv))
		}
		sum += e.sum()
	}
	st.leave(ref)
	a.addLen(m.Len())
	a.addUint(sum)
	return nil
}

func (r *ReflectHasher) execIface(a *hashAcc, st *hashWalk, op *hashOp, q unsafe.Pointer) error {
	iv := reflect.NewAt(op.typ, q).Elem()
	if iv.IsNil() {
		a.addNil()
		return nil
	}
	dt := iv.Elem().Type()
	pl := r.plan(dt)
	if pl.err != nil {
		return hashWrapErr(pl.err, op.path+".("+dt.String()+")")
	}
	a.addNotNil()
	a.addString(pl.id)
	word := unsafe.Add(q, unsafe.Sizeof(uintptr(0))) // the data word
	p := word
	if !pl.direct {
		p = *(*unsafe.Pointer)(word)
	}
	if err := r.exec(a, st, pl, p); err != nil {
		return hashWrapErr(err, op.path+".("+dt.String()+")")
	}
	return nil
}

// hashWrapErr returns a copy of err with prefix added to its path; the plan's
// own error is shared and must not change.
func hashWrapErr(err error, prefix string) error {
	var ue *UnhashableError
	if !errors.As(err, &ue) {
		return err
	}
	cp := *ue
	cp.Path = prefix + cp.Path
	return &cp
}

func hashRootErr(t reflect.Type, err error) error {
	var ue *UnhashableError
	if !errors.As(err, &ue) {
		return err
	}
	cp := *ue
	cp.Type = t.String()
	return &cp
}
