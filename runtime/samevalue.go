package runtime

import (
	"math"
	"reflect"
	"unsafe"
)

// SameValue reports whether a and b hold the same value, the rule by which
// both engines tell that a Parallel branch wrote a state field: deep
// equality as reflect.DeepEqual has it, except that a value is always the
// same as itself. Two NaNs of one float type are the same, and two func
// values are the same when both are nil or both are the same function
// value; reflect.DeepEqual says neither, so a branch that only copied such
// a field would count as writing it.
func SameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == b
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	return sameValue(va, vb, map[visit]bool{})
}

// SameFloat reports whether two floats are the same value under SameValue's
// rule: equal, or both NaN.
func SameFloat(a, b float64) bool { return a == b || (a != a && b != b) }

// SameFunc reports whether two func values are the same under SameValue's
// rule: both nil, or the same function value. a and b must be funcs.
func SameFunc(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.IsNil() || vb.IsNil() {
		return va.IsNil() && vb.IsNil()
	}
	return va.UnsafePointer() == vb.UnsafePointer()
}

type visit struct {
	a, b unsafe.Pointer
	typ  reflect.Type
}

func sameValue(a, b reflect.Value, visited map[visit]bool) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	// Cycles end where they began, as in reflect.DeepEqual.
	switch a.Kind() {
	case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Interface:
		if a.Kind() != reflect.Interface && !a.IsNil() && !b.IsNil() {
			v := visit{a.UnsafePointer(), b.UnsafePointer(), a.Type()}
			if a.Kind() == reflect.Slice {
				v.a, v.b = unsafe.Pointer(a.Pointer()), unsafe.Pointer(b.Pointer())
			}
			if visited[v] {
				return true
			}
			visited[v] = true
		}
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y || (math.IsNaN(x) && math.IsNaN(y))
	case reflect.Complex64, reflect.Complex128:
		x, y := a.Complex(), b.Complex()
		return SameFloat(real(x), real(y)) && SameFloat(imag(x), imag(y))
	case reflect.Func:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() && b.IsNil()
		}
		return a.UnsafePointer() == b.UnsafePointer()
	case reflect.Array:
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i), visited) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		if a.Pointer() == b.Pointer() {
			return true
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i), visited) {
				return false
			}
		}
		return true
	case reflect.Interface, reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Kind() == reflect.Pointer && a.UnsafePointer() == b.UnsafePointer() {
			return true
		}
		return sameValue(a.Elem(), b.Elem(), visited)
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i), visited) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		if a.UnsafePointer() == b.UnsafePointer() {
			return true
		}
		iter := a.MapRange()
		for iter.Next() {
			bv := b.MapIndex(iter.Key())
			if !bv.IsValid() || !sameValue(iter.Value(), bv, visited) {
				return false
			}
		}
		return true
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Chan, reflect.UnsafePointer:
		return a.Pointer() == b.Pointer()
	}
	return false
}
