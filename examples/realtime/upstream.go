package realtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// UpstreamModel is the name the simulated model answers with.
const UpstreamModel = "sim-upstream"

// Mode is how the simulated upstream behaves.
type Mode int32

const (
	// Healthy answers every call.
	Healthy Mode = iota
	// Failing refuses every call with *UpstreamError.
	Failing
	// Hanging never answers: a call returns only when its context ends.
	Hanging
	// Garbled answers with an empty text.
	Garbled
)

func (m Mode) String() string {
	switch m {
	case Healthy:
		return "healthy"
	case Failing:
		return "failing"
	case Hanging:
		return "hanging"
	case Garbled:
		return "garbled"
	}
	return fmt.Sprintf("Mode(%d)", int32(m))
}

// Set sets m from its name ("healthy", "failing", "hanging" or "garbled"),
// so that a Mode is a flag.Value.
func (m *Mode) Set(name string) error {
	for c := Healthy; c <= Garbled; c++ {
		if c.String() == name {
			*m = c
			return nil
		}
	}
	return fmt.Errorf("unknown upstream mode %q; want healthy, failing, hanging or garbled", name)
}

// UpstreamError is a call the upstream model refused.
type UpstreamError struct{ Status int }

func (e *UpstreamError) Error() string {
	return fmt.Sprintf("upstream model answered HTTP %d", e.Status)
}

// Upstream simulates the hosted model the handler depends on. Its mode can
// be changed at any time; it is safe for concurrent use.
type Upstream struct {
	latency time.Duration
	mode    atomic.Int32
	calls   atomic.Int64
}

// NewUpstream returns a healthy upstream whose answers take latency.
func NewUpstream(latency time.Duration) (*Upstream, error) {
	if latency < 0 {
		return nil, fmt.Errorf("realtime: NewUpstream: latency is %v, want >= 0", latency)
	}
	return &Upstream{latency: latency}, nil
}

// SetMode changes how the upstream behaves from the next call on.
func (u *Upstream) SetMode(m Mode) { u.mode.Store(int32(m)) }

// Calls counts the calls that reached the upstream.
func (u *Upstream) Calls() int64 { return u.calls.Load() }

// Price of the upstream model, in dollars per 1000 tokens.
const upstreamPrice = 0.002

// systemPromptTokens is the fixed instruction sent with every prompt.
const systemPromptTokens = 60

func tokens(s string) int { return (len(s) + 3) / 4 }

// Complete asks the model to answer p.
func (u *Upstream) Complete(ctx context.Context, p Prompt) (Reply, error) {
	u.calls.Add(1)
	mode := Mode(u.mode.Load())
	if mode == Hanging {
		<-ctx.Done()
		return Reply{}, ctx.Err()
	}
	if u.latency > 0 {
		t := time.NewTimer(u.latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return Reply{}, ctx.Err()
		}
	}
	if mode == Failing {
		return Reply{}, &UpstreamError{Status: 503}
	}
	a := Reply{Model: UpstreamModel, PromptTokens: systemPromptTokens + tokens(p.Question)}
	var b strings.Builder
	if len(p.Sources) == 0 {
		b.WriteString("No configuration field matches the question.")
	}
	for i, s := range p.Sources {
		a.PromptTokens += tokens(s.Field) + tokens(s.Description) + tokens(s.Allowed)
		a.Sources = append(a.Sources, s.Field)
		if i > 0 {
			b.WriteString(" See also ")
			b.WriteString(s.Field)
			b.WriteString(".")
			continue
		}
		fmt.Fprintf(&b, "%s: %s It takes %s; the default is %s.", s.Field, s.Description, s.Allowed, s.Default)
	}
	if mode != Garbled {
		a.Text = b.String()
	}
	a.CompletionTokens = tokens(b.String())
	a.Cost = float64(a.PromptTokens+a.CompletionTokens) * upstreamPrice / 1000
	return a, nil
}

type upstreamKey struct{}

// WithUpstream returns a context that carries the model the generate step
// calls.
func WithUpstream(ctx context.Context, u *Upstream) context.Context {
	return context.WithValue(ctx, upstreamKey{}, u)
}

// ErrNoUpstream is the error of a step run without an *Upstream in its
// context.
var ErrNoUpstream = errors.New("realtime: no upstream in the context; wrap it with WithUpstream")

// UpstreamFrom returns the upstream ctx carries, or ErrNoUpstream.
func UpstreamFrom(ctx context.Context) (*Upstream, error) {
	if u, ok := ctx.Value(upstreamKey{}).(*Upstream); ok && u != nil {
		return u, nil
	}
	return nil, ErrNoUpstream
}
