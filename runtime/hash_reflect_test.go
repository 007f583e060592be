package runtime

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// Types of many shapes for the property test.

type propBase struct {
	ID   int32
	Live bool
}

type propLeaf struct {
	Name  string
	Score float64
	notes []string // unexported
}

type propMoney struct {
	units int64
	cur   string
}

func (m propMoney) Hash64() uint64 { return uint64(m.units)*0x9e3779b97f4a7c15 ^ uint64(len(m.cur)) }

type propToken struct{ v uint32 }

func (t *propToken) Hash64() uint64 { return uint64(t.v) * 0xc2b2ae3d27d4eb4f }

type propNode struct {
	Val  int
	Next *propNode
}

type propStringer struct{ S string }

func (p propStringer) String() string { return p.S }

type propShape struct {
	propBase // embedded
	Title    string
	N        int
	I8       int8
	U16      uint16
	UP       uintptr
	F32      float32
	C64      complex64
	C128     complex128
	When     time.Time
	Leaf     propLeaf
	PLeaf    *propLeaf
	Leaves   []propLeaf
	Grid     [2][3]int16
	Big      [20]uint32 // too long to unroll
	Raw      []byte
	Sum      [8]byte
	Attrs    map[string]int
	Multi    map[int32][]string
	ByLeaf   map[string]*propLeaf
	Any      any
	Str      fmt.Stringer
	Money    propMoney
	Tok      *propToken
	List     *propNode
	secret   uint64
	_        int
	Matrix   [][]float64
}

const propLeafID = "github.com/flujo/flujo/runtime.propLeaf"

// The inline hashers below are written exactly as flujogen emits them,
// following the contract in hash.go. They are generic only so that one body
// covers Hash and StableHash; generated code names the concrete type.

func inlineLeaf[H hashState[H]](h H, v *propLeaf) H {
	h = h.AddString(v.Name).AddFloat(v.Score)
	if v.notes == nil {
		h = h.AddNil()
	} else {
		h = h.AddLen(len(v.notes))
		for _, s := range v.notes {
			h = h.AddString(s)
		}
	}
	return h
}

func inlineNode[H hashState[H]](h H, v *propNode) H {
	for v != nil {
		h = h.AddNotNil().AddInt(int64(v.Val))
		v = v.Next
	}
	return h.AddNil()
}

func inlineShape[H hashState[H]](h H, v *propShape) H {
	h = h.AddInt(int64(v.ID)).AddBool(v.Live)
	h = h.AddString(v.Title).AddInt(int64(v.N)).AddInt(int64(v.I8)).AddUint(uint64(v.U16)).AddUint(uint64(v.UP))
	h = h.AddFloat(float64(v.F32)).AddComplex(complex128(v.C64)).AddComplex(v.C128)
	h = h.AddTime(v.When)
	h = inlineLeaf(h, &v.Leaf)
	if v.PLeaf == nil {
		h = h.AddNil()
	} else {
		h = inlineLeaf(h.AddNotNil(), v.PLeaf)
	}
	if v.Leaves == nil {
		h = h.AddNil()
	} else {
		h = h.AddLen(len(v.Leaves))
		for i := range v.Leaves {
			h = inlineLeaf(h, &v.Leaves[i])
		}
	}
	for i := range v.Grid {
		for j := range v.Grid[i] {
			h = h.AddInt(int64(v.Grid[i][j]))
		}
	}
	for _, x := range v.Big {
		h = h.AddUint(uint64(x))
	}
	if v.Raw == nil {
		h = h.AddNil()
	} else {
		h = h.AddBytes(v.Raw)
	}
	h = h.AddBytes(v.Sum[:])
	if v.Attrs == nil {
		h = h.AddNil()
	} else {
		var sum uint64
		for k, x := range v.Attrs {
			sum += h.Entry().AddString(k).AddInt(int64(x)).Sum64()
		}
		h = h.AddLen(len(v.Attrs)).AddUint(sum)
	}
	if v.Multi == nil {
		h = h.AddNil()
	} else {
		var sum uint64
		for k, xs := range v.Multi {
			e := h.Entry().AddInt(int64(k))
			if xs == nil {
				e = e.AddNil()
			} else {
				e = e.AddLen(len(xs))
				for _, s := range xs {
					e = e.AddString(s)
				}
			}
			sum += e.Sum64()
		}
		h = h.AddLen(len(v.Multi)).AddUint(sum)
	}
	if v.ByLeaf == nil {
		h = h.AddNil()
	} else {
		var sum uint64
		for k, p := range v.ByLeaf {
			e := h.Entry().AddString(k)
			if p == nil {
				e = e.AddNil()
			} else {
				e = inlineLeaf(e.AddNotNil(), p)
			}
			sum += e.Sum64()
		}
		h = h.AddLen(len(v.ByLeaf)).AddUint(sum)
	}
	switch x := v.Any.(type) {
	case nil:
		h = h.AddNil()
	case int:
		h = h.AddNotNil().AddString("int").AddInt(int64(x))
	case string:
		h = h.AddNotNil().AddString("string").AddString(x)
	case propLeaf:
		h = inlineLeaf(h.AddNotNil().AddString(propLeafID), &x)
	case *propLeaf:
		h = h.AddNotNil().AddString("*" + propLeafID)
		if x == nil {
			h = h.AddNil()
		} else {
			h = inlineLeaf(h.AddNotNil(), x)
		}
	case []int:
		h = h.AddNotNil().AddString("[]int")
		if x == nil {
			h = h.AddNil()
		} else {
			h = h.AddLen(len(x))
			for _, n := range x {
				h = h.AddInt(int64(n))
			}
		}
	default:
		panic(fmt.Sprintf("inlineShape: unexpected %T in Any", x))
	}
	switch x := v.Str.(type) {
	case nil:
		h = h.AddNil()
	case propStringer:
		h = h.AddNotNil().AddString("github.com/flujo/flujo/runtime.propStringer").AddString(x.S)
	default:
		panic(fmt.Sprintf("inlineShape: unexpected %T in Str", x))
	}
	h = h.AddUint(v.Money.Hash64())
	if v.Tok == nil {
		h = h.AddNil()
	} else {
		h = h.AddUint(v.Tok.Hash64())
	}
	if v.List == nil {
		h = h.AddNil()
	} else {
		h = inlineNode(h.AddNotNil().AddInt(int64(v.List.Val)), v.List.Next)
	}
	h = h.AddUint(v.secret)
	if v.Matrix == nil {
		h = h.AddNil()
	} else {
		h = h.AddLen(len(v.Matrix))
		for _, row := range v.Matrix {
			if row == nil {
				h = h.AddNil()
			} else {
				h = h.AddLen(len(row))
				for _, f := range row {
					h = h.AddFloat(f)
				}
			}
		}
	}
	return h
}

// propGen draws random values; nil, empty and special floats are frequent.
type propGen struct{ r *rand.Rand }

func (g propGen) str() string {
	const alphabet = "ab cé\x00z"
	n := g.r.IntN(6)
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[g.r.IntN(len(alphabet))])
	}
	return b.String()
}

func (g propGen) float() float64 {
	switch g.r.IntN(6) {
	case 0:
		return math.NaN()
	case 1:
		return math.Copysign(0, -1)
	case 2:
		return 0
	case 3:
		return math.Inf(1 - 2*g.r.IntN(2))
	}
	return g.r.NormFloat64() * 1e3
}

func (g propGen) strs() []string {
	switch g.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	s := make([]string, 1+g.r.IntN(3))
	for i := range s {
		s[i] = g.str()
	}
	return s
}

func (g propGen) leaf() propLeaf {
	return propLeaf{Name: g.str(), Score: g.float(), notes: g.strs()}
}

func (g propGen) pleaf() *propLeaf {
	if g.r.IntN(3) == 0 {
		return nil
	}
	l := g.leaf()
	return &l
}

func (g propGen) shape() propShape {
	r := g.r
	v := propShape{
		propBase: propBase{ID: r.Int32(), Live: r.IntN(2) == 0},
		Title:    g.str(),
		N:        r.IntN(2000) - 1000,
		I8:       int8(r.IntN(256) - 128),
		U16:      uint16(r.Uint32()),
		UP:       uintptr(r.Uint64()),
		F32:      float32(g.float()),
		C64:      complex(float32(g.float()), float32(g.float())),
		C128:     complex(g.float(), g.float()),
		When:     time.Unix(r.Int64N(1e10)-5e9, r.Int64N(1e9)),
		Leaf:     g.leaf(),
		PLeaf:    g.pleaf(),
		Money:    propMoney{units: r.Int64N(1e6), cur: g.str()},
		secret:   r.Uint64(),
	}
	if r.IntN(4) != 0 {
		v.Leaves = make([]propLeaf, r.IntN(4))
		for i := range v.Leaves {
			v.Leaves[i] = g.leaf()
		}
	}
	for i := range v.Grid {
		for j := range v.Grid[i] {
			v.Grid[i][j] = int16(r.IntN(1 << 16))
		}
	}
	for i := range v.Big {
		v.Big[i] = r.Uint32()
	}
	if r.IntN(4) != 0 {
		v.Raw = []byte(g.str())
	}
	for i := range v.Sum {
		v.Sum[i] = byte(r.IntN(256))
	}
	if r.IntN(4) != 0 {
		v.Attrs = map[string]int{}
		for range r.IntN(6) {
			v.Attrs[g.str()] = r.IntN(100)
		}
	}
	if r.IntN(4) != 0 {
		v.Multi = map[int32][]string{}
		for range r.IntN(4) {
			v.Multi[r.Int32N(50)] = g.strs()
		}
	}
	if r.IntN(4) != 0 {
		v.ByLeaf = map[string]*propLeaf{}
		for range r.IntN(4) {
			v.ByLeaf[g.str()] = g.pleaf()
		}
	}
	switch r.IntN(6) {
	case 1:
		v.Any = r.IntN(100)
	case 2:
		v.Any = g.str()
	case 3:
		v.Any = g.leaf()
	case 4:
		v.Any = g.pleaf()
	case 5:
		if r.IntN(3) > 0 {
			v.Any = []int{r.IntN(9), r.IntN(9)}
		} else {
			v.Any = []int(nil)
		}
	}
	if r.IntN(2) == 0 {
		v.Str = propStringer{S: g.str()}
	}
	if r.IntN(2) == 0 {
		v.Tok = &propToken{v: r.Uint32()}
	}
	for range r.IntN(4) {
		v.List = &propNode{Val: r.IntN(10), Next: v.List}
	}
	if r.IntN(4) != 0 {
		v.Matrix = make([][]float64, r.IntN(3))
		for i := range v.Matrix {
			if r.IntN(3) > 0 {
				v.Matrix[i] = []float64{g.float(), g.float()}
			}
		}
	}
	return v
}

// propEqualCopy returns a value equal to v for hashing purposes but sharing
// no memory with it: new pointers, maps filled in another order, the instant
// in another location, other NaN payloads, -0 for +0.
func propEqualCopy(v propShape) propShape {
	fl := func(f float64) float64 {
		if f != f {
			return math.Float64frombits(0x7ff8_0000_0000_0bad)
		}
		if f == 0 {
			return math.Copysign(0, -1)
		}
		return f
	}
	cpLeaf := func(l propLeaf) propLeaf {
		l.Score = fl(l.Score)
		if l.notes != nil {
			l.notes = append([]string{}, l.notes...)
		}
		return l
	}
	cpPLeaf := func(p *propLeaf) *propLeaf {
		if p == nil {
			return nil
		}
		l := cpLeaf(*p)
		return &l
	}
	c := v
	c.F32 = float32(fl(float64(v.F32)))
	c.C128 = complex(fl(real(v.C128)), fl(imag(v.C128)))
	c.When = v.When.In(time.FixedZone("X", -7*3600))
	c.Leaf = cpLeaf(v.Leaf)
	c.PLeaf = cpPLeaf(v.PLeaf)
	if v.Leaves != nil {
		c.Leaves = make([]propLeaf, len(v.Leaves))
		for i, l := range v.Leaves {
			c.Leaves[i] = cpLeaf(l)
		}
	}
	if v.Raw != nil {
		c.Raw = append([]byte{}, v.Raw...)
	}
	if v.Attrs != nil {
		c.Attrs = map[string]int{}
		keys := reflect.ValueOf(v.Attrs).MapKeys()
		for i := len(keys) - 1; i >= 0; i-- {
			k := keys[i].String()
			c.Attrs[k] = v.Attrs[k]
		}
	}
	if v.Multi != nil {
		c.Multi = map[int32][]string{}
		for k, xs := range v.Multi {
			if xs != nil {
				xs = append([]string{}, xs...)
			}
			c.Multi[k] = xs
		}
	}
	if v.ByLeaf != nil {
		c.ByLeaf = map[string]*propLeaf{}
		for k, p := range v.ByLeaf {
			c.ByLeaf[k] = cpPLeaf(p)
		}
	}
	switch x := v.Any.(type) {
	case propLeaf:
		c.Any = cpLeaf(x)
	case *propLeaf:
		c.Any = cpPLeaf(x)
	case []int:
		if x != nil {
			c.Any = append([]int{}, x...)
		}
	}
	if v.Tok != nil {
		c.Tok = &propToken{v: v.Tok.v}
	}
	c.List = nil
	var nodes []int
	for n := v.List; n != nil; n = n.Next {
		nodes = append(nodes, n.Val)
	}
	for i := len(nodes) - 1; i >= 0; i-- {
		c.List = &propNode{Val: nodes[i], Next: c.List}
	}
	if v.Matrix != nil {
		c.Matrix = make([][]float64, len(v.Matrix))
		for i, row := range v.Matrix {
			if row != nil {
				c.Matrix[i] = []float64{fl(row[0]), fl(row[1])}
			}
		}
	}
	return c
}

func TestInlineMatchesReflect(t *testing.T) {
	seed := NewHash()
	rh, err := NewReflectHasher(seed)
	if err != nil {
		t.Fatal(err)
	}
	stable := NewStableHash(99)
	srh := NewStableReflectHasher(stable)
	g := propGen{r: rand.New(rand.NewPCG(1, 2))}

	for i := range 2000 {
		v := g.shape()
		c := propEqualCopy(v)
		checkInlineReflect(t, i, seed, rh, &v, &c)
		checkInlineReflect(t, i, stable, srh, &v, &c)
	}
}

func checkInlineReflect[H hashState[H]](t *testing.T, i int, seed H, rh *ReflectHasher, v, c *propShape) {
	t.Helper()
	want := inlineShape(seed, v).Sum64()
	if got := inlineShape(seed, c).Sum64(); got != want {
		t.Fatalf("case %d: inline hash of an equal copy %#x, want %#x\nvalue %+v", i, got, want, *v)
	}
	for _, x := range []any{*v, *c} {
		got, err := rh.Hash(x)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got != want {
			t.Fatalf("case %d: reflective %#x, inline %#x\nvalue %+v", i, got, want, *v)
		}
	}
	// Through a pointer: the pointer rule, then the value.
	wantPtr := inlineShape(seed.AddNotNil(), v).Sum64()
	if got, err := rh.Hash(v); err != nil || got != wantPtr {
		t.Fatalf("case %d: reflective via pointer %#x (%v), inline %#x", i, got, err, wantPtr)
	}
}

func TestReflectHasherSensitivity(t *testing.T) {
	rh, err := NewReflectHasher(NewHash())
	if err != nil {
		t.Fatal(err)
	}
	g := propGen{r: rand.New(rand.NewPCG(3, 4))}
	base := g.shape()
	base.Attrs = map[string]int{"a": 1, "b": 2}
	base.Any = 5
	mutations := map[string]func(v *propShape){
		"embedded field":      func(v *propShape) { v.ID++ },
		"unexported field":    func(v *propShape) { v.secret++ },
		"unexported in leaf":  func(v *propShape) { v.Leaf.notes = append(v.Leaf.notes, "x") },
		"map value":           func(v *propShape) { v.Attrs = map[string]int{"a": 2, "b": 1} },
		"map nil vs empty":    func(v *propShape) { v.Attrs = nil },
		"interface int type":  func(v *propShape) { v.Any = int64(5) },
		"interface nil":       func(v *propShape) { v.Any = nil },
		"time":                func(v *propShape) { v.When = v.When.Add(time.Nanosecond) },
		"array element":       func(v *propShape) { v.Big[19]++ },
		"hashable method":     func(v *propShape) { v.Money.units++ },
		"hashable pointer":    func(v *propShape) { v.Tok = &propToken{v: 12345} },
		"pointer nil vs zero": func(v *propShape) { v.PLeaf = &propLeaf{} },
	}
	cp := func() propShape { c := propEqualCopy(base); c.PLeaf = nil; c.Tok = nil; return c }
	b := cp()
	want, err := rh.Hash(b)
	if err != nil {
		t.Fatal(err)
	}
	for name, mut := range mutations {
		v := cp()
		mut(&v)
		got, err := rh.Hash(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got == want {
			t.Errorf("%s: the hash did not change", name)
		}
	}
}

func TestReflectHasherRoots(t *testing.T) {
	seed := NewHash()
	rh, err := NewReflectHasher(seed)
	if err != nil {
		t.Fatal(err)
	}
	type onePtr struct{ p *int }
	n := 7
	cases := []struct {
		name string
		v    any
		want uint64
	}{
		{"nil", nil, seed.AddNil().Sum64()},
		{"int", 3, seed.AddInt(3).Sum64()},
		{"uint8", uint8(3), seed.AddUint(3).Sum64()},
		{"string", "s", seed.AddString("s").Sum64()},
		{"nil *int", (*int)(nil), seed.AddNil().Sum64()},
		{"*int", &n, seed.AddNotNil().AddInt(7).Sum64()},
		{"one-pointer struct", onePtr{&n}, seed.AddNotNil().AddInt(7).Sum64()},
		{"one-pointer array", [1]*int{&n}, seed.AddNotNil().AddInt(7).Sum64()},
		{"nil map", map[int]int(nil), seed.AddNil().Sum64()},
		{"map", map[int]int{1: 2}, seed.AddLen(1).AddUint(seed.Entry().AddInt(1).AddInt(2).Sum64()).Sum64()},
		{"hashable", propMoney{units: 3}, seed.AddUint(propMoney{units: 3}.Hash64()).Sum64()},
		{"hashable pointer", &propToken{v: 4}, seed.AddUint((&propToken{v: 4}).Hash64()).Sum64()},
		{"nil hashable pointer", (*propToken)(nil), seed.AddNil().Sum64()},
		{"pointer to value-receiver hashable", &propMoney{units: 3}, seed.AddUint(propMoney{units: 3}.Hash64()).Sum64()},
		{"promoted Hash64", struct {
			propMoney
			X int
		}{propMoney{units: 3}, 9}, seed.AddUint(propMoney{units: 3}.Hash64()).Sum64()},
		{"empty struct", struct{}{}, seed.Sum64()},
		{"blank field only", struct{ _ *int }{}, seed.Sum64()},
		{"time", time.Unix(5, 6), seed.AddTime(time.Unix(5, 6)).Sum64()},
		{"bytes", []byte("ab"), seed.AddBytes([]byte("ab")).Sum64()},
		{"named byte slice", []propByte{'a', 'b'}, seed.AddBytes([]byte("ab")).Sum64()},
	}
	for _, c := range cases {
		got, err := rh.Hash(c.v)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.name, got, c.want)
		}
	}
}

type propByte uint8

func TestReflectHasherErrors(t *testing.T) {
	rh, err := NewReflectHasher(NewHash())
	if err != nil {
		t.Fatal(err)
	}
	type withFunc struct {
		Name     string
		Handlers []struct{ Fn func() }
	}
	type withAny struct{ Box []any }
	type cyc struct{ Self *cyc }
	loop := &cyc{}
	loop.Self = loop
	s := make([]any, 1)
	s[0] = s
	m := map[string]any{}
	m["m"] = m
	long := &propNode{}
	for range 3 * hashCycleDepth {
		long = &propNode{Next: long}
	}

	cases := []struct {
		name     string
		v        any
		path     string
		inReason string
	}{
		{"func field", withFunc{}, ".Handlers[].Fn", "func"},
		{"chan in interface", withAny{Box: []any{1, make(chan int)}}, ".Box[1].(chan int)", "chan"},
		{"unsafe pointer root", reflect.ValueOf(&rh).UnsafePointer(), "", "unsafe.Pointer"},
		// A cycle is found some laps in; the path runs to where.
		{"pointer cycle", loop, "?", "cycle"},
		{"slice cycle", s, "?", "cycle"},
		{"map cycle", m, "?", "cycle"},
		{"panicking Hash64", propPanics{}, "", "panic"},
	}
	for _, c := range cases {
		_, err := rh.Hash(c.v)
		var ue *UnhashableError
		if !errors.As(err, &ue) {
			t.Errorf("%s: error %v, want an *UnhashableError", c.name, err)
			continue
		}
		if c.path != "?" && ue.Path != c.path {
			t.Errorf("%s: path %q, want %q", c.name, ue.Path, c.path)
		}
		if !strings.Contains(ue.Error(), c.inReason) {
			t.Errorf("%s: %q does not mention %q", c.name, ue.Error(), c.inReason)
		}
		if ue.Type == "" {
			t.Errorf("%s: no type in %q", c.name, ue.Error())
		}
	}
	// A long list without a cycle is fine, and a second call uses the plan.
	for range 2 {
		if _, err := rh.Hash(long); err != nil {
			t.Fatalf("long acyclic list: %v", err)
		}
	}
	// Shared, acyclic references are fine too.
	leaf := &propLeaf{Name: "x"}
	if _, err := rh.Hash([]*propLeaf{leaf, leaf}); err != nil {
		t.Fatalf("shared pointer: %v", err)
	}
}

type propPanics struct{}

func (propPanics) Hash64() uint64 { panic("boom") }

func TestReflectHasherErrorPaths(t *testing.T) {
	rh, err := NewReflectHasher(NewHash())
	if err != nil {
		t.Fatal(err)
	}
	type inner struct{ C chan int }
	type outer struct {
		A int
		B []map[string]inner
	}
	_, err = rh.Hash(outer{})
	var ue *UnhashableError
	if !errors.As(err, &ue) || ue.Path != ".B[][].C" || !strings.Contains(ue.Type, "outer") {
		t.Fatalf("got %v, want the path .B[][].C in outer", err)
	}
	// The error is cached with the plan and stays the same.
	_, err2 := rh.Hash(outer{})
	if err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("second call: %v, want %v", err2, err)
	}
}

func TestReflectHasherRejectsZeroSeed(t *testing.T) {
	if _, err := NewReflectHasher(Hash{}); err == nil {
		t.Fatal("NewReflectHasher(Hash{}) returned no error")
	}
}

// TestReflectHasherKeysPlansByType guards against the original's analysis
// cache keyed by type name: two types with one name must not share a plan.
func TestReflectHasherKeysPlansByType(t *testing.T) {
	rh, err := NewReflectHasher(NewHash())
	if err != nil {
		t.Fatal(err)
	}
	a := func() any {
		type T struct{ A int }
		return T{A: 1}
	}()
	b := func() any {
		type T struct{ A string }
		return T{A: "1"}
	}()
	if reflect.TypeOf(a).String() != reflect.TypeOf(b).String() {
		t.Fatalf("test setup: names %s and %s differ", reflect.TypeOf(a), reflect.TypeOf(b))
	}
	ha, err1 := rh.Hash(a)
	hb, err2 := rh.Hash(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	h := NewHash()
	if ha == hb || ha != rh.seed.AddInt(1).Sum64() || hb != rh.seed.AddString("1").Sum64() {
		t.Fatalf("plans mixed up: %#x %#x", ha, hb)
	}
	_ = h
}

func TestReflectHasherConcurrent(t *testing.T) {
	seed := NewHash()
	rh, err := NewReflectHasher(seed)
	if err != nil {
		t.Fatal(err)
	}
	g := propGen{r: rand.New(rand.NewPCG(5, 6))}
	values := make([]propShape, 16)
	want := make([]uint64, len(values))
	for i := range values {
		values[i] = g.shape()
		want[i] = inlineShape(seed, &values[i]).Sum64()
	}
	others := []any{1, "x", []int{1}, map[string]bool{"a": true}, &propNode{Val: 1}, propLeaf{}, [3]int8{}}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 50 {
				j := (w + i) % len(values)
				got, err := rh.Hash(values[j])
				if err != nil || got != want[j] {
					t.Errorf("goroutine %d: %#x (%v), want %#x", w, got, err, want[j])
					return
				}
				if _, err := rh.Hash(others[(w+i)%len(others)]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestHashTypeIdentity(t *testing.T) {
	cases := map[reflect.Type]string{
		reflect.TypeFor[int]():                     "int",
		reflect.TypeFor[propLeaf]():                propLeafID,
		reflect.TypeFor[*propLeaf]():               "*" + propLeafID,
		reflect.TypeFor[[]propLeaf]():              "[]" + propLeafID,
		reflect.TypeFor[[3]*propLeaf]():            "[3]*" + propLeafID,
		reflect.TypeFor[map[string][]propLeaf]():   "map[string][]" + propLeafID,
		reflect.TypeFor[time.Time]():               "time.Time",
		reflect.TypeFor[map[time.Duration]error](): "map[time.Duration]error",
	}
	for typ, want := range cases {
		if got := HashTypeIdentity(typ); got != want {
			t.Errorf("%v: %q, want %q", typ, got, want)
		}
	}
}

func TestReflectHasherAllocations(t *testing.T) {
	rh, err := NewReflectHasher(NewHash())
	if err != nil {
		t.Fatal(err)
	}
	k := benchKeyValue()
	var v any = &k // boxed once, as the executor holds its input
	if _, err := rh.Hash(v); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = rh.Hash(v) }); n != 0 {
		t.Errorf("Hash of a struct without maps: %v allocs, want 0", n)
	}
}

func BenchmarkReflectHasher(b *testing.B) {
	rh, err := NewReflectHasher(NewHash())
	if err != nil {
		b.Fatal(err)
	}
	k := benchKeyValue()
	var v any = k
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		s, _ := rh.Hash(v)
		sink += s
	}
	_ = sink
}

func BenchmarkReflectHasherPointer(b *testing.B) {
	rh, err := NewReflectHasher(NewHash())
	if err != nil {
		b.Fatal(err)
	}
	k := benchKeyValue()
	var v any = &k
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		s, _ := rh.Hash(v)
		sink += s
	}
	_ = sink
}
