package realtime

import "github.com/flujo/flujo"

// Question is the body of POST /v1/answer.
type Question struct {
	Text string `json:"question"`
	// MaxTokens bounds the tokens the request may spend; 0 means
	// DefaultMaxTokens, and it may not exceed MaxTokensCap.
	MaxTokens int `json:"max_tokens,omitempty"`
}

// Query is a checked question with its search words.
type Query struct {
	Text  string
	Words []string
}

// Source is a documented configuration field given to the model.
type Source struct {
	Field       string
	Description string
	Allowed     string
	Default     string
}

// Prompt is what the model is asked.
type Prompt struct {
	Question string
	Sources  []Source
}

// Reply is the model's answer with what it cost.
type Reply struct {
	Text             string
	Sources          []string
	Model            string
	PromptTokens     int
	CompletionTokens int
	Cost             float64
}

// Usage reports the model call's cost and tokens.
func (a Reply) Usage() flujo.Usage {
	return flujo.Usage{Cost: a.Cost, PromptTokens: a.PromptTokens, CompletionTokens: a.CompletionTokens}
}
