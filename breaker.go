package flujo

import (
	"sync"

	"github.com/flujo/flujo/runtime"
)

// breakerSet holds one circuit breaker per step.
type breakerSet struct {
	threshold int
	recovery  int64 // nanoseconds
	clock     runtime.Clock
	m         sync.Map // *nodeBase -> *stepBreaker
}

func (s *breakerSet) get(b *nodeBase) *stepBreaker {
	if br, ok := s.m.Load(b); ok {
		return br.(*stepBreaker)
	}
	br, _ := s.m.LoadOrStore(b, &stepBreaker{set: s})
	return br.(*stepBreaker)
}

type breakerState uint8

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerHalfOpen
)

// stepBreaker is closed until threshold consecutive failures open it; open,
// it rejects calls until the recovery time has passed; then half-open, it
// lets one probe through: success closes it, failure opens it again.
type stepBreaker struct {
	set      *breakerSet
	mu       sync.Mutex
	state    breakerState
	failures int
	openedAt int64
	probing  bool
}

func (b *stepBreaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case breakerOpen:
		if b.set.clock.Nanotime()-b.openedAt < b.set.recovery {
			return false
		}
		b.state, b.probing = breakerHalfOpen, true
		return true
	case breakerHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
	}
	return true
}

// record reports the outcome of an allowed call; cancelled calls are
// reported with release instead.
func (b *stepBreaker) record(ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case ok:
		b.state, b.failures, b.probing = breakerClosed, 0, false
	case b.state == breakerHalfOpen:
		b.state, b.openedAt, b.probing = breakerOpen, b.set.clock.Nanotime(), false
	default:
		b.failures++
		if b.failures >= b.set.threshold {
			b.state, b.openedAt = breakerOpen, b.set.clock.Nanotime()
		}
	}
}

// release gives back a half-open probe whose call was cancelled by the
// caller and so says nothing about the step.
func (b *stepBreaker) release() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}
