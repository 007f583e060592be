// Package app uses steps and a node of package lib.
package app

import (
	"github.com/flujo/flujo"

	"example.com/flujotest/ok/crosspkg/lib"
)

var Orders = flujo.Pipeline("orders",
	lib.Loader,
	flujo.StepS("mark", lib.Mark),
)
