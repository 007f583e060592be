// Package overrides is configured with step overrides that name no step of
// its pipeline.
package overrides

import (
	"context"

	"github.com/flujo/flujo"
)

func Fetch(_ context.Context, n int) (int, error) { return n + 1, nil }

func Big(n int) bool { return n > 3 }

var Misspelt = flujo.Pipeline("misspelt",
	flujo.Loop("twice", flujo.Step("fetcher", Fetch), Big),
)
