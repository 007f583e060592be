// Package orders declares pipelines and uses their generated executors,
// which the analysis does not see.
package orders

import (
	"context"

	"github.com/flujo/flujo"
)

// Price triples n.
func Price(_ context.Context, n int) (int, error) { return n * 3, nil }

// Checkout prices an order.
var Checkout = flujo.Pipeline("checkout", flujo.Step("price", Price))

var refund = flujo.Pipeline("refund", flujo.Step("price", Price))
