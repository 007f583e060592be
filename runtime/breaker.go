package runtime

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// BreakerState is the state of a circuit breaker.
type BreakerState uint8

const (
	// BreakerClosed lets every call through and counts consecutive failures.
	BreakerClosed BreakerState = iota
	// BreakerOpen rejects every call until the recovery timeout has passed.
	BreakerOpen
	// BreakerHalfOpen lets a bounded number of probe calls through; the first
	// probe to succeed closes the breaker, the first to fail reopens it.
	BreakerHalfOpen
)

// String returns "closed", "open" or "half-open".
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("BreakerState(%d)", uint8(s))
}

// BreakerSettings configures a Breaker. The numeric fields are plain values so
// that generated code can build them from compiled-in constants.
type BreakerSettings struct {
	// FailureThreshold is the number of consecutive failures that opens a
	// closed breaker (circuit_breaker_failure_threshold). It must be at least 1.
	FailureThreshold int
	// RecoveryTimeout is how long the breaker stays open before it lets probes
	// through (circuit_breaker_recovery_timeout_seconds). It must be positive.
	// It is also how long a half-open breaker waits for an outstanding probe
	// before it presumes the probe lost and admits new ones.
	RecoveryTimeout time.Duration
	// HalfOpenMaxProbes bounds the calls admitted in one half-open period.
	// Zero means 1.
	HalfOpenMaxProbes int
	// Clock is read only when the breaker opens or is open. Nil means
	// SystemClock.
	Clock Clock
	// OnStateChange, if set, is called on every state change, in the order
	// of the changes and never concurrently: transitions wait for it. It
	// must return quickly and may call back only State and Counters.
	OnStateChange func(step string, from, to BreakerState)
}

// CircuitOpenError is the error for a call that a breaker rejected (see
// Breaker.Rejection). Match it with errors.As.
type CircuitOpenError struct {
	// Step names the step whose breaker rejected the call.
	Step string
	// RetryAfter estimates how long until the breaker admits calls again.
	RetryAfter time.Duration
}

// Error names the step and the time to wait.
func (e *CircuitOpenError) Error() string {
	return fmt.Sprintf("circuit breaker of step %q is open; retry after %v", e.Step, e.RetryAfter)
}

// BreakerPermit is what Breaker.Allow hands out: an admission or a rejection.
// Report the outcome of an admitted call by passing its permit to
// RecordSuccess, RecordFailure or RecordNeutral. Outcomes of calls admitted before a later
// state change are ignored, so a slow call cannot close or open a breaker
// that has moved on.
type BreakerPermit uint64

// Admitted reports whether the call may go ahead.
func (p BreakerPermit) Admitted() bool { return uint64(p)>>breakerStateShift != breakerRejected }

// Probe reports whether the permit admitted a half-open probe call.
func (p BreakerPermit) Probe() bool {
	return uint64(p)>>breakerStateShift == uint64(BreakerHalfOpen)
}

// RetryAfter returns, for a rejection, how long until the breaker admits
// calls again; zero for an admission.
func (p BreakerPermit) RetryAfter() time.Duration {
	if p.Admitted() {
		return 0
	}
	return time.Duration(uint64(p) & breakerRetryMask)
}

// BreakerCounters is a snapshot of a breaker's counters. The counters are
// cumulative since construction (Reset keeps them); fields are read one by
// one, so a snapshot taken under load is not one instant.
type BreakerCounters struct {
	// State is the stored state. An open breaker whose recovery timeout has
	// passed reports open until the next Allow moves it to half-open.
	State BreakerState
	// ConsecutiveFailures counts failures since the last success while closed.
	ConsecutiveFailures int
	// Calls counts admitted calls.
	Calls uint64
	// Failures counts failures reported with admitted permits.
	Failures uint64
	// Rejections counts calls refused while open or half-open.
	Rejections uint64
	// Opens counts transitions to open.
	Opens uint64
}

// The breaker's whole state machine lives in one word, so the closed path is
// one atomic load and one atomic add:
//
//	bits 62-63 state (closed is 0, so "closed" is "word < 1<<62")
//	bits 32-61 count: consecutive failures when closed, probes admitted when half-open
//	bits 0-31  generation, incremented by every transition
//
// A closed permit is the word itself, a probe permit the word with the count
// cleared, and a rejection has state bits 3 and the wait below them.
const (
	breakerStateShift        = 62
	breakerRejected   uint64 = 3
	breakerRetryMask  uint64 = 1<<breakerStateShift - 1
	breakerCountShift        = 32
	breakerCountUnit  uint64 = 1 << breakerCountShift
	breakerCountMask  uint64 = (1<<30 - 1) << breakerCountShift
	breakerGenMask    uint64 = 1<<32 - 1
	breakerMaxCount          = 1<<30 - 1
	breakerCacheLine         = 64
)

// Breaker is a circuit breaker for one step, safe for concurrent use:
//
//	p := b.Allow()
//	if !p.Admitted() {
//		return b.Rejection(p) // a *CircuitOpenError
//	}
//	out, err := step(ctx, in)
//	switch {
//	case err == nil:
//		b.RecordSuccess(p)
//	case upstreamUnhealthy(err):
//		b.RecordFailure(p)
//	default: // the caller's fault, say: it tells nothing of the upstream
//		b.RecordNeutral(p)
//	}
//
// Every admitted call must be reported exactly once. A probe that is never
// reported holds its half-open slot for one RecoveryTimeout.
type Breaker struct {
	// word and calls are plain words accessed only through sync/atomic
	// functions: the method wrappers of atomic.Uint64 would push Allow past
	// the inlining budget. Both sit first on their own cache line (the
	// struct is heap-allocated, so they are 8-byte aligned).
	word uint64
	_    [breakerCacheLine - 8]byte
	// calls is the only word every admitted call writes; keeping it off the
	// line of word spares the readers of word.
	calls uint64
	_     [breakerCacheLine - 8]byte

	failures   atomic.Uint64
	rejections atomic.Uint64
	opens      atomic.Uint64
	// changedAt is the clock reading of the last move to open or half-open.
	changedAt atomic.Int64

	// mu serialises transitions and state-change hooks; count updates within
	// a state go through compare-and-swap on word without it.
	mu sync.Mutex

	step string
	// threshold and timeout change only by Renew; they are read on the
	// slow paths alone.
	threshold atomic.Uint64
	timeout   atomic.Int64
	maxProbes uint64
	clock     Clock
	onChange  func(step string, from, to BreakerState)
	// observe hears of the breaker's own transitions (SetObserver);
	// remote is true while TripRemote moves it, which observe does not
	// hear of. Both are guarded by mu.
	observe func(to BreakerState, until time.Time)
	remote  bool
}

// SetObserver makes observe hear of every transition the breaker makes by
// itself: to open (until is then when the open period ends, by the wall
// clock), to half-open and to closed (until is zero). Opens made by
// TripRemote are not reported. It is called like OnStateChange, under the
// breaker's lock, and must not block. Set it once, before the breaker is
// used; the closed path never calls it.
func (b *Breaker) SetObserver(observe func(to BreakerState, until time.Time)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.observe = observe
}

// TripRemote opens the breaker until until, by the wall clock, because
// another replica's breaker of the same step opened: no failure is
// counted, and the observer does not hear of it. It does nothing and
// returns false when until has passed or the breaker is already open at
// least that long.
func (b *Breaker) TripRemote(until time.Time) bool {
	remaining := time.Until(until)
	if remaining <= 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now, timeout := b.clock.Nanotime(), b.timeout.Load()
	// The open period ends at changedAt + timeout: set changedAt so that
	// it ends at until.
	at := now + int64(remaining) - timeout
	b.remote = true
	defer func() { b.remote = false }()
	for {
		w := atomic.LoadUint64(&b.word)
		if BreakerState(w>>breakerStateShift) == BreakerOpen && b.changedAt.Load() >= at {
			return false
		}
		if b.moveLocked(w, BreakerOpen, at) {
			return true
		}
	}
}

// NewBreaker returns a closed breaker for step.
func NewBreaker(step string, s BreakerSettings) (*Breaker, error) {
	if err := CheckBreakerSettings(step, s); err != nil {
		return nil, err
	}
	probes := s.HalfOpenMaxProbes
	if probes == 0 {
		probes = 1
	}
	if probes < 1 || probes > breakerMaxCount {
		return nil, fmt.Errorf("runtime: breaker of step %q: HalfOpenMaxProbes = %d, want 0 (means 1) or 1..%d", step, s.HalfOpenMaxProbes, breakerMaxCount)
	}
	clock := s.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	b := &Breaker{
		step:      step,
		maxProbes: uint64(probes),
		clock:     clock,
		onChange:  s.OnStateChange,
	}
	b.threshold.Store(uint64(s.FailureThreshold))
	b.timeout.Store(int64(s.RecoveryTimeout))
	// Generation 1, so that no permit ever equals the zero permit.
	atomic.StoreUint64(&b.word, 1)
	return b, nil
}

// Step returns the name of the step the breaker guards.
func (b *Breaker) Step() string { return b.step }

// State returns the stored state (see BreakerCounters.State).
func (b *Breaker) State() BreakerState {
	return BreakerState(atomic.LoadUint64(&b.word) >> breakerStateShift)
}

// Allow admits a call or rejects it; see BreakerPermit. When closed it makes
// one atomic load and one atomic add, never reads the clock and is inlined.
// When open it reads the clock and may move the breaker to half-open.
func (b *Breaker) Allow() BreakerPermit {
	w := atomic.LoadUint64(&b.word)
	if w >= 1<<breakerStateShift {
		return b.allowSlow()
	}
	atomic.AddUint64(&b.calls, 1)
	return BreakerPermit(w)
}

// Rejection returns the *CircuitOpenError for a rejected permit, or nil for
// an admitted one. It allocates the error, so callers that only count
// rejections need not call it.
func (b *Breaker) Rejection(p BreakerPermit) error {
	if p.Admitted() {
		return nil
	}
	return &CircuitOpenError{Step: b.step, RetryAfter: p.RetryAfter()}
}

// RecordSuccess reports that the call admitted with p succeeded. In the
// common case, closed with no failures counted, it is one atomic load.
func (b *Breaker) RecordSuccess(p BreakerPermit) {
	// Equal only in the permit's period with no failures counted (a closed
	// permit carries the count it was admitted with).
	if atomic.LoadUint64(&b.word) != uint64(p)&^breakerCountMask {
		b.recordSuccessSlow(p)
	}
}

// RecordFailure reports that the call admitted with p failed.
func (b *Breaker) RecordFailure(p BreakerPermit) {
	b.recordFailureSlow(p)
}

// RecordNeutral reports that the call admitted with p ended in a way that
// says nothing about the health of what the breaker guards, such as a
// request rejected for bad input. It neither counts a failure nor, as a
// success would, clears the consecutive failures. A half-open probe's slot
// is given back, so another call may probe; a closed permit needs no
// bookkeeping, and RecordNeutral then touches no shared memory.
func (b *Breaker) RecordNeutral(p BreakerPermit) {
	if p.Probe() {
		b.releaseProbe(p)
	}
}

// Reset closes the breaker and forgets counted failures; calls admitted
// before it are then reported to no effect. The cumulative counters are kept.
func (b *Breaker) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.moveLocked(atomic.LoadUint64(&b.word), BreakerClosed, 0) {
	}
}

// Renew makes b what NewBreaker(b.Step(), s) would return, in place: the
// new FailureThreshold and RecoveryTimeout, closed, every counter at zero
// (the ExecutorCore builds new breakers when these settings change; a
// generated executor, whose breakers are fields, renews them). Calls
// admitted before are then reported to no effect. It checks s as
// NewBreaker does and changes nothing when s is invalid; the clock, probes
// and hook stay b's.
func (b *Breaker) Renew(s BreakerSettings) error {
	if err := CheckBreakerSettings(b.step, s); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.threshold.Store(uint64(s.FailureThreshold))
	b.timeout.Store(int64(s.RecoveryTimeout))
	for !b.moveLocked(atomic.LoadUint64(&b.word), BreakerClosed, 0) {
	}
	atomic.StoreUint64(&b.calls, 0)
	b.failures.Store(0)
	b.rejections.Store(0)
	b.opens.Store(0)
	return nil
}

// CheckBreakerSettings reports what NewBreaker(step, s) would refuse of
// the threshold and the recovery timeout.
func CheckBreakerSettings(step string, s BreakerSettings) error {
	if s.FailureThreshold < 1 || s.FailureThreshold > breakerMaxCount {
		return fmt.Errorf("runtime: breaker of step %q: FailureThreshold = %d, want 1..%d", step, s.FailureThreshold, breakerMaxCount)
	}
	if s.RecoveryTimeout <= 0 {
		return fmt.Errorf("runtime: breaker of step %q: RecoveryTimeout = %v, want > 0", step, s.RecoveryTimeout)
	}
	return nil
}

// Counters returns a snapshot of the counters.
func (b *Breaker) Counters() BreakerCounters {
	w := atomic.LoadUint64(&b.word)
	c := BreakerCounters{
		State:      BreakerState(w >> breakerStateShift),
		Calls:      atomic.LoadUint64(&b.calls),
		Failures:   b.failures.Load(),
		Rejections: b.rejections.Load(),
		Opens:      b.opens.Load(),
	}
	if c.State == BreakerClosed {
		c.ConsecutiveFailures = int((w & breakerCountMask) >> breakerCountShift)
	}
	return c
}

func (b *Breaker) allowSlow() BreakerPermit {
	for {
		w := atomic.LoadUint64(&b.word)
		switch BreakerState(w >> breakerStateShift) {
		case BreakerClosed:
			atomic.AddUint64(&b.calls, 1)
			return BreakerPermit(w)
		case BreakerHalfOpen:
			if (w&breakerCountMask)>>breakerCountShift < b.maxProbes {
				if atomic.CompareAndSwapUint64(&b.word, w, w+breakerCountUnit) {
					atomic.AddUint64(&b.calls, 1)
					return BreakerPermit(w &^ breakerCountMask)
				}
				continue
			}
		}
		// Open, or half-open with every probe out: wait for the timeout.
		since := b.changedAt.Load()
		if atomic.LoadUint64(&b.word) != w {
			continue // since may belong to another period
		}
		now := b.clock.Nanotime()
		if elapsed, timeout := now-since, b.timeout.Load(); elapsed < timeout {
			b.rejections.Add(1)
			return BreakerPermit(breakerRejected<<breakerStateShift | min(uint64(timeout-elapsed), breakerRetryMask))
		}
		// Open: time to probe. Half-open: the probes are presumed lost, so a
		// new half-open period (a new generation) admits fresh ones.
		b.move(w, BreakerHalfOpen, now)
	}
}

func (b *Breaker) recordSuccessSlow(p BreakerPermit) {
	for {
		w := atomic.LoadUint64(&b.word)
		if !breakerSamePeriod(w, p) {
			return
		}
		if BreakerState(w>>breakerStateShift) == BreakerHalfOpen {
			if b.move(w, BreakerClosed, 0) {
				return
			}
			continue
		}
		if w&breakerCountMask == 0 || atomic.CompareAndSwapUint64(&b.word, w, w&^breakerCountMask) {
			return
		}
	}
}

func (b *Breaker) recordFailureSlow(p BreakerPermit) {
	if !p.Admitted() {
		return
	}
	b.failures.Add(1)
	for {
		w := atomic.LoadUint64(&b.word)
		if !breakerSamePeriod(w, p) {
			return
		}
		if BreakerState(w>>breakerStateShift) == BreakerHalfOpen ||
			(w&breakerCountMask)>>breakerCountShift+1 >= b.threshold.Load() {
			if b.move(w, BreakerOpen, b.clock.Nanotime()) {
				return
			}
			continue
		}
		if atomic.CompareAndSwapUint64(&b.word, w, w+breakerCountUnit) {
			return
		}
	}
}

// releaseProbe gives back the half-open slot of the probe admitted with p,
// if its period is still current.
func (b *Breaker) releaseProbe(p BreakerPermit) {
	for {
		w := atomic.LoadUint64(&b.word)
		if !breakerSamePeriod(w, p) || w&breakerCountMask == 0 {
			return
		}
		if atomic.CompareAndSwapUint64(&b.word, w, w-breakerCountUnit) {
			return
		}
	}
}

// breakerSamePeriod reports whether the word w is still in the state and
// generation that issued p. A rejection matches no word.
func breakerSamePeriod(w uint64, p BreakerPermit) bool {
	return (w^uint64(p))&^breakerCountMask == 0
}

// breakerNextGen returns the generation after that of w, skipping 0 so that
// the zero permit never matches.
func breakerNextGen(w uint64) uint64 {
	if g := (w + 1) & breakerGenMask; g != 0 {
		return g
	}
	return 1
}

// move performs a transition out of the period of w and reports whether it
// did; false means the word changed first and the caller must look again.
func (b *Breaker) move(w uint64, to BreakerState, now int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.moveLocked(w, to, now)
}

// moveLocked starts a new generation in state to. Only holders of mu change
// the state or the generation; without it, the count changes by
// compare-and-swap. A closed breaker trips only on the exact count its caller
// saw (a success in between resets it); elsewhere a count change, such as
// another probe admitted, does not alter the decision.
func (b *Breaker) moveLocked(w uint64, to BreakerState, now int64) bool {
	cur := atomic.LoadUint64(&b.word)
	from := BreakerState(w >> breakerStateShift)
	exact := from == BreakerClosed && to == BreakerOpen
	if !breakerSamePeriod(cur, BreakerPermit(w)) || (exact && cur != w) {
		return false
	}
	if to != BreakerClosed {
		// Stored before the word publishes the new state, so a reader that
		// sees the new word sees this reading.
		b.changedAt.Store(now)
	}
	for !atomic.CompareAndSwapUint64(&b.word, cur, uint64(to)<<breakerStateShift|breakerNextGen(cur)) {
		if exact {
			return false // a count change; changedAt is unused while closed
		}
		cur = atomic.LoadUint64(&b.word)
	}
	if to == BreakerOpen {
		b.opens.Add(1)
	}
	if from != to && b.onChange != nil {
		b.onChange(b.step, from, to)
	}
	if b.observe != nil && !b.remote {
		var until time.Time
		if to == BreakerOpen {
			until = time.Now().Add(time.Duration(b.timeout.Load()))
		}
		b.observe(to, until)
	}
	return true
}
