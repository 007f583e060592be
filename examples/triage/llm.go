package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Models the simulation knows.
const (
	// LargeModel is accurate, expensive and sometimes overloaded.
	LargeModel = "sim-large"
	// SmallModel is cheap and always available, reads at most
	// smallBodyTokens of a body and is less sure of its answers.
	SmallModel = "sim-small"
)

// modelSpec is a model's price list and limits.
type modelSpec struct {
	contextTokens    int
	promptPrice      float64 // dollars per 1000 prompt tokens
	completionPrice  float64 // dollars per 1000 completion tokens
	completionTokens int     // tokens of a classification answer
	minConfidence    float64
	maxConfidence    float64
}

func specOf(model string) modelSpec {
	if model == LargeModel {
		return modelSpec{contextTokens: 4000, promptPrice: 0.010, completionPrice: 0.030, completionTokens: 60, minConfidence: 0.80, maxConfidence: 0.99}
	}
	return modelSpec{contextTokens: 1000, promptPrice: 0.0005, completionPrice: 0.0015, completionTokens: 40, minConfidence: 0.55, maxConfidence: 0.75}
}

// systemPromptTokens is the fixed instruction sent with every ticket.
const systemPromptTokens = 120

// tokens estimates the tokens of s: about four bytes each.
func tokens(s string) int { return (len(s) + 3) / 4 }

// OverloadedError is a model's refusal to answer now. A later attempt may
// succeed.
type OverloadedError struct{ Model string }

func (e *OverloadedError) Error() string {
	return fmt.Sprintf("model %s is overloaded (HTTP 529), try again", e.Model)
}

// ContextLengthError is a prompt longer than the model's context window.
// Retrying the same prompt cannot succeed, so it declares itself permanent
// and the executor skips the retries.
type ContextLengthError struct {
	Model         string
	Tokens, Limit int
}

func (e *ContextLengthError) Error() string {
	return fmt.Sprintf("model %s: prompt of %d tokens exceeds the context window of %d", e.Model, e.Tokens, e.Limit)
}

// Permanent reports that retrying is futile.
func (e *ContextLengthError) Permanent() bool { return true }

// EmptyPromptError is a ticket with nothing to read.
type EmptyPromptError struct{ Model string }

func (e *EmptyPromptError) Error() string {
	return fmt.Sprintf("model %s: ticket has no subject and no body", e.Model)
}

// Permanent reports that retrying is futile.
func (e *EmptyPromptError) Permanent() bool { return true }

// ErrNoModel is the error of a step run without a *SimLLM in its context.
var ErrNoModel = errors.New("triage: no model in the context; wrap it with WithLLM")

// SimConfig tunes the simulation.
type SimConfig struct {
	// Seed makes the outcomes reproducible.
	Seed uint64
	// MaxLatency bounds the simulated time a call takes; 0 answers at once.
	MaxLatency time.Duration
	// OverloadPercent of the large model's calls fail with *OverloadedError.
	OverloadPercent int
	// MalformedPercent of the large model's calls return an answer that
	// does not validate.
	MalformedPercent int
}

// SimLLM simulates a hosted language model: each call waits, may fail, and
// costs tokens. A call's outcome is drawn from a generator seeded with the
// seed, the model, the ticket and the number of earlier calls for that
// ticket, so a run is reproducible whatever the order of concurrent calls.
// It is safe for concurrent use.
type SimLLM struct {
	cfg   SimConfig
	mu    sync.Mutex
	calls map[simCallKey]uint64
	stats map[string]*ModelCalls
}

type simCallKey struct{ model, ticket string }

// ModelCalls counts one model's calls by outcome.
type ModelCalls struct {
	Calls, Overloaded, Malformed, Rejected int
}

// NewSimLLM returns a simulated model, or an error naming the setting that
// is out of range.
func NewSimLLM(cfg SimConfig) (*SimLLM, error) {
	var problems []string
	if cfg.MaxLatency < 0 {
		problems = append(problems, fmt.Sprintf("MaxLatency is %v, want >= 0", cfg.MaxLatency))
	}
	if cfg.OverloadPercent < 0 || cfg.OverloadPercent > 100 {
		problems = append(problems, fmt.Sprintf("OverloadPercent is %d, want 0..100", cfg.OverloadPercent))
	}
	if cfg.MalformedPercent < 0 || cfg.MalformedPercent > 100 {
		problems = append(problems, fmt.Sprintf("MalformedPercent is %d, want 0..100", cfg.MalformedPercent))
	}
	if cfg.OverloadPercent+cfg.MalformedPercent > 100 {
		problems = append(problems, fmt.Sprintf("OverloadPercent+MalformedPercent is %d, want <= 100", cfg.OverloadPercent+cfg.MalformedPercent))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("triage: SimConfig: %s", strings.Join(problems, "; "))
	}
	return &SimLLM{cfg: cfg, calls: map[simCallKey]uint64{}, stats: map[string]*ModelCalls{}}, nil
}

// Calls returns the calls made so far, by model.
func (s *SimLLM) Calls() map[string]ModelCalls {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]ModelCalls, len(s.stats))
	for m, c := range s.stats {
		out[m] = *c
	}
	return out
}

// call counts a call and returns its generator.
func (s *SimLLM) call(model, ticket string) *rand.Rand {
	s.mu.Lock()
	k := simCallKey{model, ticket}
	n := s.calls[k]
	s.calls[k] = n + 1
	st := s.stats[model]
	if st == nil {
		st = &ModelCalls{}
		s.stats[model] = st
	}
	st.Calls++
	s.mu.Unlock()
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d", model, ticket, n)
	return rand.New(rand.NewPCG(s.cfg.Seed, h.Sum64()))
}

func (s *SimLLM) count(model string, f func(*ModelCalls)) {
	s.mu.Lock()
	f(s.stats[model])
	s.mu.Unlock()
}

// wait simulates the call's latency; it returns early with ctx's error.
func (s *SimLLM) wait(ctx context.Context, r *rand.Rand) error {
	if s.cfg.MaxLatency <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(time.Duration(r.Int64N(int64(s.cfg.MaxLatency) + 1)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Classify asks model for the category and priority of t.
func (s *SimLLM) Classify(ctx context.Context, model string, t Ticket) (Classification, error) {
	r := s.call(model, t.ID)
	if err := s.wait(ctx, r); err != nil {
		return Classification{}, err
	}
	spec := specOf(model)
	if strings.TrimSpace(t.Subject+t.Body) == "" {
		s.count(model, func(c *ModelCalls) { c.Rejected++ })
		return Classification{}, &EmptyPromptError{Model: model}
	}
	prompt := systemPromptTokens + tokens(t.Subject) + tokens(t.Body)
	if prompt > spec.contextTokens {
		s.count(model, func(c *ModelCalls) { c.Rejected++ })
		return Classification{}, &ContextLengthError{Model: model, Tokens: prompt, Limit: spec.contextTokens}
	}
	roll := r.IntN(100)
	if model == LargeModel && roll < s.cfg.OverloadPercent {
		s.count(model, func(c *ModelCalls) { c.Overloaded++ })
		return Classification{}, &OverloadedError{Model: model}
	}
	category, priority := read(t.Subject + "\n" + t.Body)
	c := Classification{
		Ticket:           t,
		Category:         category,
		Priority:         priority,
		Confidence:       spec.minConfidence + (spec.maxConfidence-spec.minConfidence)*r.Float64(),
		Model:            model,
		PromptTokens:     prompt,
		CompletionTokens: spec.completionTokens,
	}
	c.Cost = (float64(c.PromptTokens)*spec.promptPrice + float64(c.CompletionTokens)*spec.completionPrice) / 1000
	if model == LargeModel && roll < s.cfg.OverloadPercent+s.cfg.MalformedPercent {
		s.count(model, func(c *ModelCalls) { c.Malformed++ })
		// The answer arrives, and is paid for, but makes no sense.
		switch r.IntN(3) {
		case 0:
			c.Category = "urgent!!"
		case 1:
			c.Priority = "P0"
		default:
			c.Confidence = 1 + c.Confidence
		}
	}
	return c, nil
}

// Sentiment scores how t sounds on the small model; flags are the phrases
// that moved the score, in the order of the lexicon.
func (s *SimLLM) Sentiment(ctx context.Context, t Ticket) (Sentiment, []string, error) {
	r := s.call(SmallModel, t.ID+"/sentiment")
	if err := s.wait(ctx, r); err != nil {
		return Sentiment{}, nil, err
	}
	text := strings.ToLower(t.Subject + "\n" + t.Body)
	lexicon := [...]struct {
		phrase string
		score  int
	}{
		{"unacceptable", -2},
		{"third time", -2},
		{"again", -1},
		{"frustrat", -2},
		{"cancel", -1},
		{"asap", -1},
		{"thanks", 1},
		{"love", 2},
		{"great", 1},
	}
	var out Sentiment
	var flags []string
	for _, w := range lexicon {
		if strings.Contains(text, w.phrase) {
			out.Score += w.score
			flags = append(flags, w.phrase)
		}
	}
	switch {
	case out.Score <= -2:
		out.Label = SentimentAngry
	case out.Score >= 2:
		out.Label = SentimentHappy
	default:
		out.Label = SentimentNeutral
	}
	spec := specOf(SmallModel)
	out.Tokens = systemPromptTokens + min(tokens(t.Subject)+tokens(t.Body), spec.contextTokens-systemPromptTokens)
	out.Cost = float64(out.Tokens) * spec.promptPrice / 1000
	return out, flags, nil
}

// rule maps trigger phrases to a category and a priority.
type rule struct {
	phrases  []string
	category string
	priority string
}

// read is what a model makes of a ticket: the first rule with a phrase in
// the text wins.
func read(text string) (category, priority string) {
	text = strings.ToLower(text)
	rules := [...]rule{
		{[]string{"outage", "is down", "are down", "data loss", "all pipelines"}, CategoryOutage, P1},
		{[]string{"charged", "invoice", "refund", "billing"}, CategoryBilling, P2},
		{[]string{"feature request", "would be nice", "please add"}, CategoryFeature, P4},
		{[]string{"panic", "crash", "error", "never closes", "wrong", "slow"}, CategoryBug, P2},
		{[]string{"how do i", "how to", "documentation", "?"}, CategoryHowTo, P3},
	}
	for _, r := range rules {
		for _, p := range r.phrases {
			if strings.Contains(text, p) {
				return r.category, r.priority
			}
		}
	}
	return CategoryHowTo, P3
}

type llmKey struct{}

// WithLLM returns a context that carries the model the steps call.
func WithLLM(ctx context.Context, llm *SimLLM) context.Context {
	return context.WithValue(ctx, llmKey{}, llm)
}

// LLMFrom returns the model ctx carries, or ErrNoModel.
func LLMFrom(ctx context.Context) (*SimLLM, error) {
	if llm, ok := ctx.Value(llmKey{}).(*SimLLM); ok && llm != nil {
		return llm, nil
	}
	return nil, ErrNoModel
}
