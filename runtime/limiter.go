package runtime

import (
	"context"
	"fmt"
	"math"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"
)

// LimitAlgorithm selects how an adaptive Limiter moves its limit.
type LimitAlgorithm uint8

const (
	// LimitAIMD adds one permit after every healthy sample window and
	// multiplies the limit by the backoff ratio after a window with drops or
	// with an average latency above Tolerance times the long-run average.
	LimitAIMD LimitAlgorithm = iota
	// LimitGradient2 follows Netflix's Gradient2: it compares a short-window
	// average latency with a smoothed long-run average and scales the limit
	// by their ratio, plus a square-root queue allowance so it keeps probing.
	LimitGradient2
)

// String returns "aimd" or "gradient2".
func (a LimitAlgorithm) String() string {
	switch a {
	case LimitAIMD:
		return "aimd"
	case LimitGradient2:
		return "gradient2"
	}
	return fmt.Sprintf("LimitAlgorithm(%d)", uint8(a))
}

// LimiterOptions configures a Limiter. DefaultLimiterOptions returns a
// complete, valid set.
type LimiterOptions struct {
	// Max is max_concurrent_executions, the hard cap. Zero derives it from
	// GOMAXPROCS with AutoConcurrencyLimit.
	Max int
	// Min is the floor the limit never goes below; at least 1.
	Min int
	// Initial is the starting limit, within [Min, Max]. Zero starts at Max
	// for a fixed limiter and at GOMAXPROCS (clamped) for an adaptive one,
	// so adaptive mode grows into its cap rather than backing off from it.
	Initial int
	// Adaptive is enable_concurrency_optimization: the limit follows the
	// latency and drop samples reported through Observe.
	Adaptive bool
	// Algorithm chooses the adaptive algorithm.
	Algorithm LimitAlgorithm
	// WindowSamples is the number of samples in a window; the limit is
	// updated at most once per window. Required (1..512) when Adaptive.
	WindowSamples int
	// Window is the minimum duration of a window; zero closes windows by
	// sample count alone and never reads the clock.
	Window time.Duration
	// BackoffRatio is AIMD's multiplicative decrease, within (0, 1).
	BackoffRatio float64
	// Tolerance is how much slower than the long-run average a window may be
	// before it counts as a latency rise; at least 1.
	Tolerance float64
	// Clock times windows when Window > 0; nil means SystemClock.
	Clock Clock
}

// DefaultLimiterOptions returns a fixed limiter with an automatic cap and
// the adaptive parameters preset, so setting Adaptive is enough to enable
// adaptation.
func DefaultLimiterOptions() LimiterOptions {
	return LimiterOptions{
		Min:           1,
		Algorithm:     LimitGradient2,
		WindowSamples: 100,
		BackoffRatio:  0.9,
		Tolerance:     1.5,
	}
}

// AutoConcurrencyLimit is the cap used when max_concurrent_executions is
// unset: 4 × gomaxprocs, at least 4. Steps are usually I/O-bound (remote
// calls), so a cap of GOMAXPROCS would idle the CPUs; four per processor
// keeps them busy while bounding memory, and adaptive mode narrows it.
func AutoConcurrencyLimit(gomaxprocs int) int {
	return max(4, 4*gomaxprocs)
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
// holds 2047 samples, four of the largest windows (limiterMaxWindowSamples)
// less one.
//
// The caller that completes a window drains the word, but it may be
// descheduled while others keep observing. So every Observe that finds
// limiterSpillMark samples packed drains the word itself, lock-free: the
// count field could then only overflow if more than 1023 callers were paused
// between their add and their drain at once.
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

	waiters  atomic.Int64 // written under mu
	rejected atomic.Uint64
	waited   atomic.Uint64
	updates  atomic.Uint64

	min, max      int
	adaptive      bool
	algorithm     LimitAlgorithm
	windowSamples int64
	window        int64
	backoff       float64
	tolerance     float64
	clock         Clock

	// updating is the try-lock of the window update; fields below it are
	// owned by whoever holds it.
	updating    atomic.Bool
	estimate    float64
	longRTT     float64
	windowStart int64

	// pendMu guards the samples drained from winSamples and not yet folded
	// into a window: while a timed window stays open, or by spill.
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
		return nil, fmt.Errorf("runtime: LimiterOptions.Max (max_concurrent_executions) is %d; want 0 (auto) or 1..%d", opts.Max, limiterMaxLimit)
	}
	maxLimit := opts.Max
	if maxLimit == 0 {
		maxLimit = min(AutoConcurrencyLimit(goruntime.GOMAXPROCS(0)), limiterMaxLimit)
	}
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
		initial = min(max(goruntime.GOMAXPROCS(0), opts.Min), maxLimit)
	case initial == 0:
		initial = maxLimit
	case initial < opts.Min || initial > maxLimit:
		return nil, fmt.Errorf("runtime: LimiterOptions.Initial is %d; want %d..%d (Min..Max)", initial, opts.Min, maxLimit)
	}
	if opts.Adaptive {
		if opts.Algorithm != LimitAIMD && opts.Algorithm != LimitGradient2 {
			return nil, fmt.Errorf("runtime: LimiterOptions.Algorithm is %v; want LimitAIMD or LimitGradient2", opts.Algorithm)
		}
		if opts.WindowSamples < 1 || opts.WindowSamples > limiterMaxWindowSamples {
			return nil, fmt.Errorf("runtime: LimiterOptions.WindowSamples is %d; want 1..%d when Adaptive (the window's packed sample counter holds no more)", opts.WindowSamples, limiterMaxWindowSamples)
		}
		if opts.Window < 0 {
			return nil, fmt.Errorf("runtime: LimiterOptions.Window is %v; want 0 (count only) or a positive duration", opts.Window)
		}
		if opts.Algorithm == LimitAIMD && !(opts.BackoffRatio > 0 && opts.BackoffRatio < 1) {
			return nil, fmt.Errorf("runtime: LimiterOptions.BackoffRatio is %v; want a value in (0, 1)", opts.BackoffRatio)
		}
		if !(opts.Tolerance >= 1) || math.IsInf(opts.Tolerance, 0) {
			return nil, fmt.Errorf("runtime: LimiterOptions.Tolerance is %v; want a finite value >= 1", opts.Tolerance)
		}
	}
	l := &Limiter{
		min:           opts.Min,
		max:           maxLimit,
		adaptive:      opts.Adaptive,
		algorithm:     opts.Algorithm,
		windowSamples: int64(opts.WindowSamples),
		window:        int64(opts.Window),
		backoff:       opts.BackoffRatio,
		tolerance:     opts.Tolerance,
		clock:         opts.Clock,
		estimate:      float64(initial),
	}
	if l.clock == nil {
		l.clock = SystemClock{}
	}
	if l.adaptive && l.window > 0 {
		l.windowStart = l.clock.Nanotime()
	}
	l.state.Store(uint64(initial) << 32)
	return l, nil
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
	if err := ctx.Err(); err != nil {
		l.rejected.Add(1)
		return err
	}
	l.mu.Lock()
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
	return ctx.Err()
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

// Observe reports the latency of one finished execution and whether it was
// dropped (timed out, rejected downstream, overloaded). In adaptive mode the
// samples of a window are folded into one limit update, done by the caller
// that completes the window, so Observe itself is two atomic adds, three
// for a drop. A latency is taken as 0 below zero and as about 73 minutes
// (2^42 ns) above that. Observe does nothing on a fixed limiter.
func (l *Limiter) Observe(latencyNs int64, dropped bool) {
	if !l.adaptive {
		return
	}
	lat := uint64(min(max(latencyNs, 0), limiterMaxSampleNs))
	l.winInflight.Add(int64(uint32(l.state.Load()) & limiterInflightMask))
	if dropped {
		l.winDrops.Add(1)
	}
	// The sample is counted last, so the caller that completes the window
	// has already added its in-flight figure and drop.
	if w := l.winSamples.Add(lat<<limiterCountBits | 1); int64(w&limiterCountMask) >= l.windowSamples {
		l.closeWindow(w)
	}
}

// Gradient2 constants, as in Netflix's concurrency-limits.
const (
	limiterLongWindows = 20  // long-run average spans about this many windows
	limiterSmoothing   = 0.2 // weight of a new Gradient2 estimate
	limiterMinGradient = 0.5
)

// closeWindow folds the current window into the limit. Each sample's
// latency and count move together; a sample that races with the swaps may
// have its in-flight figure or drop in one window and its latency in the
// next, which skews one average by at most a few samples out of
// WindowSamples.
//
// Every Observe that finds WindowSamples samples packed (w, after its own
// add) calls it until one of them drains the word.
func (l *Limiter) closeWindow(w uint64) {
	if l.updating.Load() || !l.updating.CompareAndSwap(false, true) {
		if w&limiterCountMask >= limiterSpillMark {
			l.spill()
		}
		return
	}
	defer l.updating.Store(false)
	if int64(l.winSamples.Load()&limiterCountMask) < l.windowSamples {
		return // drained by the caller that held the lock before us
	}
	l.spill()
	if l.window > 0 {
		now := l.clock.Nanotime()
		if now-l.windowStart < l.window {
			return // keep accumulating; retried every WindowSamples samples
		}
		l.windowStart = now
	}
	l.pendMu.Lock()
	count, sum := l.pendCount, l.pendSum
	l.pendCount, l.pendSum = 0, 0
	l.pendMu.Unlock()
	drops := l.winDrops.Swap(0)
	inflight := l.winInflight.Swap(0)
	if count <= 0 {
		return
	}
	short := float64(sum) / float64(count)
	avgInflight := float64(inflight) / float64(count)
	limit := float64(l.Limit())
	if int(l.estimate) != int(limit) {
		// SetLimit moved the limit since the last window; start from there.
		l.estimate = limit
	}
	est := l.estimate
	switch l.algorithm {
	case LimitAIMD:
		rose := l.longRTT > 0 && short > l.tolerance*l.longRTT
		if drops > 0 || rose {
			est = math.Floor(est * l.backoff)
		} else if avgInflight*2 >= limit {
			est = math.Floor(est) + 1
		}
		l.updateLongRTT(short)
	case LimitGradient2:
		l.updateLongRTT(short)
		if short > 0 && l.longRTT/short > 2 {
			// Recovering from a slow period: let the baseline follow faster.
			l.longRTT *= 0.95
		}
		switch {
		case drops > 0:
			// Drops are an overload signal: shrink without the queue
			// allowance so the limit can reach Min.
			est = est*(1-limiterSmoothing) + est*limiterMinGradient*limiterSmoothing
		case avgInflight < limit/2:
			// Application-limited: latency says nothing about the limit.
		default:
			gradient := 1.0
			if short > 0 {
				gradient = max(limiterMinGradient, min(1, l.tolerance*l.longRTT/short))
			}
			next := est*gradient + max(1, math.Sqrt(est))
			est = est*(1-limiterSmoothing) + next*limiterSmoothing
		}
	}
	est = min(max(est, float64(l.min)), float64(l.max))
	l.estimate = est
	l.updates.Add(1)
	l.setLimit(int(est))
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

func (l *Limiter) updateLongRTT(short float64) {
	if l.longRTT == 0 {
		l.longRTT = short
		return
	}
	l.longRTT += (short - l.longRTT) * (2.0 / (limiterLongWindows + 1))
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

// Rejected returns how many TryAcquire calls failed and Acquire calls gave
// up because their context ended.
func (l *Limiter) Rejected() uint64 { return l.rejected.Load() }

// Min returns the lowest limit the Limiter accepts.
func (l *Limiter) Min() int { return l.min }

// Max returns the highest limit the Limiter accepts.
func (l *Limiter) Max() int { return l.max }

// LimiterStats is a point-in-time view of a Limiter.
type LimiterStats struct {
	Limit            int    `json:"limit"`
	Min              int    `json:"min"`
	Max              int    `json:"max"`
	ConcurrencyLevel int    `json:"concurrency_level"`
	Waiting          int    `json:"waiting"`
	Waited           uint64 `json:"waited"`
	Rejected         uint64 `json:"rejected"`
	LimitUpdates     uint64 `json:"limit_updates"`
	Adaptive         bool   `json:"adaptive"`
}

// Stats returns the Limiter's counters. Waited counts Acquire calls that had
// to queue; LimitUpdates counts adaptive window updates.
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
		LimitUpdates:     l.updates.Load(),
		Adaptive:         l.adaptive,
	}
}
