// Package app chains mid's step into lib's: they agree only if lib.Order
// is one type whether reached through mid or directly.
package app

import (
	"github.com/flujo/flujo"

	"example.com/flujotest/between/lib"
	"example.com/flujotest/between/mid"
)

var Orders = flujo.Pipeline("orders",
	flujo.Step("load", mid.Load),
	flujo.Step("ship", lib.Ship),
)
