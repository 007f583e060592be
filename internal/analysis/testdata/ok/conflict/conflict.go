package conflict

import (
	"context"

	"github.com/flujo/flujo"
)

type State struct {
	Total  int
	Notes  []string
	Owner  string
	Totals map[string]int
}

func AddA(ctx context.Context, n int, st *State) (int, error) {
	st.Total += n
	st.Notes = append(st.Notes, "a")
	return n, nil
}

func AddB(ctx context.Context, n int, st *State) (int, error) {
	st.Total += 2 * n
	return n, nil
}

func Own(ctx context.Context, n int, st *State) (int, error) {
	st.Owner = "c"
	return n, nil
}

func Everything(ctx context.Context, n int, st *State) (int, error) {
	reset(st)
	return n, nil
}

func reset(st *State) { *st = State{} }

func Sum(a, b, c int) int { return a + b + c }

// Branches a and b both write Total under ErrorOnConflict.
var Strict = flujo.Parallel("strict", Sum,
	flujo.StepS("a", AddA),
	flujo.StepS("b", AddB),
	flujo.StepS("c", Own),
).With(flujo.Merge(flujo.ErrorOnConflict))

// A branch whose state pointer escapes writes every field.
var Escaping = flujo.Parallel("escaping", Sum,
	flujo.StepS("own", Own),
	flujo.Pipeline("nested", flujo.StepS("everything", Everything)),
	flujo.Step("plain", Plain),
).With(flujo.Merge(flujo.ErrorOnConflict))

func Plain(ctx context.Context, n int) (int, error) { return n, nil }
