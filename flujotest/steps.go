// Package flujotest is the semantics suite of flujo: one test per rule of
// the executor semantics, written against the small Engine interface so that
// every engine (the dynamic ExecutorCore, generated executors) runs the same
// suite. The declarations it runs are package-level variables built from
// named functions, as the code generator requires.
package flujotest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/flujo/flujo"
)

// Job is the input and output of most suite steps. Its fields tell the
// steps how to behave, so the steps themselves hold no state.
type Job struct {
	Name string
	// FailFirst is how many calls of a step fail before one succeeds.
	FailFirst int
	// Calls counts the calls of every step, by step function.
	Calls *Calls
	// Cost and Tokens are the usage the job reports as an output.
	Cost   float64
	Tokens int
}

// Usage reports the job's cost, so every step returning a Job charges it.
func (j Job) Usage() flujo.Usage { return flujo.Usage{Cost: j.Cost, PromptTokens: j.Tokens} }

// Calls counts calls by name; safe for concurrent use.
type Calls struct {
	mu sync.Mutex
	m  map[string]int
}

// NewCalls returns an empty counter.
func NewCalls() *Calls { return &Calls{m: map[string]int{}} }

func (c *Calls) inc(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[name]++
	return c.m[name]
}

// Hash64 leaves the counter out of cache keys: it says how often steps
// ran, not what a job is.
func (c *Calls) Hash64() uint64 { return 0 }

// Count returns how often name was called.
func (c *Calls) Count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[name]
}

// ErrBoom is the error of Fail.
var ErrBoom = errors.New("boom")

// Echo returns its input.
func Echo(_ context.Context, j Job) (Job, error) {
	j.Calls.inc("echo")
	return j, nil
}

// Flaky fails its first j.FailFirst calls.
func Flaky(_ context.Context, j Job) (Job, error) {
	if j.Calls.inc("flaky") <= j.FailFirst {
		return Job{}, errors.New("flaky failure")
	}
	return j, nil
}

// Fail always fails with ErrBoom.
func Fail(_ context.Context, j Job) (Job, error) {
	j.Calls.inc("fail")
	return Job{}, ErrBoom
}

// FailToo always fails, with another message.
func FailToo(_ context.Context, j Job) (Job, error) {
	j.Calls.inc("failtoo")
	return Job{}, errors.New("fallback broke")
}

// Rescue renames the job "rescued".
func Rescue(_ context.Context, j Job) (Job, error) {
	j.Calls.inc("rescue")
	j.Name = "rescued"
	return j, nil
}

// Panic panics.
func Panic(_ context.Context, j Job) (Job, error) {
	j.Calls.inc("panic")
	panic("kaboom")
}

// Block waits until ctx is done.
func Block(ctx context.Context, j Job) (Job, error) {
	j.Calls.inc("block")
	<-ctx.Done()
	return Job{}, ctx.Err()
}

// Draft names the job "draft" on its first j.FailFirst calls and "final"
// afterwards.
func Draft(_ context.Context, j Job) (Job, error) {
	if j.Calls.inc("draft") <= j.FailFirst {
		j.Name = "draft"
	} else {
		j.Name = "final"
	}
	return j, nil
}

// MustBeFinal rejects jobs not named "final".
func MustBeFinal(j Job) error {
	if j.Name != "final" {
		return fmt.Errorf("name is %q, want \"final\"", j.Name)
	}
	return nil
}

// Tags returns a fresh slice naming the job; it fails its first
// j.FailFirst calls.
func Tags(_ context.Context, j Job) ([]string, error) {
	if j.Calls.inc("tags") <= j.FailFirst {
		return nil, errors.New("tags unavailable")
	}
	return []string{j.Name, "tagged"}, nil
}

// Quote is an output that JSON does not carry whole: its currency is
// unexported.
type Quote struct {
	Items    []string
	currency string
}

// Currency returns the quote's currency.
func (q Quote) Currency() string { return q.currency }

// QuoteJob quotes j in euros.
func QuoteJob(_ context.Context, j Job) (Quote, error) {
	j.Calls.inc("quote")
	return Quote{Items: []string{j.Name}, currency: "EUR"}, nil
}

// BoxJob returns j's tags behind an interface.
func BoxJob(_ context.Context, j Job) (any, error) {
	j.Calls.inc("box")
	return []string{j.Name, "boxed"}, nil
}

// AddOne increments.
func AddOne(_ context.Context, n int) (int, error) { return n + 1, nil }

// AtLeast3 is a loop exit condition.
func AtLeast3(n int) bool { return n >= 3 }

// Never is a loop exit condition that never holds.
func Never(int) bool { return false }

// ByName chooses the branch named like the job.
func ByName(j Job) string { return j.Name }

// Suffix returns a step function that appends s to the job's name.
func suffix(s string) func(context.Context, Job) (Job, error) {
	return func(_ context.Context, j Job) (Job, error) {
		j.Name += s
		return j, nil
	}
}

// Upper marks the job as handled by the "upper" case.
func Upper(ctx context.Context, j Job) (Job, error) { return suffix("+upper")(ctx, j) }

// Lower marks the job as handled by the "lower" case.
func Lower(ctx context.Context, j Job) (Job, error) { return suffix("+lower")(ctx, j) }

// Other marks the job as handled by the default case.
func Other(ctx context.Context, j Job) (Job, error) { return suffix("+other")(ctx, j) }

// State is the pipeline state of the suite's state steps.
type State struct {
	A, B string
	Log  []string
}

// WriteA sets State.A.
func WriteA(_ context.Context, j Job, s *State) (Job, error) {
	s.A = "a1"
	return j, nil
}

// WriteA2 sets State.A too, to another value.
func WriteA2(_ context.Context, j Job, s *State) (Job, error) {
	s.A = "a2"
	return j, nil
}

// MaybeWriteX sets State.A to "x" when the job's name contains an x.
func MaybeWriteX(_ context.Context, j Job, s *State) (Job, error) {
	if strings.Contains(j.Name, "x") {
		s.A = "x"
	}
	return j, nil
}

// MaybeWriteY sets State.A to "y" when the job's name contains a y.
func MaybeWriteY(_ context.Context, j Job, s *State) (Job, error) {
	if strings.Contains(j.Name, "y") {
		s.A = "y"
	}
	return j, nil
}

// WriteB sets State.B.
func WriteB(_ context.Context, j Job, s *State) (Job, error) {
	s.B = "b"
	return j, nil
}

// LogThenFlake appends to State.Log, then fails its first j.FailFirst calls.
func LogThenFlake(_ context.Context, j Job, s *State) (Job, error) {
	n := j.Calls.inc("logflake")
	s.Log = append(s.Log, fmt.Sprintf("attempt %d", n))
	if n <= j.FailFirst {
		return Job{}, errors.New("flaky after writing")
	}
	return j, nil
}

// ReadState fails unless State.A is set.
func ReadState(_ context.Context, j Job, s *State) (Job, error) {
	if s.A == "" {
		return Job{}, errors.New("A not set")
	}
	j.Name = s.A
	return j, nil
}

// JoinTwo joins two branch outputs by their names.
func JoinTwo(a, b Job) Job {
	a.Name = a.Name + "|" + b.Name
	return a
}

// JoinThree joins three branch outputs by their names.
func JoinThree(a, b, c Job) Job {
	a.Name = a.Name + "|" + b.Name + "|" + c.Name
	return a
}
