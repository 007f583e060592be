package funcforms

import (
	"context"
	"strings"

	"github.com/flujo/flujo"
)

type Svc struct{ prefix string }

func (s *Svc) Tag(ctx context.Context, in string) (string, error) { return s.prefix + in, nil }

type Hooks struct {
	Clean func(context.Context, string) (string, error)
}

var svc = &Svc{prefix: ">"}

var hooks = Hooks{Clean: Trim}

// cleaner holds a function, known only at run time.
var cleaner = Trim

func Trim(ctx context.Context, s string) (string, error) { return strings.TrimSpace(s), nil }

func makeStep() func(context.Context, string) (string, error) { return Trim }

func Pick(s string) string { return s }

func Forms(ctx context.Context, s string) (string, error) { return s, nil }

var Literal = flujo.Step("literal", func(ctx context.Context, s string) (string, error) { return s, nil })

var FuncVar = flujo.Step("funcvar", cleaner)

var MethodValue = flujo.Step("methodvalue", svc.Tag)

var Computed = flujo.Step("computed", makeStep())

var Field = flujo.Step("field", hooks.Clean)

var Nil = flujo.Func[string, string]("nil", nil)

var Chooser = flujo.Branch("chooser", func(s string) string { return s }, map[string]flujo.Node{"a": flujo.Step("a", Forms)})

var Until = flujo.Loop("until", flujo.Step("body", Forms), nilPred)

var nilPred func(string) bool

var Validator = flujo.Step("validator", Forms, flujo.Validate(func(s string) error { return nil }))

var Joined = flujo.Parallel("joined", func(a, b string) string { return a + b }, flujo.Step("j1", Forms), flujo.Step("j2", Forms))

var NilChooser = flujo.Branch[string]("nilchooser", nil, map[string]flujo.Node{"a": flujo.Step("na", Forms)})

var countsVar = func(err error) bool { return true }

var CountsLiteral = flujo.Step("countsliteral", Forms, flujo.BreakerCounts(func(err error) bool { return false }))

var CountsVar = flujo.Step("countsvar", Forms, flujo.BreakerCounts(countsVar))
