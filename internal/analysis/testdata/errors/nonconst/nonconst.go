package nonconst

import (
	"context"
	"time"

	"github.com/flujo/flujo"
)

func Echo(ctx context.Context, s string) (string, error) { return s, nil }

func Key(s string) string { return s }

var retries = 3

var wait = 2 * time.Second

var name = "dynamic"

var steps = []flujo.Node{flujo.Step("s1", Echo)}

var opts = []flujo.Option{flujo.Retries(1)}

var cases = map[string]flujo.Node{"a": flujo.Step("a", Echo)}

var key = "k"

func build() flujo.Node { return flujo.Step("built", Echo) }

// notDSL is a node, but not initialised with a DSL call.
var notDSL = build()

var RuntimeRetries = flujo.Step("runtimeretries", Echo, flujo.Retries(retries))

var RuntimeTimeout = flujo.Step("runtimetimeout", Echo, flujo.Timeout(wait))

var RuntimeName = flujo.Step(name, Echo)

var Spread = flujo.Pipeline("spread", steps...)

var SpreadOpts = flujo.Step("spreadopts", Echo, opts...)

var Computed = flujo.Pipeline("computed", build(), notDSL)

var CasesVar = flujo.Branch("casesvar", Key, cases)

var CaseKey = flujo.Branch("casekey", Key, map[string]flujo.Node{key: flujo.Step("ck", Echo)})

var OptionValue = flujo.Step("optionvalue", Echo, opts[0])
