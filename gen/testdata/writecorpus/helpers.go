package writecorpus

import "sync"

// Helpers the cases call: same-package functions, generic functions and
// methods, whose source the analysis follows.

func each(xs []int, fn func(int)) {
	for _, x := range xs {
		fn(x)
	}
}

func call(fn func()) { fn() }

func apply[T any](v *T, fn func(*T)) { fn(v) }

func setPtr[T any](p *T, v T) { *p = v }

func appendTo[T any](p *[]T, v T) { *p = append(*p, v) }

func firstOf[T any](xs []T) *T { return &xs[0] }

func mutate(s *State) { s.Bool = true }

func mutateDeep(s *State, depth int) {
	if depth == 0 {
		s.Str += "!"
		return
	}
	mutateDeep(s, depth-1)
}

func otherPtr(s *State) *int { return &s.Other }

func makeInc(s *State) func() { return func() { s.Int++ } }

func incMethod(s *State) func() { return s.Counter.Inc }

func readInt(s *State) int { return s.Int + len(s.Strs) }

func (s *State) addStr(v string) { s.Strs = append(s.Strs, v) }

func (s *State) hitDone(wg *sync.WaitGroup) {
	defer wg.Done()
	s.Hit()
}

func (s *State) setLabel(l Label) { s.Label = l }

func (s State) total() int { return s.Int + s.Other }

type holder struct{ f func() }

type stateBox struct{ s *State }

// Global and GlobalState are package variables some cases store into; the
// cases reset them before returning.
var (
	Global      *int
	GlobalState *State
)

type aliasState State

func (s *State) intPtr() *int { return &s.Int }

func twoPtrs(s *State) (*int, *int) { return &s.Int, &s.Other }

func callF[F ~func()](f F) { f() }

type innerAlias Inner
