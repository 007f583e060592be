// Package viamid imports a package that does not compile through one that
// does.
package viamid

import (
	"github.com/flujo/flujo"

	"example.com/flujotest/loaderr/depbroken/mid"
)

var Quad = flujo.Func("quad", mid.Quad)
