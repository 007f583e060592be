// Package stalecheck is a small package with a pipeline and its committed
// generated executor: the compile-and-run and stale-output tests use it.
package stalecheck

import (
	"context"

	"github.com/flujo/flujo"
)

// Double doubles n.
func Double(_ context.Context, n int) (int, error) { return 2 * n, nil }

// Inc adds one.
func Inc(n int) int { return n + 1 }

// Doubler doubles, then adds one.
var Doubler = flujo.Pipeline("doubler", flujo.Step("double", Double, flujo.Retries(2)), flujo.Func("inc", Inc))
