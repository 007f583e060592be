package dupnames

import (
	"context"

	"github.com/flujo/flujo"
)

func Trim(ctx context.Context, s string) (string, error) { return s, nil }

var Trimmer = flujo.Step("trim", Trim)

// Two nodes are named "trim", and the variable Trimmer is used twice.
var Twice = flujo.Pipeline("twice",
	flujo.Step("trim", Trim),
	Trimmer,
	flujo.Pipeline("twice", Trimmer),
)
