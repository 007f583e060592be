package loopbody

import (
	"context"

	"github.com/flujo/flujo"
)

type Draft struct{ Text string }

func Measure(ctx context.Context, d Draft) (int, error) { return len(d.Text), nil }

func Good(d Draft) bool { return len(d.Text) > 10 }

// A loop body must take and produce the loop's type.
var Refine = flujo.Loop("refine", flujo.Step("measure", Measure), Good)
