package runtime

import (
	"math"
	"reflect"
	"testing"
)

func TestSameValue(t *testing.T) {
	f := func() int { return 1 }
	g := func() int { return 2 }
	nan := math.NaN()
	type inner struct {
		F  float64
		Fn func() int
	}
	type outer struct {
		In  inner
		P   *inner
		S   []float64
		M   map[string]func() int
		Any any
	}
	shared := &inner{F: nan, Fn: f}
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{"nan", nan, nan, true},
		{"nan and number", nan, 1.0, false},
		{"float32 nan", float32(nan), float32(nan), true},
		{"complex nan", complex(nan, 1), complex(nan, 1), true},
		{"same func", f, f, true},
		{"other func", f, g, false},
		{"nil funcs", (func())(nil), (func())(nil), true},
		{"nil and func", (func() int)(nil), f, false},
		{"nested", outer{In: inner{nan, f}, P: shared, S: []float64{nan}, M: map[string]func() int{"f": f}, Any: nan},
			outer{In: inner{nan, f}, P: &inner{F: nan, Fn: f}, S: []float64{nan}, M: map[string]func() int{"f": f}, Any: nan}, true},
		{"nested differs", outer{In: inner{1, f}}, outer{In: inner{2, f}}, false},
		{"nested func differs", outer{M: map[string]func() int{"f": f}}, outer{M: map[string]func() int{"f": g}}, false},
		{"nil and empty slice", outer{S: nil}, outer{S: []float64{}}, false},
		{"types differ", 1, int64(1), false},
		{"nil", nil, nil, true},
	}
	for _, tt := range tests {
		if got := SameValue(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: SameValue = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSameValueIsDeepEqualElsewhere: on values without NaNs or non-nil
// funcs, SameValue is reflect.DeepEqual.
func TestSameValueIsDeepEqualElsewhere(t *testing.T) {
	type node struct {
		V    int
		Next *node
		Tags []string
		M    map[int][]byte
	}
	cyc := &node{V: 1}
	cyc.Next = cyc
	cyc2 := &node{V: 1}
	cyc2.Next = cyc2
	values := []any{
		0, 1, "a", "", []int{1, 2}, []int{1, 3}, []int(nil), map[string]int{"a": 1}, map[string]int{"a": 2},
		node{V: 1, Tags: []string{"x"}}, node{V: 1, Tags: []string{"y"}}, &node{V: 2, M: map[int][]byte{1: []byte("z")}},
		&node{V: 2, M: map[int][]byte{1: []byte("y")}}, cyc, cyc2, [2]int{1, 2}, [2]int{2, 1},
	}
	for _, a := range values {
		for _, b := range values {
			if got, want := SameValue(a, b), reflect.DeepEqual(a, b); got != want {
				t.Errorf("SameValue(%#v, %#v) = %v, reflect.DeepEqual says %v", a, b, got, want)
			}
		}
	}
}
