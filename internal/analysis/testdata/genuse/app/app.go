// Package app uses another package's generated executor.
package app

import (
	"context"

	"example.com/flujotest/genuse/mid"
	"example.com/flujotest/genuse/orders"
)

// Run runs the checkout executor.
func Run(ctx context.Context) (int, error) {
	e, err := orders.NewCheckoutExecutor()
	if err != nil {
		return 0, err
	}
	h := mid.Holder{E: e}
	return h.E.Execute(ctx, 2)
}
