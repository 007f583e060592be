// Package autotune is a small package whose flujo.json turns on
// enable_automatic_optimization: its committed executor runs an auto-tuner.
package autotune

import (
	"context"

	"github.com/flujo/flujo"
)

// Square squares n.
func Square(_ context.Context, n int) (int, error) { return n * n, nil }

// Inc adds one.
func Inc(n int) int { return n + 1 }

// Tuned squares (cached), then adds one.
var Tuned = flujo.Pipeline("tuned", flujo.Step("square", Square, flujo.Cache()), flujo.Func("inc", Inc))
