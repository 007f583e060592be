// Package shapes declares every supported kind of node and option.
package shapes

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/flujo/flujo"
)

type Doc struct {
	Text  string
	Words []string
	Score int
}

type Svc struct{ Prefix string }

// Normalize is a method whose method expression Doc.Normalize is a
// func(Doc) Doc.
func (d Doc) Normalize() Doc { d.Text = strings.TrimSpace(d.Text); return d }

// Long is a chooser as a method expression.
func (d Doc) Long() string {
	if len(d.Text) > 100 {
		return "long"
	}
	return "short"
}

// Done is a loop predicate as a method expression.
func (d Doc) Done() bool { return d.Score >= 3 }

// Check validates an output.
func (d Doc) Check() error {
	if d.Text == "" {
		return errors.New("empty")
	}
	return nil
}

func Tokenize(ctx context.Context, d Doc) (Doc, error) {
	d.Words = strings.Fields(d.Text)
	return d, nil
}

func Improve(ctx context.Context, d Doc) (Doc, error) { d.Score++; return d, nil }

func Summarize(d Doc) Doc { return d }

func Backup(ctx context.Context, d Doc) (Doc, error) { return d, nil }

func LastResort(ctx context.Context, d Doc) (Doc, error) { return d, nil }

// Identity is generic; flujogen records its type arguments.
func Identity[T any](ctx context.Context, v T) (T, error) { return v, nil }

func Upper(s string) string { return strings.ToUpper(s) }

func Words(d Doc) []string { return d.Words }

func Count(ctx context.Context, ws []string) (int, error) { return len(ws), nil }

func JoinTwo(a Doc, b Doc) (Doc, error) { return a, nil }

// Option values may live in package-level variables initialised with
// option calls.
var slow = flujo.Timeout(2 * time.Second)

// Normalized is a step declared on its own and used by other declarations.
var Normalized = flujo.Func("normalize", Doc.Normalize)

var Rescue = flujo.Step("backup", Backup, flujo.Fallback(flujo.Step("last", LastResort)))

var Shapes = flujo.Pipeline("shapes",
	Normalized,
	flujo.Step("tokenize", Tokenize,
		flujo.Retries(3),
		flujo.Backoff(10*time.Millisecond, time.Second),
		slow,
		flujo.Validate(Doc.Check),
		flujo.Fallback(Rescue),
	),
	flujo.Loop("improve", flujo.Step("better", Improve), Doc.Done, flujo.MaxLoops(10)),
	flujo.Branch("size", Doc.Long, map[string]flujo.Node{
		"short": flujo.Func("keep", Summarize),
		"long":  flujo.Pipeline("shorten", flujo.Func("summarize", Summarize)),
	}, flujo.Default(flujo.Step("same", Identity[Doc]))),
	flujo.Parallel("both", JoinTwo,
		flujo.Step("id1", Identity[Doc], flujo.CacheTTL(time.Minute), flujo.ImmutableOutput()),
		flujo.Step("id2", Identity[Doc], flujo.BreakerCounts(Transient)),
	).With(flujo.OnBranchFailure(flujo.Ignore), flujo.Merge(flujo.KeepFirst)).With(flujo.Timeout(time.Second)),
).With(flujo.Timeout(5 * time.Second))

var Upcase = flujo.Map[string, string]("upcase", flujo.Func("upper", Upper), flujo.Concurrency(4))

var Counting = flujo.Pipeline("counting",
	flujo.Func("words", Words),
	flujo.Step("count", Count),
)

// NormalizedAgain names the same node as Normalized.
var NormalizedAgain = Normalized

var Again = flujo.Pipeline("again", NormalizedAgain)

// Transient is a breaker rule: only errors that say they are temporary count.
func Transient(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}
