package mismatch

import (
	"context"

	"github.com/flujo/flujo"
)

func Parse(ctx context.Context, s string) (int, error) { return len(s), nil }

func Shout(ctx context.Context, s string) (string, error) { return s + "!", nil }

func Half(n int) float64 { return float64(n) / 2 }

var Shouter = flujo.Step("shout", Shout)

// The output of parse (int) does not fit shout's input (string), and
// half's float64 does not fit format's string.
var Mismatch = flujo.Pipeline("mismatch",
	flujo.Step("parse", Parse),
	Shouter,
)

var Nested = flujo.Pipeline("nested",
	flujo.Pipeline("inner", flujo.Step("parse", Parse), flujo.Func("half", Half)),
	flujo.Step("shout", Shout),
)
