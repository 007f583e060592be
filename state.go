package flujo

import (
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/flujo/flujo/runtime"
)

// copyPlan deep-copies values of one type. Plans are built once per type
// and kept by the executor that built them.
type copyPlan struct {
	// copy writes a deep copy of src into dst, which is addressable.
	copy func(dst, src reflect.Value, cp *copier)
}

// copier carries the pointers already copied during one deep copy, so that
// shared and cyclic pointers stay shared and cyclic in the copy.
type copier struct {
	seen map[uintptr]reflect.Value
}

// copyPlans builds and keeps deep-copy plans.
type copyPlans struct {
	plans sync.Map // reflect.Type -> *copyPlan
	built atomic.Int64
}

// deepCopy returns a deep copy of v (nil stays nil).
func (p *copyPlans) deepCopy(v any) any {
	if v == nil {
		return nil
	}
	src := reflect.ValueOf(v)
	dst := reflect.New(src.Type()).Elem()
	p.plan(src.Type()).copy(dst, src, &copier{})
	return dst.Interface()
}

// copyInto deep-copies *src into *dst; both are pointers of one type.
func (p *copyPlans) copyInto(dst, src any) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	p.plan(s.Type()).copy(d, s, &copier{})
}

// newCopy returns a pointer to a deep copy of *ptr.
func (p *copyPlans) newCopy(ptr any) any {
	s := reflect.ValueOf(ptr)
	d := reflect.New(s.Type().Elem())
	p.plan(s.Type().Elem()).copy(d.Elem(), s.Elem(), &copier{})
	return d.Interface()
}

func (p *copyPlans) plan(t reflect.Type) *copyPlan {
	if pl, ok := p.plans.Load(t); ok {
		return pl.(*copyPlan)
	}
	building := map[reflect.Type]*copyPlan{}
	pl := p.build(t, building)
	actual, _ := p.plans.LoadOrStore(t, pl)
	return actual.(*copyPlan)
}

// build makes the plan of t. building holds the plans under construction,
// so recursive types refer to their own plan.
func (p *copyPlans) build(t reflect.Type, building map[reflect.Type]*copyPlan) *copyPlan {
	if pl, ok := p.plans.Load(t); ok {
		return pl.(*copyPlan)
	}
	if pl, ok := building[t]; ok {
		return pl
	}
	pl := &copyPlan{}
	building[t] = pl
	p.built.Add(1)
	if !hasReferences(t, map[reflect.Type]bool{}) {
		pl.copy = func(dst, src reflect.Value, _ *copier) { dst.Set(src) }
		return pl
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := p.build(t.Elem(), building)
		pl.copy = func(dst, src reflect.Value, cp *copier) {
			if src.IsNil() {
				dst.SetZero()
				return
			}
			addr := src.Pointer()
			if v, ok := cp.seen[addr]; ok && v.Type() == t {
				dst.Set(v)
				return
			}
			n := reflect.New(t.Elem())
			if cp.seen == nil {
				cp.seen = map[uintptr]reflect.Value{}
			}
			cp.seen[addr] = n
			elem.copy(n.Elem(), src.Elem(), cp)
			dst.Set(n)
		}
	case reflect.Slice:
		elem := p.build(t.Elem(), building)
		pl.copy = func(dst, src reflect.Value, cp *copier) {
			if src.IsNil() {
				dst.SetZero()
				return
			}
			n := reflect.MakeSlice(t, src.Len(), src.Len())
			for i := 0; i < src.Len(); i++ {
				elem.copy(n.Index(i), src.Index(i), cp)
			}
			dst.Set(n)
		}
	case reflect.Array:
		elem := p.build(t.Elem(), building)
		pl.copy = func(dst, src reflect.Value, cp *copier) {
			src = addressable(src)
			for i := 0; i < src.Len(); i++ {
				elem.copy(dst.Index(i), src.Index(i), cp)
			}
		}
	case reflect.Map:
		key, val := p.build(t.Key(), building), p.build(t.Elem(), building)
		pl.copy = func(dst, src reflect.Value, cp *copier) {
			if src.IsNil() {
				dst.SetZero()
				return
			}
			n := reflect.MakeMapWithSize(t, src.Len())
			it := src.MapRange()
			for it.Next() {
				k := reflect.New(t.Key()).Elem()
				key.copy(k, it.Key(), cp)
				v := reflect.New(t.Elem()).Elem()
				val.copy(v, it.Value(), cp)
				n.SetMapIndex(k, v)
			}
			dst.Set(n)
		}
	case reflect.Interface:
		pl.copy = func(dst, src reflect.Value, cp *copier) {
			if src.IsNil() {
				dst.SetZero()
				return
			}
			e := src.Elem()
			v := reflect.New(e.Type()).Elem()
			p.plan(e.Type()).copy(v, e, cp)
			dst.Set(v)
		}
	case reflect.Struct:
		fields := make([]*copyPlan, t.NumField())
		for i := range fields {
			fields[i] = p.build(t.Field(i).Type, building)
		}
		pl.copy = func(dst, src reflect.Value, cp *copier) {
			src = addressable(src)
			for i, f := range fields {
				f.copy(field(dst, i), field(src, i), cp)
			}
		}
	default: // chan, func, unsafe pointer: shared, not copied
		pl.copy = func(dst, src reflect.Value, _ *copier) { dst.Set(src) }
	}
	return pl
}

// timeType is time.Time, which copies by value.
var timeType = reflect.TypeFor[time.Time]()

// hasReferences reports whether values of t can reach memory a copy would
// share: pointers, slices, maps and interfaces, at any depth.
func hasReferences(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if t == timeType {
		// A Time's location is shared by design and never modified: a
		// copy of the value is a copy of the Time, as generated code does.
		return false
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return true
	case reflect.Array:
		return hasReferences(t.Elem(), visiting)
	case reflect.Struct:
		if visiting[t] {
			return false
		}
		visiting[t] = true
		for i := 0; i < t.NumField(); i++ {
			if hasReferences(t.Field(i).Type, visiting) {
				return true
			}
		}
	}
	return false
}

// addressable returns v itself when it is addressable, else an addressable
// copy of it.
func addressable(v reflect.Value) reflect.Value {
	if v.CanAddr() {
		return v
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

// field returns the i-th field of the addressable struct v, readable and
// settable even when unexported: the deep copy must copy private fields too.
func field(v reflect.Value, i int) reflect.Value {
	f := v.Field(i)
	if f.CanSet() {
		return f
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// stateWrites returns the top-level fields of *branch that differ from
// *orig, by runtime.SameValue, the rule generated executors follow too. A state that is not a struct counts as one field, index 0.
func stateWrites(orig, branch any) []int {
	o, b := reflect.ValueOf(orig).Elem(), reflect.ValueOf(branch).Elem()
	if o.Kind() != reflect.Struct {
		if runtime.SameValue(o.Interface(), b.Interface()) {
			return nil
		}
		return []int{0}
	}
	var written []int
	for i := 0; i < o.NumField(); i++ {
		if !runtime.SameValue(field(o, i).Interface(), field(b, i).Interface()) {
			written = append(written, i)
		}
	}
	return written
}

// copyField copies field i (or the whole value, when it is not a struct)
// from *src to *dst.
func copyField(dst, src any, i int) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	if d.Kind() != reflect.Struct {
		d.Set(s)
		return
	}
	field(d, i).Set(field(s, i))
}

// fieldName names field i of the state type for messages.
func fieldName(state any, i int) string {
	t := reflect.TypeOf(state).Elem()
	if t.Kind() != reflect.Struct {
		return t.String()
	}
	return t.String() + "." + t.Field(i).Name
}
