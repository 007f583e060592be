package runtime

import (
	goruntime "runtime"
	"sync"
	"sync/atomic"
)

// The RunGate's word is closed<<63 | entered<<28 | inflight. Enter adds one
// to both fields in a single add, Exit subtracts one from the in-flight
// field, so entered − inflight is the number of completed runs and the hot
// path needs no second counter.
const (
	runGateInflightBits = 28
	runGateClosed       = uint64(1) << 63
	runGateInflightMask = uint64(1)<<runGateInflightBits - 1
	runGateEnteredMask  = uint64(1)<<(63-runGateInflightBits) - 1
	runGateEnter        = uint64(1)<<runGateInflightBits | 1

	// runGateMaxInflight is the most runs admitted at once: Enter waits
	// while this many are in flight. Keeping the admitted count below bit 27
	// leaves the field's upper half for Enter calls that briefly count
	// themselves before backing out, so the field never carries into the
	// entered runs.
	runGateMaxInflight  = uint64(1)<<(runGateInflightBits-1) - 1
	runGateInflightHigh = uint64(1) << (runGateInflightBits - 1)

	// runGateRebaseAt is the entered count (bit 62 of the word) at which
	// Enter moves runGateRebaseBy entered runs out of the word, long before
	// the 35-bit field could carry into the closed bit.
	runGateRebaseAt  = uint64(1) << 34
	runGateRebaseBy  = uint64(1) << 33
	runGateEnterHigh = runGateRebaseAt << runGateInflightBits

	// runGateSlow is every condition Enter cannot settle with its one add.
	runGateSlow = runGateClosed | runGateEnterHigh | runGateInflightHigh
)

// RunGate admits runs until it is closed and lets Close wait for every run
// it admitted and every goroutine those runs registered. It also counts the
// runs that completed, so an executor needs no separate run counter.
//
// Enter and Exit are one uncontended atomic add each, inline, and never
// allocate. The zero value is an open gate; a RunGate must not be copied
// after first use. At most 2^27−1 runs are in flight at once: Enter waits
// (yielding the processor) while that many are, rather than overflow its
// counter.
type RunGate struct {
	word     atomic.Uint64
	children atomic.Int64

	// base holds entered runs moved out of word by rebase; seq is odd while
	// a move is under way, so Completed reads base and word consistently.
	base atomic.Uint64
	seq  atomic.Uint64

	mu       sync.Mutex // guards idle, signaled and serialises rebase
	idle     chan struct{}
	signaled bool
}

// Enter admits a run and reports whether it did: false once Close was
// called. Every true return must be paired with one Exit.
func (g *RunGate) Enter() bool {
	w := g.word.Add(runGateEnter)
	return w&runGateSlow == 0 || g.enterSlow(w)
}

// Exit ends a run admitted by Enter. Calling it more often than Enter
// returned true is a programming error and panics, as sync.WaitGroup does
// for a negative counter.
func (g *RunGate) Exit() {
	if w := g.word.Add(^uint64(0)); w&(runGateClosed|runGateInflightHigh) != 0 {
		g.exitSlow(w)
	}
}

// EnterChild registers a goroutine that a run starts and that may outlive
// it, such as the abandoned attempt of a step that overran its timeout.
// Close waits for it as for a run. It must be called by an admitted run, or
// by a registered goroutine, that has not yet ended: it is accepted even
// after Close, since the caller still holds Close back.
func (g *RunGate) EnterChild() { g.children.Add(1) }

// ExitChild ends a goroutine registered with EnterChild.
func (g *RunGate) ExitChild() {
	c := g.children.Add(-1)
	if c == 0 {
		g.maybeIdle(g.word.Load(), 0)
		return
	}
	if c < 0 {
		g.children.Add(1)
		panic("runtime: RunGate.ExitChild called more times than EnterChild")
	}
}

// Close stops admitting runs and returns a channel that is closed once no
// run and no registered goroutine is in flight: at once if none is. It may
// be called any number of times and returns the same channel each time.
func (g *RunGate) Close() <-chan struct{} {
	g.mu.Lock()
	if g.idle == nil {
		g.idle = make(chan struct{})
	}
	idle := g.idle
	g.mu.Unlock()
	w := g.word.Or(runGateClosed) | runGateClosed
	g.maybeIdle(w, g.children.Load())
	return idle
}

// Closed reports whether Close has been called.
func (g *RunGate) Closed() bool { return g.word.Load()&runGateClosed != 0 }

// Running returns the runs and registered goroutines in flight. While Enter
// calls are being turned away it may briefly count them too.
func (g *RunGate) Running() int64 {
	return int64(g.word.Load()&runGateInflightMask) + g.children.Load()
}

// Completed returns the number of runs that entered and exited. Enter calls
// that returned false count nothing.
func (g *RunGate) Completed() uint64 {
	for {
		s := g.seq.Load()
		if s&1 != 0 {
			goruntime.Gosched()
			continue
		}
		b := g.base.Load()
		w := g.word.Load()
		if g.seq.Load() == s {
			return b + (w>>runGateInflightBits)&runGateEnteredMask - w&runGateInflightMask
		}
	}
}

// enterSlow settles an Enter whose add found the gate closed, the in-flight
// field at its bound, or the entered field due for a rebase.
//
//go:noinline
func (g *RunGate) enterSlow(w uint64) bool {
	for {
		switch {
		case w&runGateClosed != 0:
			g.leave(runGateEnter)
			return false
		case w&runGateInflightHigh != 0:
			// Too many runs in flight: back out and retry once some exit.
			g.leave(runGateEnter)
			goruntime.Gosched()
			w = g.word.Add(runGateEnter)
			continue
		case w&runGateEnterHigh != 0:
			g.rebase()
		}
		return true
	}
}

// exitSlow handles an Exit after Close, or one that took the in-flight field
// below zero or found it past its bound.
//
//go:noinline
func (g *RunGate) exitSlow(w uint64) {
	if w&runGateInflightMask == runGateInflightMask {
		// The field wrapped below zero and borrowed from the entered runs
		// (or, on a fresh gate, the closed bit); undo before reporting.
		g.word.Add(1)
		panic("runtime: RunGate.Exit called more times than Enter")
	}
	g.maybeIdle(w, -1)
}

// leave takes delta back off the word for an Enter that was not admitted.
// Its transient count may have hidden the last Exit's view of an idle gate,
// so it checks for idleness itself.
func (g *RunGate) leave(delta uint64) {
	g.maybeIdle(g.word.Add(-delta), -1)
}

// maybeIdle signals idleness if w, read just after the caller's own
// decrement or Close's Or, shows a closed gate with no run in flight and the
// children count is zero; children < 0 means "load it now".
//
// Why no wake-up is lost: Exit and leave decrement the word and then load
// children; ExitChild decrements children and then loads the word; Close
// sets the closed bit and then loads children. Go's atomics are
// sequentially consistent, so these operations have one total order. Take
// the last of the final decrements of both counters and the Or: every other
// write precedes it, so the load that follows it sees the closed bit, no run
// and no child, and that caller signals. Several callers may see it; the
// signaled flag makes the channel close once.
func (g *RunGate) maybeIdle(w uint64, children int64) {
	if w&runGateClosed == 0 || w&runGateInflightMask != 0 {
		return
	}
	if children < 0 {
		children = g.children.Load()
	}
	if children != 0 {
		return
	}
	g.mu.Lock()
	if g.idle == nil {
		g.idle = make(chan struct{})
	}
	if !g.signaled {
		g.signaled = true
		close(g.idle)
	}
	g.mu.Unlock()
}

// rebase moves runGateRebaseBy entered runs from word to base. Enter and
// Exit keep running meanwhile: the entered field holds at least
// runGateRebaseBy more than the in-flight field, so the subtraction never
// borrows, and the 35-bit field has room for 2^34 more Enter calls before
// it could reach the closed bit.
//
//go:noinline
func (g *RunGate) rebase() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.word.Load()&runGateEnterHigh == 0 {
		return // another Enter moved them already
	}
	g.seq.Add(1)
	g.word.Add(^(runGateRebaseBy<<runGateInflightBits - 1))
	g.base.Add(runGateRebaseBy)
	g.seq.Add(1)
}
