// Package quiet holds a one-step pipeline of a trivial step with monitoring
// and telemetry switched off, compiled by flujogen for the executor benchmarks.
package quiet

//go:generate go run github.com/flujo/flujo/cmd/flujogen generate

import (
	"context"

	"github.com/flujo/flujo"
)

// Inc adds one to x.
func Inc(_ context.Context, x int) (int, error) { return x + 1, nil }

// One is a pipeline of the single step Inc.
var One = flujo.Pipeline("one", flujo.Step("inc", Inc))
