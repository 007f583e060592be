// Package stress holds pipelines whose committed executors the stress tests
// run from many goroutines under random cancellation: Parallel under every
// merge strategy and branch-failure policy, concurrent Map, Timeout,
// fallback and cached steps. Steps that ignore their context let the
// executor reuse pooled cancel scopes; the others use it. Every output
// carries its run's ID, so a result or a state write that leaks from one
// run into another shows.
package stress

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/flujo/flujo"
)

// Mode bits tell a step what to do with one item.
const (
	FailA  = 1 << iota // steps tagged "a" fail
	PanicB             // steps tagged "b" panic
	BlockC             // steps tagged "c" block (until their context is done when they use it, else Nap)
	FailC              // steps tagged "c" fail
	SlowM              // Map steps wait a little
)

// Nap is how long a step that ignores its context blocks.
const Nap = 3 * time.Millisecond

// Item is one run's input and output.
type Item struct {
	ID   int
	Mode int
	// Tags lists the steps the item went through, each with the ID it saw.
	Tags []string
}

// Usage reports one unit of cost per step the item went through.
func (it Item) Usage() flujo.Usage {
	return flujo.Usage{Cost: float64(len(it.Tags)), PromptTokens: len(it.Tags)}
}

// State is written by branches, each field with its run's ID.
type State struct {
	ID      int
	A, B, C int
}

// ErrStep is what failing steps return.
var ErrStep = errors.New("stress: step failed")

func act(ctx context.Context, it Item, tag string, fail, panics, block bool) (Item, error) {
	if block {
		if ctx == nil {
			time.Sleep(Nap)
		} else {
			<-ctx.Done()
			return Item{}, ctx.Err()
		}
	}
	if panics {
		panic("stress: " + tag + " panicked")
	}
	if fail {
		return Item{}, ErrStep
	}
	it.Tags = append(slices.Clip(it.Tags), tag+strconv.Itoa(it.ID))
	return it, nil
}

// QuietA ignores its context; it writes State.A.
func QuietA(_ context.Context, it Item, s *State) (Item, error) {
	out, err := act(nil, it, "a", it.Mode&FailA != 0, false, false)
	if err == nil {
		s.A = it.ID
	}
	return out, err
}

// QuietB ignores its context; it writes State.B.
func QuietB(_ context.Context, it Item, s *State) (Item, error) {
	out, err := act(nil, it, "b", false, it.Mode&PanicB != 0, false)
	if err == nil {
		s.B = it.ID
	}
	return out, err
}

// QuietC ignores its context.
func QuietC(_ context.Context, it Item) (Item, error) {
	return act(nil, it, "c", it.Mode&FailC != 0, false, it.Mode&BlockC != 0)
}

// LoudA uses its context; it writes State.A.
func LoudA(ctx context.Context, it Item, s *State) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	out, err := act(ctx, it, "a", it.Mode&FailA != 0, false, false)
	if err == nil {
		s.A = it.ID
	}
	return out, err
}

// LoudB uses its context; it writes State.B.
func LoudB(ctx context.Context, it Item, s *State) (Item, error) {
	out, err := act(ctx, it, "b", false, it.Mode&PanicB != 0, false)
	if err == nil {
		s.B = it.ID
	}
	return out, err
}

// LoudC uses its context.
func LoudC(ctx context.Context, it Item) (Item, error) {
	return act(ctx, it, "c", it.Mode&FailC != 0, false, it.Mode&BlockC != 0)
}

// Rescue is a fallback.
func Rescue(_ context.Context, it Item) (Item, error) { return act(nil, it, "r", false, false, false) }

// Seed records the run's ID in the state.
func Seed(_ context.Context, it Item, s *State) (Item, error) {
	s.ID = it.ID
	return act(nil, it, "s", false, false, false)
}

// QuietM is a Map step that ignores its context.
func QuietM(_ context.Context, it Item) (Item, error) {
	if it.Mode&SlowM != 0 {
		time.Sleep(time.Duration(it.ID%3) * 100 * time.Microsecond)
	}
	return act(nil, it, "m", it.Mode&FailA != 0, it.Mode&PanicB != 0, false)
}

// LoudM is a Map step that uses its context.
func LoudM(ctx context.Context, it Item) (Item, error) {
	if it.Mode&SlowM != 0 {
		select {
		case <-ctx.Done():
			return Item{}, ctx.Err()
		case <-time.After(time.Duration(it.ID%3) * 100 * time.Microsecond):
		}
	}
	return act(ctx, it, "m", it.Mode&FailA != 0, it.Mode&PanicB != 0, it.Mode&BlockC != 0)
}

// Join3 concatenates the branches' tags in branch order. A failed branch
// ignored by the Parallel gives a zero item.
func Join3(a, b, c Item) Item {
	a.ID = max(a.ID, b.ID, c.ID)
	a.Tags = slices.Concat(a.Tags, b.Tags, c.Tags)
	return a
}

// Join2 concatenates the branches' tags in branch order.
func Join2(a, b Item) Item {
	a.ID = max(a.ID, b.ID)
	a.Tags = slices.Concat(a.Tags, b.Tags)
	return a
}

// The Parallels whose steps all ignore their context: their cancel scopes
// come from the pool.
var (
	QuietUpdate    = flujo.Parallel("qfan", Join3, flujo.StepS("qa", QuietA, flujo.Retries(0)), flujo.StepS("qb", QuietB, flujo.Retries(0)), flujo.Step("qc", QuietC, flujo.Retries(0)))
	QuietConflict  = QuietUpdate.With(flujo.Merge(flujo.ErrorOnConflict))
	QuietKeepFirst = QuietUpdate.With(flujo.Merge(flujo.KeepFirst))
	QuietNoMerge   = QuietUpdate.With(flujo.Merge(flujo.NoMerge))
	QuietIgnore    = QuietUpdate.With(flujo.OnBranchFailure(flujo.Ignore))
	// QuietTimeout abandons a step that overruns its timeout.
	QuietTimeout = flujo.Parallel("qtfan", Join2, flujo.StepS("qa", QuietA, flujo.Retries(0)), flujo.Step("qc", QuietC, flujo.Retries(0), flujo.Timeout(time.Millisecond)))
)

// The Parallels whose steps use their context.
var (
	LoudUpdate    = flujo.Parallel("lfan", Join3, flujo.StepS("la", LoudA, flujo.Retries(0)), flujo.StepS("lb", LoudB, flujo.Retries(0), flujo.Fallback(flujo.Step("lr", Rescue))), flujo.Step("lc", LoudC, flujo.Retries(0), flujo.Timeout(20*time.Millisecond)))
	LoudConflict  = LoudUpdate.With(flujo.Merge(flujo.ErrorOnConflict))
	LoudKeepFirst = LoudUpdate.With(flujo.Merge(flujo.KeepFirst))
	LoudNoMerge   = LoudUpdate.With(flujo.Merge(flujo.NoMerge))
	LoudIgnore    = LoudUpdate.With(flujo.OnBranchFailure(flujo.Ignore))
)

// Sequences around the Parallels, with the state seeded by the run.
var (
	QuietSeq = flujo.Pipeline("qseq", flujo.StepS("seed", Seed), flujo.Parallel("qfan", Join3, flujo.StepS("qa", QuietA, flujo.Retries(0)), flujo.StepS("qb", QuietB, flujo.Retries(0)), flujo.Step("qc", QuietC, flujo.Retries(0), flujo.Cache())))
	LoudSeq  = flujo.Pipeline("lseq", flujo.StepS("seed", Seed), flujo.Parallel("lfan", Join3, flujo.StepS("la", LoudA, flujo.Retries(0)), flujo.StepS("lb", LoudB, flujo.Retries(0)), flujo.Step("lc", LoudC, flujo.Retries(0), flujo.Cache(), flujo.Timeout(20*time.Millisecond))))
)

// Concurrent Maps.
var (
	QuietMap = flujo.Map[Item, Item]("qmap", flujo.Step("qm", QuietM, flujo.Retries(0)), flujo.Concurrency(4))
	LoudMap  = flujo.Map[Item, Item]("lmap", flujo.Step("lm", LoudM, flujo.Retries(0), flujo.Cache()), flujo.Concurrency(4))
	// MapFan runs a Parallel per element.
	MapFan = flujo.Map[Item, Item]("mfan", flujo.Parallel("inner", Join2, flujo.Step("qc", QuietC, flujo.Retries(0)), flujo.Step("qm", QuietM, flujo.Retries(0))), flujo.Concurrency(3))
)
