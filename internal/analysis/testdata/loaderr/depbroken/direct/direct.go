// Package direct imports a package that does not compile.
package direct

import (
	"github.com/flujo/flujo"

	"example.com/flujotest/loaderr/depbroken/bad"
)

var Twice = flujo.Func("double", bad.Double)
