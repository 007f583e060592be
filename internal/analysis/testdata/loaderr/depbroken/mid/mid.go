// Package mid compiles, but imports a package that does not.
package mid

import "example.com/flujotest/loaderr/depbroken/bad"

func Quad(n int) int { return bad.Double(bad.Double(n)) }
