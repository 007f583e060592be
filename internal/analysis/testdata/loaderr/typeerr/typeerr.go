package typeerr

import (
	"context"

	"github.com/flujo/flujo"
)

func Parse(ctx context.Context, s string) (int, error) { return s, nil }

var Broken = flujo.Step("parse", Parse, flujo.Retries("two"))
