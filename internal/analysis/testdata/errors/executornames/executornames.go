// Package executornames declares pipelines whose generated executor names
// are taken.
package executornames

import (
	"context"

	"github.com/flujo/flujo"
)

func Inc(_ context.Context, n int) (int, error) { return n + 1, nil }

// CheckoutExecutor is the user's own type, named as flujogen would name
// Checkout's executor.
type CheckoutExecutor struct{}

var Checkout = flujo.Pipeline("checkout", flujo.Step("inc", Inc))

// Fn's executor type would be the variable FnExecutor.
var Fn = flujo.Pipeline("fn", flujo.Step("inc", Inc))

var FnExecutor = flujo.Pipeline("fe", flujo.Step("inc", Inc))

// The constructor of a is newAExecutor, the type of newA's executor.
var a = flujo.Pipeline("a", flujo.Step("inc", Inc))

var newA = flujo.Pipeline("na", flujo.Step("inc", Inc))

func NewPlainExecutor() {}

var Plain = flujo.Pipeline("plain", flujo.Step("inc", Inc))

// A lower-case non-ASCII initial is upper-cased as a rune: newÑameExecutor.
var ñame = flujo.Pipeline("ñ", flujo.Step("inc", Inc))
