package flujotest

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/flujo/flujo"
)

// The declarations of the rule on panics while computing a cache key.
var (
	// CachedKeyPanics is a cached step whose input's Hash64 and MarshalJSON
	// panic for a Query marked Panics.
	CachedKeyPanics = flujo.Step("answer", Answer, flujo.Cache(), flujo.Retries(0))
	// CachedKeyPanicsNested keys on a Query held in a field of its input.
	CachedKeyPanicsNested = flujo.Step("answer", AnswerHeld, flujo.Cache(), flujo.Retries(0))
	// CachedKeyPanicsFan runs CachedKeyPanics's step as a Parallel branch,
	// on a goroutine of its own.
	CachedKeyPanicsFan = flujo.Parallel("fan", JoinAnswers,
		flujo.Step("answer", Answer, flujo.Cache(), flujo.Retries(0)), flujo.Step("other", Answer, flujo.Retries(0)))
)

// ErrKeyPanicked is what a Query marked Panics panics with when hashed or
// encoded.
var ErrKeyPanicked = errors.New("query cannot be keyed")

// Query is an input that hashes and encodes itself; both methods panic with
// ErrKeyPanicked when Panics is set, MarshalJSON alone when JSONPanics is.
type Query struct {
	Text       string
	Panics     bool
	JSONPanics bool
	Calls      *Calls
}

// Hash64 implements runtime.Hashable.
func (q Query) Hash64() uint64 {
	if q.Panics {
		panic(ErrKeyPanicked)
	}
	var h uint64 = 14695981039346656037
	for i := 0; i < len(q.Text); i++ {
		h = (h ^ uint64(q.Text[i])) * 1099511628211
	}
	return h
}

// MarshalJSON implements json.Marshaler.
func (q Query) MarshalJSON() ([]byte, error) {
	if q.Panics || q.JSONPanics {
		panic(ErrKeyPanicked)
	}
	return json.Marshal(q.Text)
}

// HeldQuery holds a Query in a field.
type HeldQuery struct{ Q Query }

// Answer answers a query, counting its calls as "answer".
func Answer(_ context.Context, q Query) (string, error) {
	q.Calls.inc("answer")
	return "answer to " + q.Text, nil
}

// AnswerHeld answers the held query.
func AnswerHeld(ctx context.Context, h HeldQuery) (string, error) { return Answer(ctx, h.Q) }

// JoinAnswers joins two answers into the first.
func JoinAnswers(a, _ string) string { return a }
