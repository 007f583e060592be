package flujo

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

type node struct {
	Val  int
	Next *node
}

type deep struct {
	Name    string
	private []int
	M       map[string][]string
	I       any
	P       *node
	Arr     [2]*int
	F       func() int
}

func TestDeepCopyIsIndependent(t *testing.T) {
	var p copyPlans
	one := 1
	cyc := &node{Val: 1}
	cyc.Next = cyc
	src := &deep{
		Name: "n", private: []int{1, 2}, M: map[string][]string{"k": {"v"}},
		I: &node{Val: 7}, P: cyc, Arr: [2]*int{&one, nil}, F: func() int { return 3 },
	}
	cp := p.newCopy(src).(*deep)
	if cp.Name != "n" || !reflect.DeepEqual(cp.private, src.private) || !reflect.DeepEqual(cp.M, src.M) ||
		cp.I.(*node).Val != 7 || cp.P.Next != cp.P || *cp.Arr[0] != 1 || cp.F() != 3 {
		t.Fatalf("copy differs: %+v", cp)
	}
	cp.private[0], cp.M["k"][0], cp.I.(*node).Val, *cp.Arr[0] = 9, "x", 8, 2
	if src.private[0] != 1 || src.M["k"][0] != "v" || src.I.(*node).Val != 7 || one != 1 {
		t.Fatal("mutating the copy changed the original")
	}
	if cp.P == src.P {
		t.Fatal("cyclic pointer shared with the original")
	}
}

func TestDeepCopyPlanBuiltOncePerType(t *testing.T) {
	var p copyPlans
	for range 10 {
		p.newCopy(&deep{})
	}
	built := p.built.Load()
	for range 10 {
		p.newCopy(&deep{M: map[string][]string{}})
	}
	if p.built.Load() != built || built == 0 {
		t.Fatalf("plans built: %d then %d", built, p.built.Load())
	}
}

func TestStateWritesFieldByField(t *testing.T) {
	orig := &deep{Name: "a", private: []int{1}}
	cp := &deep{Name: "a", private: []int{2}}
	if got := stateWrites(orig, cp); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("writes %v, want the private field", got)
	}
	copyField(orig, cp, 1)
	if orig.private[0] != 2 {
		t.Fatal("copyField did not copy the unexported field")
	}
}

func TestMapConcurrencyBound(t *testing.T) {
	c, _ := newTestCore(t, nil)
	var inFlight, peak atomic.Int64
	body := Step("work", func(_ context.Context, n int) (int, error) {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		for i := 0; i < 1000; i++ {
			_ = i * n
		}
		return n * 2, nil
	})
	in := make([]int, 64)
	for i := range in {
		in[i] = i
	}
	out, _, err := Run[[]int](context.Background(), c, Map[int, int]("m", body, Concurrency(3)), in)
	if err != nil || len(out) != 64 || out[63] != 126 {
		t.Fatalf("out %v err %v", out, err)
	}
	if peak.Load() > 3 {
		t.Fatalf("%d elements in flight, bound 3", peak.Load())
	}
}

// TestDeepCopyKeepsTimeLocation checks that a time.Time is copied as a
// value: equal instant, the very same *time.Location, and a struct holding
// only times and plain fields needs no per-field plan at all.
func TestDeepCopyKeepsTimeLocation(t *testing.T) {
	type stamped struct {
		At   time.Time
		Tags []string
	}
	loc := time.FixedZone("X", 3600)
	src := stamped{At: time.Date(2026, 11, 27, 10, 0, 0, 0, loc), Tags: []string{"a"}}
	var p copyPlans
	cp := p.deepCopy(src).(stamped)
	if !cp.At.Equal(src.At) || cp.At.Location() != loc {
		t.Fatalf("time copied as %v in %p, want %v in %p", cp.At, cp.At.Location(), src.At, loc)
	}
	cp.Tags[0] = "b"
	if src.Tags[0] != "a" {
		t.Fatal("mutating the copy's slice changed the original")
	}
	if hasReferences(reflect.TypeFor[struct{ A, B time.Time }](), map[reflect.Type]bool{}) {
		t.Error("a struct of times reported as holding references")
	}
}
