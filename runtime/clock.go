package runtime

import (
	"sync/atomic"
	"time"
)

// Clock supplies monotonic time in nanoseconds. Components that must read the
// time take a Clock so tests can drive them with a FakeClock. Readings are
// only compared with each other; their zero point is arbitrary.
type Clock interface {
	Nanotime() int64
}

// SystemClock reads the process's monotonic clock.
type SystemClock struct{}

// clockEpoch anchors SystemClock readings. It is set once at package
// initialisation and never written again.
var clockEpoch = time.Now()

// Nanotime returns the monotonic nanoseconds elapsed since the package was
// initialised.
func (SystemClock) Nanotime() int64 { return int64(time.Since(clockEpoch)) }

// FakeClock is a manually driven Clock for tests. It is safe for concurrent use.
type FakeClock struct {
	now atomic.Int64
}

// NewFakeClock returns a FakeClock that reads start.
func NewFakeClock(start time.Duration) *FakeClock {
	c := &FakeClock{}
	c.now.Store(int64(start))
	return c
}

// Nanotime returns the fake clock's current reading.
func (c *FakeClock) Nanotime() int64 { return c.now.Load() }

// Advance moves the clock forward by d and returns the new reading.
func (c *FakeClock) Advance(d time.Duration) int64 { return c.now.Add(int64(d)) }

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Duration) { c.now.Store(int64(t)) }
