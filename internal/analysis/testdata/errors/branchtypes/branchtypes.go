package branchtypes

import (
	"context"

	"github.com/flujo/flujo"
)

type Req struct{ Kind string }

func Kind(r Req) string { return r.Kind }

func ToText(ctx context.Context, r Req) (string, error)  { return r.Kind, nil }
func ToCode(ctx context.Context, r Req) (int, error)     { return 0, nil }
func FromInt(ctx context.Context, n int) (string, error) { return "", nil }

// Case "b" produces int where case "a" produces string; case "c" takes int.
var Route = flujo.Branch("route", Kind, map[string]flujo.Node{
	"a": flujo.Step("text", ToText),
	"b": flujo.Step("code", ToCode),
	"c": flujo.Step("fromint", FromInt),
})
