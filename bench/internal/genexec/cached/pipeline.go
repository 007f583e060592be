// Package cached holds a one-step pipeline of a cached trivial step,
// compiled by flujogen for the cache-hit benchmark.
package cached

//go:generate go run github.com/flujo/flujo/cmd/flujogen generate

import (
	"context"

	"github.com/flujo/flujo"
)

// Inc adds one to x.
func Inc(_ context.Context, x int) (int, error) { return x + 1, nil }

// One is a pipeline of the single cached step Inc.
var One = flujo.Pipeline("one", flujo.Step("inc", Inc, flujo.Cache()))
