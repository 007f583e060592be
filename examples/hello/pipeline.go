package hello

import (
	"context"
	"errors"
	"strings"

	"github.com/flujo/flujo"
)

// Greeting normalizes a name and greets it.
var Greeting = flujo.Pipeline("greeting",
	flujo.Func("normalize", Normalize),
	flujo.Step("greet", Greet, flujo.Retries(0)),
)

// Normalize trims the spaces around name and lowers its case.
func Normalize(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// errNoName is the error of an empty name.
var errNoName = errors.New("hello: no name to greet: pass a non-empty name")

// Greet greets name. An empty name is bad input.
func Greet(_ context.Context, name string) (string, error) {
	if name == "" {
		return "", flujo.BadInput(errNoName)
	}
	return "Hello, " + name + "!", nil
}
