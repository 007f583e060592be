package notloaded

import (
	"github.com/flujo/flujo"

	"example.com/flujotest/ok/crosspkg/lib"
)

// lib.Loader is declared in a package that is not loaded with this one.
var Orders = flujo.Pipeline("orders", lib.Loader, flujo.StepS("mark", lib.Mark))
