// Package fan holds a 4-branch Parallel whose branches each write a field
// of the pipeline state, merged back by MergeUpdate, compiled by flujogen
// for the allocation benchmark.
package fan

//go:generate go run github.com/flujo/flujo/cmd/flujogen generate

import (
	"context"

	"github.com/flujo/flujo"
)

// State is the pipeline state the branches write.
type State struct {
	A, B, C, D int
}

// WriteA records x in State.A.
func WriteA(_ context.Context, x int, s *State) (int, error) { s.A = x; return x + 1, nil }

// WriteB records x in State.B.
func WriteB(_ context.Context, x int, s *State) (int, error) { s.B = x; return x + 2, nil }

// WriteC records x in State.C.
func WriteC(_ context.Context, x int, s *State) (int, error) { s.C = x; return x + 3, nil }

// WriteD records x in State.D.
func WriteD(_ context.Context, x int, s *State) (int, error) { s.D = x; return x + 4, nil }

// Sum joins the four branch outputs.
func Sum(a, b, c, d int) int { return a + b + c + d }

// Fan runs the four writers in parallel and merges their state writes.
var Fan = flujo.Parallel("fan", Sum,
	flujo.StepS("a", WriteA),
	flujo.StepS("b", WriteB),
	flujo.StepS("c", WriteC),
	flujo.StepS("d", WriteD),
).With(flujo.Merge(flujo.MergeUpdate))
