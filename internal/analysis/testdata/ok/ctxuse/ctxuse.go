// Package ctxuse declares steps that use their context and steps that
// provably do not.
package ctxuse

import (
	"context"

	"github.com/flujo/flujo"
)

type State struct{ N int }

// Blank names its context _.
func Blank(_ context.Context, x int) (int, error) { return x + 1, nil }

// Unnamed leaves every parameter unnamed.
func Unnamed(context.Context, int) (int, error) { return 0, nil }

// Ignored names its context but never mentions it.
func Ignored(ctx context.Context, x int) (int, error) { return x * 2, nil }

// Checks reads its context's error.
func Checks(ctx context.Context, x int) (int, error) { return x, ctx.Err() }

// Passes hands its context on.
func Passes(ctx context.Context, x int) (int, error) { return Checks(ctx, x) }

// Keeps stores its context in a closure that may outlive the call.
func Keeps(ctx context.Context, x int) (int, error) {
	go func() { <-ctx.Done() }()
	return x, nil
}

// Shadowed declares a local ctx of its own; the parameter is unused.
func Shadowed(ctx context.Context, x int) (int, error) {
	{
		ctx := x
		_ = ctx
	}
	return x, nil
}

// Stateful is a StepS that ignores its context.
func Stateful(_ context.Context, x int, st *State) (int, error) { st.N++; return x, nil }

// Double is a Func: it has no context.
func Double(x int) int { return 2 * x }

// Generic ignores its context, for any T.
func Generic[T any](_ context.Context, v T) (T, error) { return v, nil }

// Steps uses every kind.
var Steps = flujo.Pipeline("steps",
	flujo.Step("blank", Blank),
	flujo.Step("unnamed", Unnamed),
	flujo.Step("ignored", Ignored),
	flujo.Step("checks", Checks),
	flujo.Step("passes", Passes),
	flujo.Step("keeps", Keeps),
	flujo.Step("shadowed", Shadowed),
	flujo.StepS("stateful", Stateful),
	flujo.Func("double", Double),
	flujo.Step("generic", Generic[int]),
)
