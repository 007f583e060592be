package notloaded

import (
	"github.com/flujo/flujo"
	"github.com/flujo/flujo/flujotest"
)

// flujotest.FlakyDefault is declared in another module, whose declarations
// are not read.
var Orders = flujo.Pipeline("orders", flujotest.FlakyDefault, flujo.Step("echo", flujotest.Echo))
