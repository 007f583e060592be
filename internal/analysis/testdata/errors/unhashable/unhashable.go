package unhashable

import (
	"context"

	"github.com/flujo/flujo"
)

type Request struct {
	URL      string
	Callback func(string)
}

type Batch struct {
	Name  string
	Parts []Part
}

type Part struct {
	Done chan struct{}
}

func Fetch(ctx context.Context, r Request) (string, error) { return r.URL, nil }
func Run(ctx context.Context, b Batch) (int, error)        { return len(b.Parts), nil }

var Fetcher = flujo.Step("fetch", Fetch, flujo.Cache())

var Runner = flujo.Pipeline("runner", flujo.Func("name", func0).With(), flujo.Step("run", Run, flujo.Cache()))

func func0(b Batch) Batch { return b }

// flujo.json turns the cache on for cfghash.call.
var Configured = flujo.Pipeline("cfghash", flujo.Step("call", Fetch))
