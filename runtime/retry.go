package runtime

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"time"
)

// Backoff is the delay policy between attempts: exponential growth from
// Initial by Multiplier, capped at Max, optionally with full jitter. The
// zero Backoff retries at once. Its fields are plain values so that generated
// code can build it from compiled-in constants.
type Backoff struct {
	// Initial is the delay after the first failed attempt. It must not be
	// negative.
	Initial time.Duration
	// Max caps the delay; zero means no cap. If set, it must be at least
	// Initial.
	Max time.Duration
	// Multiplier is the growth per attempt; zero means 1 (a constant delay).
	// Otherwise it must be a finite number of at least 1.
	Multiplier float64
	// Jitter spreads each delay uniformly over [0, delay] ("full jitter"), so
	// that callers failing together do not retry together.
	Jitter bool
}

// Validate reports the first invalid field of b.
func (b Backoff) Validate() error {
	switch {
	case b.Initial < 0:
		return fmt.Errorf("runtime: Backoff.Initial = %v, want >= 0", b.Initial)
	case b.Max < 0:
		return fmt.Errorf("runtime: Backoff.Max = %v, want >= 0 (0 means no cap)", b.Max)
	case b.Max != 0 && b.Max < b.Initial:
		return fmt.Errorf("runtime: Backoff.Max = %v is below Initial = %v, want 0 (no cap) or >= Initial", b.Max, b.Initial)
	case b.Multiplier != 0 && !(b.Multiplier >= 1 && b.Multiplier <= math.MaxFloat64):
		return fmt.Errorf("runtime: Backoff.Multiplier = %v, want 0 (means 1) or a finite number >= 1", b.Multiplier)
	}
	return nil
}

// retryPowLoopMax bounds the multiply loop of Delay; past it math.Pow is
// cheaper.
const retryPowLoopMax = 64

// Delay returns the wait after the given failed attempt (1 for the first).
// rnd is a uniformly random word, used only with Jitter; take it from a
// RetryRand. Delay is pure and does not allocate; attempts below 1 count as 1
// and results saturate instead of overflowing.
func (b Backoff) Delay(attempt int, rnd uint64) time.Duration {
	if b.Initial <= 0 {
		return 0
	}
	limit := b.Max
	if limit <= 0 {
		limit = math.MaxInt64
	}
	d := float64(b.Initial)
	if b.Multiplier > 1 && attempt > 1 {
		if n := attempt - 1; n <= retryPowLoopMax {
			for ; n > 0 && d < float64(limit); n-- {
				d *= b.Multiplier
			}
		} else {
			d *= math.Pow(b.Multiplier, float64(n))
		}
	}
	delay := limit
	if d < float64(limit) {
		delay = min(time.Duration(d), limit) // float64(limit) may round up
	}
	if b.Jitter && delay > 0 {
		hi, _ := bits.Mul64(rnd, uint64(delay)+1)
		delay = time.Duration(hi)
	}
	return delay
}

// RetryRand is a small random source (splitmix64) for backoff jitter. It is
// not safe for concurrent use: give each caller its own.
type RetryRand struct {
	state uint64
}

// NewRetryRand returns a RetryRand seeded with seed.
func NewRetryRand(seed uint64) RetryRand { return RetryRand{state: seed} }

// Uint64 returns the next random word.
func (r *RetryRand) Uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// RetrySleeper waits between attempts on one reusable timer, without a
// goroutine. The zero value is ready to use; it is not safe for concurrent
// use. Call Stop when done with it.
type RetrySleeper struct {
	timer *time.Timer
}

// Sleep waits for d or until ctx is done, whichever comes first, and returns
// ctx.Err() in the second case. A done context returns at once, even for
// d <= 0; otherwise d <= 0 returns nil at once.
func (s *RetrySleeper) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	// Since Go 1.23, Reset leaves no stale tick in the channel, whether the
	// timer fired or was stopped.
	if s.timer == nil {
		s.timer = time.NewTimer(d)
	} else {
		s.timer.Reset(d)
	}
	select {
	case <-s.timer.C:
		return nil
	case <-ctx.Done():
		s.timer.Stop()
		return ctx.Err()
	}
}

// Stop releases the timer, if any.
func (s *RetrySleeper) Stop() {
	if s.timer != nil {
		s.timer.Stop()
	}
}

// Sleep waits for d or until ctx is done; see RetrySleeper.Sleep. Loops that
// wait repeatedly should keep a RetrySleeper instead.
func Sleep(ctx context.Context, d time.Duration) error {
	var s RetrySleeper
	defer s.Stop()
	return s.Sleep(ctx, d)
}
