// Package typo has mistakes whose messages look like uses of generated
// names: none names what flujogen declares, so each is reported.
package typo

import (
	"context"

	"github.com/flujo/flujo"

	"example.com/flujotest/genuse/orders"
)

// Retry is a function, not a pipeline: flujogen declares nothing for it.
func Retry() {}

// Local is a pipeline of this package.
var Local = flujo.Pipeline("local", flujo.Step("price", orders.Price))

// Run has a misspelt constructor of another package.
func Run(ctx context.Context) {
	e, _ := orders.NewChekoutExecutor()
	_, _ = e.Execute(ctx, 1)
}

// Again names executors of pipelines that do not exist, or that another
// package declares.
func Again() {
	_, _ = NewRetryExecutor()
	_ = newRefundExecutor
	_ = orders.NewLocalExecutor
	_ = orders.refundExecutor{}
}
