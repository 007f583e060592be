package runtime

import (
	"sync"
	"sync/atomic"
	"time"
)

// Result caches check expiry against a coarse clock, in both engines: a
// precise clock read is about a third of a hit's cost, an atomic load next
// to nothing. The rule, one for every executor:
//
//   - With the SystemClock, a cache reads a CoarseClock that one goroutine
//     of the executor refreshes every resolution: a thousandth of the
//     shortest TTL among the executor's caches, from 1 to 10 ms
//     (CoarseResolution). An entry is served until that reading passes its
//     TTL, so it may live up to one resolution longer or shorter than its
//     TTL.
//   - With any other clock (a FakeClock in tests), caches read it as is.

// Bounds of a CoarseClock's resolution.
const (
	MinCoarseResolution = time.Millisecond
	MaxCoarseResolution = 10 * time.Millisecond
)

// CoarseResolution is the resolution a cache with time to live ttl needs:
// a thousandth of ttl, from MinCoarseResolution to MaxCoarseResolution.
func CoarseResolution(ttl time.Duration) time.Duration {
	return min(max(ttl/1000, MinCoarseResolution), MaxCoarseResolution)
}

// CoarseClock is a Clock read every resolution by its own goroutine, started
// by the first Need: Nanotime is one atomic load. It is safe for concurrent
// use; Close stops the goroutine.
type CoarseClock struct {
	now   atomic.Int64
	clock Clock

	mu     sync.Mutex
	res    time.Duration // 0 until the first Need
	reset  chan time.Duration
	done   chan struct{}
	closed bool
}

// NewCacheClock returns the clock result caches of an executor whose clock
// is clock check expiry against, and the CoarseClock to call Need and Close
// on: for the SystemClock, a CoarseClock over it; for any other clock, the
// clock itself and a nil CoarseClock (whose methods do nothing).
func NewCacheClock(clock Clock) (Clock, *CoarseClock) {
	if _, system := clock.(SystemClock); !system {
		return clock, nil
	}
	c := &CoarseClock{clock: clock}
	c.now.Store(clock.Nanotime())
	return c, c
}

// Nanotime returns the last reading.
func (c *CoarseClock) Nanotime() int64 { return c.now.Load() }

// Need tells the clock that a cache with time to live ttl reads it: the
// clock refreshes at least every CoarseResolution(ttl) from now on.
func (c *CoarseClock) Need(ttl time.Duration) {
	if c == nil {
		return
	}
	res := CoarseResolution(ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed || (c.res != 0 && c.res <= res):
		return
	case c.res == 0:
		c.res = res
		c.now.Store(c.clock.Nanotime())
		c.reset, c.done = make(chan time.Duration, 1), make(chan struct{})
		go c.run(res)
	default:
		c.res = res
		select {
		case <-c.reset: // an unread, coarser resolution
		default:
		}
		c.reset <- res
	}
}

func (c *CoarseClock) run(res time.Duration) {
	defer close(c.done)
	t := time.NewTicker(res)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.now.Store(c.clock.Nanotime())
		case res, ok := <-c.reset:
			if !ok {
				return
			}
			t.Reset(res)
		}
	}
}

// Resolution returns how often the clock is refreshed, 0 before any Need.
func (c *CoarseClock) Resolution() time.Duration {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.res
}

// Close stops the clock's goroutine and waits until it has ended. The
// clock keeps its last reading.
func (c *CoarseClock) Close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	started := c.res != 0
	if started {
		close(c.reset)
	}
	c.mu.Unlock()
	if started {
		<-c.done
	}
}
