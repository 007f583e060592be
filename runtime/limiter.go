package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// ErrLimiterRejected is returned by Limiter.Acquire when the limiter is full
// and its queue holds as many callers as it may: the caller is turned away at
// once rather than left to wait past its deadline. Engines wrap it in a
// *ConcurrencyLimitError that names the step.
var ErrLimiterRejected = errors.New("runtime: concurrency limiter rejected the call: every permit is taken and the wait queue is full")

// ConcurrencyLimitError is the error of a step attempt the concurrency
// limiter turned away (its queue was full). It matches ErrLimiterRejected
// with errors.Is. It says the executor is saturated, not that the step's
// upstream failed, so it is reported as a rejected attempt
// (OutcomeRejected) and is not a circuit-breaker failure.
type ConcurrencyLimitError struct {
	Step  string // the step whose attempt was rejected
	Limit int    // the concurrency limit when it was rejected
}

// Error says which step was rejected and why.
func (e *ConcurrencyLimitError) Error() string {
	return fmt.Sprintf("flujo: step %q rejected by the concurrency limiter: all %d permits are taken and the wait queue is full", e.Step, e.Limit)
}

// Unwrap returns ErrLimiterRejected.
func (e *ConcurrencyLimitError) Unwrap() error { return ErrLimiterRejected }

// Defaults of an adaptive Limiter, after failsafe-go's adaptive limiter
// (limits 1..200, initial 20) and Netflix's concurrency-limits.
const (
	// DefaultConcurrencyCeiling is the limit's ceiling when
	// max_concurrent_executions is unset: generous, because an I/O-bound
	// step's right concurrency depends on its upstream, not on the CPUs. An
	// adaptive limiter finds the upstream's capacity below it.
	DefaultConcurrencyCeiling = 1000
	// DefaultInitialLimit is where an adaptive limit starts.
	DefaultInitialLimit = 20
	// DefaultLimiterWindow is the shortest sampling window of an adaptive
	// limiter; a window also lasts at least twice the baseline latency.
	DefaultLimiterWindow = 100 * time.Millisecond
	// DefaultLimiterMinWindowSamples is the fewest samples that close a
	// window.
	DefaultLimiterMinWindowSamples = 10
	// FixedLimiterMinQueue is the queue bound the executors give a fixed
	// limiter (max_concurrent_executions without adaptation): the user's
	// cap asks callers to wait, as a Map or Parallel wider than the cap
	// does, so only a pile-up far beyond it is rejected. An adaptive
	// limiter keeps DefaultLimiterOptions' short queue, which bounds the
	// wait to about half a service time.
	FixedLimiterMinQueue = 64
)

// LimiterOptions configures a Limiter. DefaultLimiterOptions returns a
// complete, valid set.
type LimiterOptions struct {
	// Max is max_concurrent_executions, the hard cap. Zero means
	// DefaultConcurrencyCeiling.
	Max int
	// Min is the floor the limit never goes below; at least 1.
	Min int
	// Initial is the starting limit, within [Min, Max]. Zero starts a fixed
	// limiter at Max and an adaptive one at DefaultInitialLimit (clamped).
	Initial int
	// Adaptive is enable_concurrency_optimization: the limit follows the
	// service times and drops reported through Observe.
	Adaptive bool
	// Window is the shortest sampling window; the limit moves at most once
	// per window. Zero means DefaultLimiterWindow.
	Window time.Duration
	// MinWindowSamples is the fewest samples that close a window (1..512).
	// Zero means DefaultLimiterMinWindowSamples.
	MinWindowSamples int
	// MaxLimitFactor bounds growth: while service time holds, the limit
	// rises to at most this multiple of the executions in flight; at least
	// 1. Zero means 2.
	MaxLimitFactor float64
	// Tolerance is how much slower than the baseline a window may be before
	// it counts as service time rising with concurrency; at least 1. Zero
	// means 1.1.
	Tolerance float64
	// QueueFactor and MinQueue bound the wait queue: at most
	// max(MinQueue, ceil(limit × QueueFactor)) callers wait for a permit;
	// beyond that Acquire returns ErrLimiterRejected at once. Both zero
	// means no queue: a full limiter rejects.
	QueueFactor float64
	MinQueue    int
	// Clock times windows; nil means SystemClock.
	Clock Clock
}

// DefaultLimiterOptions returns a fixed limiter with the default ceiling
// and the adaptive parameters preset, so setting Adaptive is enough to
// enable adaptation. The queue holds a quarter of the limit (at least one
// caller): a queued caller waits about a quarter of a service time, so a
// request's latency stays near the upstream's service time under overload.
func DefaultLimiterOptions() LimiterOptions {
	return LimiterOptions{
		Min:              1,
		Window:           DefaultLimiterWindow,
		MinWindowSamples: DefaultLimiterMinWindowSamples,
		MaxLimitFactor:   2,
		Tolerance:        1.1,
		QueueFactor:      0.25,
		MinQueue:         1,
	}
}

// The Limiter's state word is limit<<32 | queued<<31 | inflight. The queued
// bit makes every in-flight comparison on the fast paths fail while callers
// wait, so newcomers cannot overtake the queue, without a second load.
const (
	limiterMaxLimit     = 1<<30 - 1
	limiterQueued       = 1 << 31
	limiterInflightMask = limiterQueued - 1
	// limiterSlowMark is above any legal in-flight count; a released state
	// at or above it has the queued bit or wrapped below zero.
	limiterSlowMark = limiterMaxLimit + 1
)

// An adaptive Limiter sums a window's latencies and counts its samples in one
// word, latencySum<<limiterCountBits | count, so Observe updates both with
// one add. A latency is clamped to limiterMaxSampleNs (about 73 minutes), so
// the 53-bit sum cannot overflow before the count field does; that field
// holds 2047 samples.
//
// Windows close by time: an Observe that finds at least MinWindowSamples
// samples packed reads the clock (every 16th sample) and closes the window
// once it has lasted long enough. An Observe that finds limiterSpillMark
// samples packed moves them to pending totals (spill), so the packed word
// never fills, even while another caller holds the update lock.
const (
	limiterCountBits        = 11
	limiterCountMask        = 1<<limiterCountBits - 1
	limiterMaxSampleNs      = 1<<42 - 1
	limiterMaxWindowSamples = 512
	limiterSpillMark        = 1 << (limiterCountBits - 1)
)

// Limiter bounds the number of concurrent executions. Acquire and Release
// cost one atomic read-modify-write each on the fast path and never
// allocate. The limit and the in-flight count share one word, so a permit
// is only ever granted while in-flight < limit, and lowering the limit can
// only remove permits: callers already running finish, new ones wait.
//
// Callers past the limit wait in a FIFO queue bounded relative to the limit
// (LimiterOptions.QueueFactor, MinQueue); past the bound Acquire returns
// ErrLimiterRejected at once.
//
// An adaptive Limiter (LimiterOptions.Adaptive) moves its limit once per
// window of service-time samples (Observe), after failsafe-go's adaptive
// limiter and Netflix's Vegas and Gradient2:
//
//   - It starts at DefaultInitialLimit and, until service time has been
//     seen to rise with concurrency, doubles its limit (up to MaxLimitFactor
//     times the executions in flight) as soon as a caller would queue, so a
//     burst of I/O-bound executions runs at once.
//   - It keeps a baseline, the lowest window mean service time, tracked
//     slowly upward. A window slower than Tolerance times the baseline cuts
//     the limit to what the upstream serves within Tolerance of the
//     baseline (Little's law: in-flight × Tolerance × baseline / service
//     time, at least a quarter of in-flight).
//     If the next measured window, with fewer in flight, is no faster,
//     service time rose for a reason other than concurrency: the baseline
//     follows it and the limit is restored.
//   - While service time holds and callers queue or are rejected, the limit
//     grows: by doubling in slow start, else by about 6% (at least 1).
//   - Drops (executions that timed out or were rejected downstream) cut the
//     limit by 10%.
//   - A baseline learned under overload would hide it, so once slow start
//     is over (or at Max) a loaded limiter probes: every few windows it
//     drops to a quarter of its limit for two windows; a probe that finds service time lower
//     sets the baseline from it and cuts the limit to what the upstream
//     served before the probe at that baseline (Little's law again).
//     Probes that find nothing come at longer intervals (16 to 64 windows).
//
// Queue timeouts (a queued caller's context ending) and queue rejections are
// overload signals too: they show demand beyond the limit, which grows the
// limit only while service time holds and never stops a cut.
//
// A Limiter is safe for concurrent use. It starts no goroutine.
type Limiter struct {
	_     [64]byte
	state atomic.Uint64
	_     [56]byte

	// Window accumulators, written by Observe in adaptive mode. winSamples
	// packs the latency sum and the sample count (limiterCountBits).
	winSamples  atomic.Uint64
	winDrops    atomic.Int64
	winInflight atomic.Int64
	_           [40]byte

	waiters       atomic.Int64 // written under mu
	rejected      atomic.Uint64
	waited        atomic.Uint64
	updates       atomic.Uint64
	queueFull     atomic.Uint64
	queueTimeouts atomic.Uint64
	// slowStart lets a caller that finds the limiter full raise the limit
	// instead of queueing: true until service time is seen to rise.
	slowStart atomic.Bool

	min, max    int
	adaptive    bool
	window      int64
	minSamples  int64
	factor      float64
	tolerance   float64
	queueFactor float64
	minQueue    int
	clock       Clock

	// updating is the try-lock of the window update; fields below it are
	// owned by whoever holds it.
	updating       atomic.Bool
	estimate       float64
	baseline       float64 // lowest window mean service time (ns), tracked slowly up
	windowStart    int64
	lastWaited     uint64 // demand snapshot: waited and rejected at the last window
	lastRejects    uint64
	settle         bool    // discard the next window: the limit just moved
	cutRTT         float64 // the window mean that caused the last cut; 0 when judged
	cutFrom        float64 // the limit before that cut
	cutN           float64 // the mean in-flight of the window that caused it
	probe          int     // 2: probe settling, 1: probe measuring, 0: none
	probeFrom      float64 // the limit before the probe
	probeSlowStart bool    // slow start before the probe
	probeRTT       float64 // the window mean before the probe
	probeN         float64 // the mean in-flight before the probe
	probeEvery     int     // windows between probes
	sinceProbe     int
	growStreak     int // windows grown in a row without slow start

	// pendMu guards the samples drained from winSamples and not yet folded
	// into a window.
	pendMu    sync.Mutex
	pendCount int64
	pendSum   int64

	mu   sync.Mutex
	head *limiterWaiter
	tail *limiterWaiter
	free *limiterWaiter
}

// limiterWaiter is a parked Acquire. Waiters are recycled through the
// Limiter's free list, so steady waiting does not allocate either.
type limiterWaiter struct {
	ready      chan struct{}
	next, prev *limiterWaiter
	granted    bool
}

// NewLimiter validates opts and returns a Limiter at its initial limit.
func NewLimiter(opts LimiterOptions) (*Limiter, error) {
	if opts.Max < 0 || opts.Max > limiterMaxLimit {
		return nil, fmt.Errorf("runtime: LimiterOptions.Max (max_concurrent_executions) is %d; want 0 (default ceiling %d) or 1..%d", opts.Max, DefaultConcurrencyCeiling, limiterMaxLimit)
	}
	maxLimit := cmp.Or(opts.Max, DefaultConcurrencyCeiling)
	if opts.Min < 1 {
		return nil, fmt.Errorf("runtime: LimiterOptions.Min is %d; want at least 1", opts.Min)
	}
	if opts.Min > maxLimit {
		return nil, fmt.Errorf("runtime: LimiterOptions.Min is %d, above Max %d; want Min <= Max", opts.Min, maxLimit)
	}
	initial := opts.Initial
	switch {
	case initial < 0:
		return nil, fmt.Errorf("runtime: LimiterOptions.Initial is %d; want 0 (default) or %d..%d", initial, opts.Min, maxLimit)
	case initial == 0 && opts.Adaptive:
		initial = min(max(DefaultInitialLimit, opts.Min), maxLimit)
	case initial == 0:
		initial = maxLimit
	case initial < opts.Min || initial > maxLimit:
		return nil, fmt.Errorf("runtime: LimiterOptions.Initial is %d; want %d..%d (Min..Max)", initial, opts.Min, maxLimit)
	}
	if !(opts.QueueFactor >= 0 && opts.QueueFactor <= limiterMaxQueueFactor) {
		return nil, fmt.Errorf("runtime: LimiterOptions.QueueFactor is %v; want 0..%d (queued callers per permit)", opts.QueueFactor, limiterMaxQueueFactor)
	}
	if opts.MinQueue < 0 || opts.MinQueue > limiterMaxLimit {
		return nil, fmt.Errorf("runtime: LimiterOptions.MinQueue is %d; want 0..%d", opts.MinQueue, limiterMaxLimit)
	}
	window := cmp.Or(opts.Window, DefaultLimiterWindow)
	minSamples := cmp.Or(opts.MinWindowSamples, DefaultLimiterMinWindowSamples)
	factor := cmp.Or(opts.MaxLimitFactor, 2)
	tolerance := cmp.Or(opts.Tolerance, 1.1)
	if opts.Adaptive {
		if window < 0 {
			return nil, fmt.Errorf("runtime: LimiterOptions.Window is %v; want 0 (default %v) or a positive duration", opts.Window, DefaultLimiterWindow)
		}
		if minSamples < 1 || minSamples > limiterMaxWindowSamples {
			return nil, fmt.Errorf("runtime: LimiterOptions.MinWindowSamples is %d; want 0 (default %d) or 1..%d", opts.MinWindowSamples, DefaultLimiterMinWindowSamples, limiterMaxWindowSamples)
		}
		if !(factor >= 1) || math.IsInf(factor, 0) {
			return nil, fmt.Errorf("runtime: LimiterOptions.MaxLimitFactor is %v; want 0 (default 2) or a finite value >= 1", opts.MaxLimitFactor)
		}
		if !(tolerance >= 1) || math.IsInf(tolerance, 0) {
			return nil, fmt.Errorf("runtime: LimiterOptions.Tolerance is %v; want 0 (default 1.1) or a finite value >= 1", opts.Tolerance)
		}
	}
	l := &Limiter{
		min:         opts.Min,
		max:         maxLimit,
		adaptive:    opts.Adaptive,
		window:      int64(window),
		minSamples:  int64(minSamples),
		factor:      factor,
		tolerance:   tolerance,
		queueFactor: opts.QueueFactor,
		minQueue:    opts.MinQueue,
		clock:       opts.Clock,
		estimate:    float64(initial),
		probeEvery:  limiterProbeMin,
	}
	if l.clock == nil {
		l.clock = SystemClock{}
	}
	if l.adaptive {
		l.windowStart = l.clock.Nanotime()
		l.slowStart.Store(true)
	}
	l.state.Store(uint64(initial) << 32)
	return l, nil
}

// limiterMaxQueueFactor bounds LimiterOptions.QueueFactor.
const limiterMaxQueueFactor = 1000

// queueBound is how many callers may wait while the limit is limit.
func (l *Limiter) queueBound(limit int) int {
	return max(l.minQueue, int(math.Ceil(float64(limit)*l.queueFactor)))
}

// Acquire takes a permit, waiting while the limiter is full. It returns
// ctx.Err() if ctx ends first, and then holds no permit. Every nil return
// must be paired with one Release.
func (l *Limiter) Acquire(ctx context.Context) error {
	// With callers queued the low word carries limiterQueued and the
	// comparison fails, so queued callers are served first.
	if s := l.state.Load(); uint32(s) < uint32(s>>32) && l.state.CompareAndSwap(s, s+1) {
		return nil
	}
	return l.acquireSlow(ctx)
}

// AcquireWaited is Acquire that also reports whether the permit took the
// slow path (the caller may have waited). A caller that did not wait may
// take the time it called as the grant time, so timing an execution from
// its permit costs no clock reading on the fast path.
func (l *Limiter) AcquireWaited(ctx context.Context) (waited bool, err error) {
	if s := l.state.Load(); uint32(s) < uint32(s>>32) && l.state.CompareAndSwap(s, s+1) {
		return false, nil
	}
	return true, l.acquireSlow(ctx)
}

// TryAcquire takes a permit if one is free right now and reports whether it
// did. A false return counts as a rejection.
func (l *Limiter) TryAcquire() bool {
	for {
		// A queued caller owns the next free permit: the queued bit makes
		// the comparison fail.
		s := l.state.Load()
		if uint32(s) >= uint32(s>>32) {
			l.rejected.Add(1)
			return false
		}
		if l.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// Release returns a permit taken by Acquire or TryAcquire. Releasing more
// permits than were taken is a programming error and panics, as
// sync.WaitGroup does for a negative counter.
func (l *Limiter) Release() {
	if s := l.state.Add(^uint64(0)); uint32(s) >= limiterSlowMark {
		l.releaseSlow(s)
	}
}

// grab takes a permit if in-flight is below the limit, whatever the queued
// bit says.
func (l *Limiter) grab() bool {
	for {
		s := l.state.Load()
		if uint32(s)&limiterInflightMask >= uint32(s>>32) {
			return false
		}
		if l.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

func (l *Limiter) acquireSlow(ctx context.Context) error {
	// A lost CAS race is not a full limiter: retry without the lock, or
	// contended callers would queue on mu while permits are free.
	for {
		s := l.state.Load()
		if uint32(s) >= uint32(s>>32) {
			break
		}
		if l.state.CompareAndSwap(s, s+1) {
			return nil
		}
	}
	if l.slowStart.Load() && l.grow() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		l.rejected.Add(1)
		return err
	}
	l.mu.Lock()
	if int(l.waiters.Load()) >= l.queueBound(l.Limit()) {
		l.mu.Unlock()
		l.rejected.Add(1)
		l.queueFull.Add(1)
		return ErrLimiterRejected
	}
	if l.head == nil {
		// Raise the queued bit before the last attempt: a Release that
		// decremented before the bit went up is seen by grab, and one that
		// decrements after it sees the bit and wakes the queue under mu.
		l.state.Or(limiterQueued)
		if l.grab() {
			l.state.And(^uint64(limiterQueued))
			l.mu.Unlock()
			return nil
		}
	}
	// With a queue, any free permit is already being handed to its head by
	// the caller that freed it.
	l.waiters.Add(1)
	w := l.free
	if w != nil {
		l.free = w.next
		w.next = nil
	} else {
		w = &limiterWaiter{ready: make(chan struct{}, 1)}
	}
	w.prev = l.tail
	if l.tail != nil {
		l.tail.next = w
	} else {
		l.head = w
	}
	l.tail = w
	l.mu.Unlock()
	l.waited.Add(1)

	select {
	case <-w.ready:
		l.mu.Lock()
		l.recycle(w)
		l.mu.Unlock()
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	if w.granted {
		// The permit arrived together with the cancellation; give it back
		// so the next waiter gets it.
		<-w.ready
		l.recycle(w)
		l.mu.Unlock()
		l.rejected.Add(1)
		l.Release()
		return ctx.Err()
	}
	l.unlink(w)
	l.waiters.Add(-1)
	if l.head == nil {
		l.state.And(^uint64(limiterQueued))
	}
	l.recycle(w)
	l.mu.Unlock()
	l.rejected.Add(1)
	l.queueTimeouts.Add(1)
	return ctx.Err()
}

// grow is slow start: a caller that finds the limiter full raises the
// limit to MaxLimitFactor times the executions in flight (at most Max) and
// takes a permit. It reports whether it got one.
func (l *Limiter) grow() bool {
	for {
		s := l.state.Load()
		inflight := int(uint32(s) & limiterInflightMask)
		limit := int(s >> 32)
		next := min(l.max, int(math.Ceil(float64(max(inflight, limit))*l.factor)))
		if next <= limit || inflight >= next {
			return false
		}
		if l.state.CompareAndSwap(s, uint64(next)<<32|uint64(uint32(s))+1) {
			if uint32(s)&limiterQueued != 0 {
				l.wake()
			}
			return true
		}
	}
}

//go:noinline
func (l *Limiter) releaseSlow(s uint64) {
	if uint32(s)&limiterInflightMask == limiterInflightMask {
		// In-flight wrapped below zero; undo before reporting.
		l.state.Add(1)
		panic("runtime: Limiter.Release called more times than Acquire")
	}
	l.wake()
}

// wake hands free permits to queued waiters in FIFO order.
func (l *Limiter) wake() {
	l.mu.Lock()
	for l.head != nil && l.grab() {
		w := l.head
		l.unlink(w)
		l.waiters.Add(-1)
		w.granted = true
		w.ready <- struct{}{}
	}
	if l.head == nil {
		l.state.And(^uint64(limiterQueued))
	}
	l.mu.Unlock()
}

// unlink removes w from the queue; mu must be held.
func (l *Limiter) unlink(w *limiterWaiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		l.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		l.tail = w.prev
	}
	w.next, w.prev = nil, nil
}

// recycle puts an unlinked waiter on the free list; mu must be held.
func (l *Limiter) recycle(w *limiterWaiter) {
	w.granted = false
	w.prev = nil
	w.next = l.free
	l.free = w
}

// SetLimit moves the limit to n clamped to [Min, Max]. Lowering it never
// frees a permit: executions already running keep theirs and new ones wait
// until in-flight falls below the new limit. Raising it wakes waiters.
func (l *Limiter) SetLimit(n int) {
	l.setLimit(n)
}

func (l *Limiter) setLimit(n int) {
	n = min(max(n, l.min), l.max)
	for {
		s := l.state.Load()
		old := int(s >> 32)
		if old == n {
			return
		}
		if l.state.CompareAndSwap(s, uint64(n)<<32|uint64(uint32(s))) {
			if n > old && uint32(s)&limiterQueued != 0 {
				l.wake()
			}
			return
		}
	}
}

// Observe reports the service time of one finished execution, measured
// from the moment its permit was granted (so without queue wait), and
// whether it was dropped (timed out or rejected downstream). In adaptive
// mode the samples of a window are folded into one limit update, done by
// the caller that closes the window, so Observe itself is two atomic adds,
// three for a drop, and a clock reading every 16th sample once a window
// holds MinWindowSamples. A latency is taken as 0 below zero and as about
// 73 minutes (2^42 ns) above that. Observe does nothing on a fixed limiter.
func (l *Limiter) Observe(latencyNs int64, dropped bool) {
	if !l.adaptive {
		return
	}
	lat := uint64(min(max(latencyNs, 0), limiterMaxSampleNs))
	l.winInflight.Add(int64(uint32(l.state.Load()) & limiterInflightMask))
	if dropped {
		l.winDrops.Add(1)
	}
	// The sample is counted last, so the caller that closes the window has
	// already added its in-flight figure and drop.
	w := l.winSamples.Add(lat<<limiterCountBits | 1)
	if c := int64(w & limiterCountMask); c >= l.minSamples && (c&15 == 0 || c == l.minSamples || c >= limiterSpillMark) {
		l.closeWindow(w)
	}
}

// LimiterDrop reports whether an execution that ended with outcome is a drop
// for Limiter.Observe: it timed out, or was rejected downstream (a breaker
// opened by its own attempt). Both engines call it.
func LimiterDrop(outcome Outcome) bool {
	return outcome == OutcomeTimeout || outcome == OutcomeRejected
}

// Adaptation constants.
const (
	limiterBackoff    = 0.9 // multiplicative decrease after drops
	limiterProbeMin   = 2   // windows between probes while they find saturation
	limiterProbeQuiet = 16  // windows between probes after one that found nothing
	limiterProbeMax   = 64  // windows between probes that keep finding nothing
	limiterProbeCut   = 4   // a probe divides the limit by this
	limiterDrift      = 64  // the baseline follows slower windows by 1/limiterDrift
	// limiterNoiseFloor is the smallest rise of the mean service time, in
	// nanoseconds, that counts as the upstream slowing down, and the
	// smallest baseline worth probing for. The limiter protects upstreams
	// that take milliseconds; a step that takes microseconds is CPU-bound,
	// its latency moves with scheduling noise, and cutting its limit would
	// only turn healthy requests away.
	limiterNoiseFloor = 1e6
	limiterAdditive   = 16   // congestion avoidance adds limit/limiterAdditive (at least 1)
	limiterDemandUse  = 0.75 // in-flight share of the limit that counts as demand
	// limiterSlowStartAfter is how many windows in a row must grow the limit
	// without a rise in service time before slow start resumes.
	limiterSlowStartAfter = 20
)

// closeWindow folds the current window into the limit once the window has
// lasted Window (and twice the baseline service time). Each sample's
// latency and count move together; a sample that races with the swaps may
// have its in-flight figure or drop in one window and its latency in the
// next, which skews one average by at most a few samples.
func (l *Limiter) closeWindow(w uint64) {
	if l.updating.Load() || !l.updating.CompareAndSwap(false, true) {
		if w&limiterCountMask >= limiterSpillMark {
			l.spill()
		}
		return
	}
	defer l.updating.Store(false)
	now := l.clock.Nanotime()
	if now-l.windowStart < max(l.window, int64(2*l.baseline)) {
		// Keep accumulating; drain the packed word only when it fills.
		if w&limiterCountMask >= limiterSpillMark {
			l.spill()
		}
		return
	}
	l.spill()
	l.windowStart = now
	l.pendMu.Lock()
	count, sum := l.pendCount, l.pendSum
	l.pendCount, l.pendSum = 0, 0
	l.pendMu.Unlock()
	drops := l.winDrops.Swap(0)
	inflight := l.winInflight.Swap(0)
	if count <= 0 {
		return
	}
	rtt := float64(sum) / float64(count)
	n := float64(inflight)/float64(count) + 1 // the observer has released its own permit
	limit := float64(l.Limit())
	if int(l.estimate) != int(limit) {
		// SetLimit or slow start moved the limit since the last window.
		l.estimate = limit
	}
	// Callers that queued or were turned away since the last window, or a
	// limit nearly used up, show demand beyond the limit.
	waited, rejects := l.waited.Load(), l.rejected.Load()
	demand := waited != l.lastWaited || rejects != l.lastRejects || n >= limiterDemandUse*limit
	l.lastWaited, l.lastRejects = waited, rejects
	l.estimate = l.adapt(l.estimate, rtt, n, drops, demand)
	l.estimate = min(max(l.estimate, float64(l.min)), float64(l.max))
	l.updates.Add(1)
	l.setLimit(int(l.estimate))
}

// adapt returns the next limit after a window of mean service time rtt,
// mean in-flight n and drops drop samples; the caller holds updating.
func (l *Limiter) adapt(est, rtt, n float64, drops int64, demand bool) float64 {
	tol := l.tolerance
	switch {
	case l.settle:
		l.growStreak = 0
		// The window after a move mixes executions admitted before it.
		l.settle = false
	case l.probe == 2:
		l.probe = 1
	case l.probe == 1:
		l.probe = 0
		if rtt*tol < l.probeRTT && rtt*tol < l.baseline {
			// Fewer in flight, faster: the baseline was learned under
			// overload. Cut to what the upstream served before the probe
			// at this baseline, rather than go back to the overload.
			l.baseline = rtt
			l.probeEvery = limiterProbeMin
			l.settle = true
			l.slowStart.Store(l.probeSlowStart)
			return min(l.probeFrom, max(est, l.probeN*tol*rtt/l.probeRTT))
		} else {
			l.probeEvery = min(max(2*l.probeEvery, limiterProbeQuiet), limiterProbeMax)
		}
		l.settle = true
		l.slowStart.Store(l.probeSlowStart)
		return l.probeFrom
	case l.baseline == 0:
		l.baseline = rtt
	case drops > 0:
		l.growStreak = 0
		l.slowStart.Store(false)
		l.cutRTT = 0
		l.settle = true
		return est * limiterBackoff
	case rtt > tol*l.baseline && rtt-l.baseline > limiterNoiseFloor:
		l.growStreak = 0
		if l.cutRTT > 0 && rtt*tol > l.cutRTT && n < limiterDemandUse*l.cutN {
			// The last cut did not bring service time down: it rose for
			// another reason (a slower upstream). Follow it and undo.
			l.baseline, l.cutRTT = rtt, 0
			return max(est, l.cutFrom)
		}
		l.slowStart.Store(false)
		l.cutRTT, l.cutFrom, l.cutN = rtt, est, n
		l.settle = true
		return min(est, max(n/4, n*tol*l.baseline/rtt))
	default:
		l.cutRTT = 0
		if rtt < l.baseline {
			l.baseline = rtt
		} else {
			l.baseline += (rtt - l.baseline) / limiterDrift
		}
		// A loaded limiter may hide an overload learned as its baseline.
		if demand || n >= est/2 {
			l.sinceProbe++
		}
		// Only once service time has risen with concurrency (slow start
		// over) or at Max: a probe would hold back a healthy burst.
		if l.sinceProbe >= l.probeEvery && l.baseline >= limiterNoiseFloor && (!l.slowStart.Load() || est >= float64(l.max)) && est/limiterProbeCut >= float64(l.min) {
			// Slow start must not undo the probe.
			l.sinceProbe = 0
			l.probe, l.probeFrom, l.probeRTT, l.probeN = 2, est, rtt, n
			l.probeSlowStart = l.slowStart.Swap(false)
			return est / limiterProbeCut
		}
		if !demand {
			return est
		}
		next := est + max(1, est/limiterAdditive)
		if l.slowStart.Load() {
			next = est * l.factor
		} else if l.growStreak++; l.growStreak >= limiterSlowStartAfter {
			// Growing for this long without a rise: back to slow start.
			l.slowStart.Store(true)
		}
		return max(est, min(next, l.factor*n))
	}
	return est
}

// spill moves the packed samples to the pending totals. A batch swapped out
// just after closeWindow took the totals counts, whole, in the next window.
func (l *Limiter) spill() {
	w := l.winSamples.Swap(0)
	if w == 0 {
		return
	}
	l.pendMu.Lock()
	l.pendCount += int64(w & limiterCountMask)
	l.pendSum += int64(w >> limiterCountBits)
	l.pendMu.Unlock()
}

// Limit returns the current limit.
func (l *Limiter) Limit() int { return int(l.state.Load() >> 32) }

// InFlight returns the number of permits currently held.
func (l *Limiter) InFlight() int { return int(uint32(l.state.Load()) & limiterInflightMask) }

// ConcurrencyLevel is the concurrency_level metric: the number of executions
// holding a permit right now (the same figure as InFlight).
func (l *Limiter) ConcurrencyLevel() int { return l.InFlight() }

// Available returns the number of permits free right now; it is never
// negative, even when a lowered limit left more executions running.
func (l *Limiter) Available() int {
	s := l.state.Load()
	return max(0, int(s>>32)-int(uint32(s)&limiterInflightMask))
}

// Waiting returns the number of Acquire calls queued.
func (l *Limiter) Waiting() int { return int(l.waiters.Load()) }

// Rejected returns how many TryAcquire calls failed, Acquire calls found the
// queue full and Acquire calls gave up because their context ended.
func (l *Limiter) Rejected() uint64 { return l.rejected.Load() }

// Min returns the lowest limit the Limiter accepts.
func (l *Limiter) Min() int { return l.min }

// Max returns the highest limit the Limiter accepts.
func (l *Limiter) Max() int { return l.max }

// Adaptive reports whether the limit adapts to Observe's samples.
func (l *Limiter) Adaptive() bool { return l.adaptive }

// LimiterStats is a point-in-time view of a Limiter.
type LimiterStats struct {
	Limit            int    `json:"limit"`
	Min              int    `json:"min"`
	Max              int    `json:"max"`
	ConcurrencyLevel int    `json:"concurrency_level"`
	Waiting          int    `json:"waiting"`
	Waited           uint64 `json:"waited"`
	Rejected         uint64 `json:"rejected"`
	QueueFull        uint64 `json:"queue_full"`
	QueueTimeouts    uint64 `json:"queue_timeouts"`
	LimitUpdates     uint64 `json:"limit_updates"`
	Adaptive         bool   `json:"adaptive"`
}

// Stats returns the Limiter's counters. Waited counts Acquire calls that had
// to queue; QueueFull those turned away with ErrLimiterRejected;
// QueueTimeouts queued calls whose context ended; LimitUpdates counts adaptive window updates.
func (l *Limiter) Stats() LimiterStats {
	s := l.state.Load()
	return LimiterStats{
		Limit:            int(s >> 32),
		Min:              l.min,
		Max:              l.max,
		ConcurrencyLevel: int(uint32(s) & limiterInflightMask),
		Waiting:          l.Waiting(),
		Waited:           l.waited.Load(),
		Rejected:         l.rejected.Load(),
		QueueFull:        l.queueFull.Load(),
		QueueTimeouts:    l.queueTimeouts.Load(),
		LimitUpdates:     l.updates.Load(),
		Adaptive:         l.adaptive,
	}
}
