package join

import (
	"context"

	"github.com/flujo/flujo"
)

type A struct{}
type B struct{}
type C struct{}

func MakeA(ctx context.Context, s string) (A, error) { return A{}, nil }
func MakeB(ctx context.Context, s string) (B, error) { return B{}, nil }
func TakeS(ctx context.Context, n int) (B, error)    { return B{}, nil }

func JoinAC(a A, c C) C          { return c }
func JoinOne(a A) C              { return C{} }
func JoinMany(as ...A) C         { return C{} }
func JoinBad(a A, b B) (C, int)  { return C{}, 0 }
func JoinNone(a A, b B)          {}
func JoinOK(a A, b B) (C, error) { return C{}, nil }

// The second branch produces B, but the join's second parameter is C.
var WrongParam = flujo.Parallel("wrongparam", JoinAC,
	flujo.Step("a", MakeA),
	flujo.Step("b", MakeB),
)

var WrongCount = flujo.Parallel("wrongcount", JoinOne,
	flujo.Step("a", MakeA),
	flujo.Step("b", MakeB),
)

var Variadic = flujo.Parallel("variadic", JoinMany, flujo.Step("a", MakeA))

var BadResults = flujo.Parallel("badresults", JoinBad, flujo.Step("a", MakeA), flujo.Step("b", MakeB))

var NoResults = flujo.Parallel("noresults", JoinNone, flujo.Step("a", MakeA), flujo.Step("b", MakeB))

// The branches must all take the parallel's input.
var WrongInput = flujo.Parallel("wronginput", JoinOK, flujo.Step("a", MakeA), flujo.Step("b", TakeS))
