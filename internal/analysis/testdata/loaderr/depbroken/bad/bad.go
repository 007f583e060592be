// Package bad does not compile.
package bad

func Double(n int) int { return "twice" }

var Default = Nowhere
