package flujotest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo"
)

// The declarations of the concurrency-limiter rules.
var (
	// IOBurst waits, as an I/O-bound step waits on its upstream, until every
	// caller of its Gathering is inside.
	IOBurst = flujo.Step("io", WaitForAll, flujo.Retries(0))
	// Held stays inside until its Gathering opens.
	Held = flujo.Step("held", HoldUntilOpen, flujo.Retries(0))
)

// Gathering is shared by the concurrent callers of a limiter rule. Its
// Hash64 leaves it out of cache keys.
type Gathering struct {
	want     int64
	inside   atomic.Int64
	all      chan struct{}
	allOnce  sync.Once
	open     chan struct{}
	entered  chan struct{}
	patience time.Duration
}

// NewGathering returns a gathering that WaitForAll completes when want
// callers are inside; patience bounds their wait, as a failure.
func NewGathering(want int, patience time.Duration) *Gathering {
	return &Gathering{want: int64(want), all: make(chan struct{}), open: make(chan struct{}),
		entered: make(chan struct{}, want), patience: patience}
}

// Hash64 leaves the gathering out of cache keys.
func (g *Gathering) Hash64() uint64 { return 0 }

// Open lets every HoldUntilOpen caller finish.
func (g *Gathering) Open() { close(g.open) }

// Inside returns how many callers entered so far.
func (g *Gathering) Inside() int { return int(g.inside.Load()) }

// Entered is sent one value per caller of HoldUntilOpen that entered.
func (g *Gathering) Entered() <-chan struct{} { return g.entered }

// Arrival is the input of the limiter rules' steps.
type Arrival struct {
	G *Gathering
}

// WaitForAll enters the gathering and returns once every expected caller
// is inside; it fails if they are not all inside within the gathering's
// patience (a throttled burst) or the context ends.
func WaitForAll(ctx context.Context, a Arrival) (Arrival, error) {
	g := a.G
	if g.inside.Add(1) == g.want {
		g.allOnce.Do(func() { close(g.all) })
	}
	t := time.NewTimer(g.patience)
	defer t.Stop()
	select {
	case <-g.all:
		return a, nil
	case <-t.C:
		return a, fmt.Errorf("only %d of %d concurrent callers got inside within %v", g.inside.Load(), g.want, g.patience)
	case <-ctx.Done():
		return a, ctx.Err()
	}
}

// HoldUntilOpen enters the gathering and waits until it opens.
func HoldUntilOpen(ctx context.Context, a Arrival) (Arrival, error) {
	a.G.inside.Add(1)
	a.G.entered <- struct{}{}
	select {
	case <-a.G.open:
		return a, nil
	case <-ctx.Done():
		return a, ctx.Err()
	}
}
