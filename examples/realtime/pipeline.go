package realtime

import (
	"time"

	"github.com/flujo/flujo"
)

// Token budgets of a request.
const (
	// DefaultMaxTokens is the budget of a request that names none.
	DefaultMaxTokens = 1000
	// MaxTokensCap is the largest budget a request may ask for.
	MaxTokensCap = 4000
)

// GenerateTimeout bounds one attempt of the upstream model.
const GenerateTimeout = 200 * time.Millisecond

// Answer answers a question from the configuration's documentation.
var Answer = flujo.Pipeline("answer",
	flujo.Step("parse", ParseQuestion, flujo.Retries(0)),
	flujo.Func("retrieve", Retrieve),
	flujo.Step("generate", Generate,
		flujo.Timeout(GenerateTimeout),
		flujo.Retries(1),
		flujo.Validate(ValidReply),
	),
)
