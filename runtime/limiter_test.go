package runtime

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func newTestLimiter(t testing.TB, mutate func(*LimiterOptions)) *Limiter {
	t.Helper()
	opts := DefaultLimiterOptions()
	if mutate != nil {
		mutate(&opts)
	}
	l, err := NewLimiter(opts)
	if err != nil {
		t.Fatalf("NewLimiter(%+v): %v", opts, err)
	}
	return l
}

// limiterWaitFor spins until cond holds; the tests use it to wait for a
// goroutine to park, never to assert on timing.
func limiterWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		goruntime.Gosched()
	}
}

func TestNewLimiterRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*LimiterOptions)
		field  string
	}{
		{"negative max", func(o *LimiterOptions) { o.Max = -1 }, "Max"},
		{"huge max", func(o *LimiterOptions) { o.Max = limiterMaxLimit + 1 }, "Max"},
		{"zero min", func(o *LimiterOptions) { o.Min = 0 }, "Min"},
		{"min above max", func(o *LimiterOptions) { o.Min, o.Max = 5, 4 }, "Min"},
		{"negative initial", func(o *LimiterOptions) { o.Max, o.Initial = 8, -1 }, "Initial"},
		{"initial above max", func(o *LimiterOptions) { o.Max, o.Initial = 8, 9 }, "Initial"},
		{"initial below min", func(o *LimiterOptions) { o.Min, o.Max, o.Initial = 3, 8, 2 }, "Initial"},
		{"window samples above the packed counter", func(o *LimiterOptions) { o.Adaptive, o.MinWindowSamples = true, limiterMaxWindowSamples+1 }, "MinWindowSamples"},
		{"negative window samples", func(o *LimiterOptions) { o.Adaptive, o.MinWindowSamples = true, -1 }, "MinWindowSamples"},
		{"negative window", func(o *LimiterOptions) { o.Adaptive, o.Window = true, -time.Second }, "Window"},
		{"factor below one", func(o *LimiterOptions) { o.Adaptive, o.MaxLimitFactor = true, 0.5 }, "MaxLimitFactor"},
		{"negative queue factor", func(o *LimiterOptions) { o.QueueFactor = -1 }, "QueueFactor"},
		{"NaN queue factor", func(o *LimiterOptions) { o.QueueFactor = math.NaN() }, "QueueFactor"},
		{"negative min queue", func(o *LimiterOptions) { o.MinQueue = -1 }, "MinQueue"},
		{"tolerance below one", func(o *LimiterOptions) { o.Adaptive, o.Tolerance = true, 0.5 }, "Tolerance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultLimiterOptions()
			tt.mutate(&opts)
			l, err := NewLimiter(opts)
			if err == nil {
				t.Fatalf("NewLimiter(%+v) = %v, nil; want an error naming %s", opts, l, tt.field)
			}
			if !strings.Contains(err.Error(), "LimiterOptions."+tt.field) {
				t.Errorf("error %q does not name LimiterOptions.%s", err, tt.field)
			}
		})
	}
}

func TestNewLimiterDefaults(t *testing.T) {
	fixed := newTestLimiter(t, nil)
	if fixed.Max() != DefaultConcurrencyCeiling || fixed.Limit() != DefaultConcurrencyCeiling || fixed.Min() != 1 {
		t.Errorf("fixed default limiter: max %d limit %d min %d; want max=limit=%d min 1", fixed.Max(), fixed.Limit(), fixed.Min(), DefaultConcurrencyCeiling)
	}
	adaptive := newTestLimiter(t, func(o *LimiterOptions) { o.Adaptive = true })
	if adaptive.Limit() != DefaultInitialLimit || adaptive.Max() != DefaultConcurrencyCeiling {
		t.Errorf("adaptive limiter starts at %d of %d; want %d of %d (no GOMAXPROCS-derived figure)", adaptive.Limit(), adaptive.Max(), DefaultInitialLimit, DefaultConcurrencyCeiling)
	}
	small := newTestLimiter(t, func(o *LimiterOptions) { o.Adaptive, o.Max = true, 8 })
	if small.Limit() != 8 {
		t.Errorf("adaptive limiter with Max 8 starts at %d; want 8", small.Limit())
	}
	explicit := newTestLimiter(t, func(o *LimiterOptions) { o.Max, o.Min, o.Initial = 10, 2, 3 })
	if explicit.Limit() != 3 || explicit.Max() != 10 || explicit.Min() != 2 {
		t.Errorf("explicit limiter: %+v", explicit.Stats())
	}
}

func TestLimiterTryAcquireUpToLimit(t *testing.T) {
	l := newTestLimiter(t, func(o *LimiterOptions) { o.Max = 3 })
	for i := range 3 {
		if !l.TryAcquire() {
			t.Fatalf("TryAcquire #%d failed below the limit", i+1)
		}
	}
	if l.TryAcquire() {
		t.Fatal("TryAcquire succeeded at the limit")
	}
	if l.InFlight() != 3 || l.ConcurrencyLevel() != 3 || l.Available() != 0 || l.Rejected() != 1 {
		t.Fatalf("after filling: %+v available %d", l.Stats(), l.Available())
	}
	l.Release()
	if !l.TryAcquire() {
		t.Fatal("TryAcquire failed after a Release")
	}
	for range 3 {
		l.Release()
	}
	if l.InFlight() != 0 || l.Available() != 3 {
		t.Fatalf("after releasing all: %+v", l.Stats())
	}
}

func TestLimiterReleaseWithoutAcquirePanics(t *testing.T) {
	l := newTestLimiter(t, func(o *LimiterOptions) { o.Max = 2 })
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Fatal("Release without Acquire did not panic")
			}
		}()
		l.Release()
	}()
	if l.Limit() != 2 || l.InFlight() != 0 {
		t.Fatalf("state after the bad Release: limit %d in-flight %d; want 2, 0", l.Limit(), l.InFlight())
	}
	if !l.TryAcquire() || !l.TryAcquire() || l.TryAcquire() {
		t.Fatal("limiter no longer grants exactly its limit")
	}
}

func TestLimiterAcquireHonoursContext(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	l := newTestLimiter(t, func(o *LimiterOptions) { o.Max = 1 })
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}

	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if err := l.Acquire(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire on a full limiter with a done context = %v; want context.Canceled", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.Acquire(ctx) }()
	limiterWaitFor(t, "the waiter to queue", func() bool { return l.Waiting() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Acquire = %v; want context.Canceled", err)
	}
	if l.Waiting() != 0 || l.InFlight() != 1 || l.Rejected() != 2 {
		t.Fatalf("after cancellation: %+v", l.Stats())
	}
	l.Release()
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatalf("Acquire after the queue emptied: %v", err)
	}
	l.Release()
}

func TestLimiterWakesWaitersInOrder(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	l := newTestLimiter(t, func(o *LimiterOptions) { o.Max, o.MinQueue = 1, 5 })
	if l.queueBound(1) < 5 {
		t.Fatalf("queue bound %d at limit 1: the test needs 5 waiters", l.queueBound(1))
	}
	if !l.TryAcquire() {
		t.Fatal("TryAcquire on an empty limiter failed")
	}
	const n = 5
	order := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			order <- i
			l.Release()
		}()
		limiterWaitFor(t, "waiter to queue", func() bool { return l.Waiting() == i+1 })
	}
	if l.TryAcquire() {
		t.Fatal("TryAcquire overtook queued callers")
	}
	l.Release()
	wg.Wait()
	close(order)
	want := 0
	for got := range order {
		if got != want {
			t.Fatalf("waiter %d served in position %d", got, want)
		}
		want++
	}
	if st := l.Stats(); st.ConcurrencyLevel != 0 || st.Waiting != 0 || st.Waited != n {
		t.Fatalf("after the queue drained: %+v", st)
	}
}

func TestLimiterSetLimit(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	l := newTestLimiter(t, func(o *LimiterOptions) { o.Min, o.Max, o.Initial, o.MinQueue = 2, 6, 4, 8 })
	for range 4 {
		if !l.TryAcquire() {
			t.Fatal("TryAcquire below the limit failed")
		}
	}
	l.SetLimit(1)
	if l.Limit() != 2 {
		t.Fatalf("SetLimit(1) with Min 2: limit %d; want 2", l.Limit())
	}
	if l.Available() != 0 || l.TryAcquire() {
		t.Fatal("a lowered limit handed out a permit")
	}
	// Two releases bring in-flight to the new limit: still nothing free.
	l.Release()
	l.Release()
	if l.TryAcquire() {
		t.Fatal("permit granted with in-flight at the lowered limit")
	}

	errc := make(chan error, 2)
	for range 2 {
		go func() { errc <- l.Acquire(context.Background()) }()
	}
	limiterWaitFor(t, "two waiters", func() bool { return l.Waiting() == 2 })
	l.SetLimit(100)
	if l.Limit() != 6 {
		t.Fatalf("SetLimit(100) with Max 6: limit %d; want 6", l.Limit())
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if l.InFlight() != 4 {
		t.Fatalf("raising the limit served %d waiters; want in-flight 4, got %d", 2, l.InFlight())
	}
	for range 4 {
		l.Release()
	}
}

// limiterModel is the sequential specification the property tests check
// the Limiter against.
type limiterModel struct {
	min, max, limit, inflight int
}

// limiterRunOps interprets ops as a random sequence of limiter operations
// and checks every invariant after each.
func limiterRunOps(t *testing.T, ops []byte) {
	t.Helper()
	if len(ops) < 3 {
		return
	}
	minL := 1 + int(ops[0]%4)
	maxL := minL + int(ops[1]%12)
	init := minL + int(ops[2])%(maxL-minL+1)
	clock := NewFakeClock(0)
	l, err := NewLimiter(LimiterOptions{
		Max: maxL, Min: minL, Initial: init, Adaptive: true,
		MinWindowSamples: 3, Window: time.Millisecond, Clock: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := limiterModel{min: minL, max: maxL, limit: init}
	for i := 3; i+1 < len(ops); i += 2 {
		op, arg := ops[i]%5, int(ops[i+1])
		availBefore := l.Available()
		limitBefore := l.Limit()
		switch op {
		case 0: // TryAcquire
			got := l.TryAcquire()
			if want := m.inflight < m.limit; got != want {
				t.Fatalf("op %d: TryAcquire = %v with in-flight %d limit %d", i, got, m.inflight, m.limit)
			}
			if got {
				m.inflight++
				if m.inflight > l.Limit() {
					t.Fatalf("op %d: in-flight %d above limit %d at acquire", i, m.inflight, l.Limit())
				}
			}
		case 1: // Release
			if m.inflight > 0 {
				l.Release()
				m.inflight--
			}
		case 2: // SetLimit
			n := arg%(maxL+4) - 2
			l.SetLimit(n)
			m.limit = min(max(n, minL), maxL)
			if l.Limit() != m.limit {
				t.Fatalf("op %d: SetLimit(%d) gave %d; want %d", i, n, l.Limit(), m.limit)
			}
		case 3, 4: // Observe: latency and drops drive the adaptive algorithm
			clock.Advance(time.Millisecond)
			l.Observe(int64(1+arg%8)*int64(time.Millisecond), arg%7 == 0)
			m.limit = l.Limit() // the algorithm's choice; bounds checked below
		}
		if l.Limit() < limitBefore && l.Available() > availBefore {
			t.Fatalf("op %d: limit fell %d -> %d but available rose %d -> %d", i, limitBefore, l.Limit(), availBefore, l.Available())
		}
		if lim := l.Limit(); lim < minL || lim > maxL {
			t.Fatalf("op %d: limit %d outside [%d, %d]", i, lim, minL, maxL)
		}
		if l.InFlight() != m.inflight {
			t.Fatalf("op %d: in-flight %d; model says %d", i, l.InFlight(), m.inflight)
		}
		if want := max(0, m.limit-m.inflight); l.Available() != want {
			t.Fatalf("op %d: available %d; want %d", i, l.Available(), want)
		}
	}
}

func TestLimiterPropertyRandomOps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		ops := make([]byte, 3+r.IntN(400))
		for i := range ops {
			ops[i] = byte(r.Uint32())
		}
		limiterRunOps(t, ops)
	}
}

func FuzzLimiterOps(f *testing.F) {
	f.Add([]byte{0, 5, 2, 0, 0, 0, 0, 2, 0, 1, 0, 3, 7, 3, 0, 3, 14})
	f.Add([]byte{3, 11, 9, 0, 1, 0, 1, 0, 1, 2, 200, 1, 0, 4, 0, 4, 0, 4, 0})
	seed := make([]byte, 64)
	binary.LittleEndian.PutUint64(seed, 0x9e3779b97f4a7c15)
	f.Add(seed)
	f.Fuzz(limiterRunOps)
}

// TestLimiterConcurrentInvariants hammers one limiter from many goroutines
// with acquires, cancellations and limit changes.
func TestLimiterConcurrentInvariants(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const (
		minL, maxL = 2, 8
		workers    = 16
		rounds     = 400
	)
	l := newTestLimiter(t, func(o *LimiterOptions) { o.Min, o.Max, o.Initial, o.MinQueue = minL, maxL, 4, 1000 })
	var holders atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range rounds {
				switch r.IntN(10) {
				case 0:
					l.SetLimit(r.IntN(maxL + 3))
					continue
				case 1:
					ctx, cancel := context.WithCancel(context.Background())
					cancel()
					if err := l.Acquire(ctx); err != nil {
						continue
					}
				case 2:
					if !l.TryAcquire() {
						continue
					}
				default:
					if err := l.Acquire(context.Background()); err != nil {
						t.Error(err)
						return
					}
				}
				if h := holders.Add(1); h > maxL {
					t.Errorf("%d holders with Max %d", h, maxL)
				}
				if lim := l.Limit(); lim < minL || lim > maxL {
					t.Errorf("limit %d outside [%d, %d]", lim, minL, maxL)
				}
				goruntime.Gosched()
				holders.Add(-1)
				l.Release()
			}
		}()
	}
	wg.Wait()
	if st := l.Stats(); st.ConcurrencyLevel != 0 || st.Waiting != 0 {
		t.Fatalf("after all goroutines finished: %+v", st)
	}
	if l.state.Load()&limiterQueued != 0 {
		t.Fatal("queued bit left set with an empty queue")
	}
}

// TestLimiterFixedLimitNeverExceeded checks the exact bound when nobody
// moves the limit.
func TestLimiterFixedLimitNeverExceeded(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const limit = 3
	l := newTestLimiter(t, func(o *LimiterOptions) { o.Max, o.MinQueue = limit, 1000 })
	var holders, peak atomic.Int64
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 300 {
				if err := l.Acquire(context.Background()); err != nil {
					t.Error(err)
					return
				}
				h := holders.Add(1)
				for p := peak.Load(); h > p && !peak.CompareAndSwap(p, h); p = peak.Load() {
				}
				goruntime.Gosched()
				holders.Add(-1)
				l.Release()
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > limit {
		t.Fatalf("peak holders %d above limit %d", p, limit)
	}
}

func limiterObserveWindow(l *Limiter, samples int, latency time.Duration, drop bool) {
	for i := range samples {
		l.Observe(int64(latency), drop && i == 0)
	}
}

// limiterHold fills the limiter so windows count as fully utilised.
func limiterHold(t *testing.T, l *Limiter) (release func()) {
	t.Helper()
	n := 0
	for l.TryAcquire() {
		n++
	}
	return func() {
		for range n {
			l.Release()
		}
	}
}

// limiterUpstream is a fake upstream of capacity c: its service time is
// base up to c calls in flight and grows by twice base per c beyond that
// (contention: throughput falls past capacity).
func limiterUpstream(c int, base time.Duration, inflight int) time.Duration {
	if inflight <= c {
		return base
	}
	return base + 2*base*time.Duration(inflight-c)/time.Duration(c)
}

// limiterRunWindows drives an adaptive limiter with a fake clock through
// windows in which demand callers want a permit: each window holds as many
// permits as the limit grants (at most demand), observes one window of
// samples at the service time latency(held) gives, and advances the clock
// by a window. It returns the limit after each window.
func limiterRunWindows(t *testing.T, l *Limiter, clock *FakeClock, windows, demand int, latency func(held int) time.Duration) []int {
	t.Helper()
	var limits []int
	for range windows {
		held := 0
		for held < demand && l.TryAcquire() {
			held++
		}
		if held < demand {
			// Callers that found the limiter full: a queue timeout each.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_ = l.Acquire(ctx)
		}
		clock.Advance(DefaultLimiterWindow)
		for range DefaultLimiterMinWindowSamples {
			l.Observe(int64(latency(held)), false)
		}
		for range held {
			l.Release()
		}
		limits = append(limits, l.Limit())
	}
	return limits
}

func newAdaptiveTestLimiter(t *testing.T, mutate func(*LimiterOptions)) (*Limiter, *FakeClock) {
	t.Helper()
	clock := NewFakeClock(time.Hour)
	l := newTestLimiter(t, func(o *LimiterOptions) {
		o.Adaptive, o.Clock = true, clock
		if mutate != nil {
			mutate(o)
		}
	})
	return l, clock
}

// TestLimiterBurstRunsAtOnce: a burst of callers above the initial limit is
// admitted at once (slow start) while no rise in service time was seen.
func TestLimiterBurstRunsAtOnce(t *testing.T) {
	l, _ := newAdaptiveTestLimiter(t, nil)
	if l.Limit() != DefaultInitialLimit {
		t.Fatalf("initial limit %d; want %d", l.Limit(), DefaultInitialLimit)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // any wait would fail: every Acquire must be granted at once
	for i := range 64 {
		if err := l.Acquire(ctx); err != nil {
			t.Fatalf("Acquire %d of a burst of 64: %v (limit %d)", i+1, err, l.Limit())
		}
	}
	if l.Limit() > 2*64 {
		t.Fatalf("limit %d above MaxLimitFactor x in-flight", l.Limit())
	}
}

// TestLimiterConvergesUp: with steady service time and demand beyond the
// limit, the limit reaches the demand within a second of windows.
func TestLimiterConvergesUp(t *testing.T) {
	l, clock := newAdaptiveTestLimiter(t, func(o *LimiterOptions) { o.Initial = 4 })
	limits := limiterRunWindows(t, l, clock, 10, 300, func(int) time.Duration { return 20 * time.Millisecond })
	if l.Limit() < 300 {
		t.Fatalf("steady service time, demand 300: limits %v; want >= 300 within 10 windows", limits)
	}
	// A window without demand leaves the limit where it is.
	before := l.Limit()
	limiterRunWindows(t, l, clock, 3, 10, func(int) time.Duration { return 20 * time.Millisecond })
	if l.Limit() != before {
		t.Fatalf("idle windows moved the limit %d -> %d", before, l.Limit())
	}
}

// TestLimiterConvergesDownUnderRisingLatency: an upstream of capacity 8
// whose service time grows past 8 in flight, with 32 callers: the limit
// comes down to about the capacity and stays there, whether it starts at
// the default or far above it.
func TestLimiterConvergesDownUnderRisingLatency(t *testing.T) {
	// From the default initial limit the load ramps up through slow start,
	// so the limiter sees service time rise with concurrency. (A limiter
	// that admits all 32 at once, from a limit above them, sees no rise:
	// nothing tells it from an upstream that is simply that slow.)
	for _, initial := range []int{0, 16} {
		t.Run(fmt.Sprint("initial ", initial), func(t *testing.T) {
			l, clock := newAdaptiveTestLimiter(t, func(o *LimiterOptions) { o.Initial = initial })
			upstream := func(held int) time.Duration { return limiterUpstream(8, 10*time.Millisecond, held) }
			limits := limiterRunWindows(t, l, clock, 100, 32, upstream)
			// Within 2 s (20 windows) and from then on: 5..12 but for the
			// probes' windows, at most one in ten.
			out := 0
			for _, lim := range limits[20:] {
				if lim > 12 {
					t.Fatalf("limit %d above 12 after 20 windows (capacity 8); limits %v", lim, limits)
				}
				if lim < 5 {
					out++
				}
			}
			if out > len(limits[20:])/10 {
				t.Fatalf("limit below 5 in %d windows of %d (capacity 8); limits %v", out, len(limits[20:]), limits)
			}
		})
	}
}

// TestLimiterFollowsSlowerUpstream: service time that rises for everyone,
// not with concurrency, lowers the limit for one cut at most, then the
// baseline follows and the limit comes back.
func TestLimiterFollowsSlowerUpstream(t *testing.T) {
	l, clock := newAdaptiveTestLimiter(t, nil)
	limiterRunWindows(t, l, clock, 5, 40, func(int) time.Duration { return 10 * time.Millisecond })
	before := l.Limit()
	limits := limiterRunWindows(t, l, clock, 20, 40, func(int) time.Duration { return 30 * time.Millisecond })
	if l.Limit() < before || l.Limit() < 40 {
		t.Fatalf("upstream 3x slower for everyone: limit %d -> %v; want back to >= %d", before, limits, max(before, 40))
	}
}

// TestLimiterDropsCutTheLimit: windows with dropped executions (timeouts)
// lower the limit down to Min, never below.
func TestLimiterDropsCutTheLimit(t *testing.T) {
	l, clock := newAdaptiveTestLimiter(t, func(o *LimiterOptions) { o.Min, o.Initial = 2, 40 })
	for range 100 {
		clock.Advance(DefaultLimiterWindow)
		limiterObserveWindow(l, DefaultLimiterMinWindowSamples, time.Millisecond, true)
	}
	if l.Limit() != 2 {
		t.Fatalf("sustained drops: limit %d; want Min 2", l.Limit())
	}
}

// TestLimiterQueueBoundRejects: past its bound the queue turns callers away
// at once with ErrLimiterRejected, and the rejection is counted.
func TestLimiterQueueBoundRejects(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := newTestLimiter(t, func(o *LimiterOptions) { o.Max, o.QueueFactor, o.MinQueue = 2, 0.5, 3 })
	release := limiterHold(t, l)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			err := l.Acquire(ctx)
			if err == nil {
				l.Release()
			}
			errs <- err
		})
	}
	limiterWaitFor(t, "three queued callers", func() bool { return l.Waiting() == 3 })
	// The queue is full: the next caller is rejected without waiting, even
	// with a context that never ends.
	if err := l.Acquire(context.Background()); !errors.Is(err, ErrLimiterRejected) {
		t.Fatalf("Acquire past a full queue = %v; want ErrLimiterRejected", err)
	}
	if s := l.Stats(); s.QueueFull != 1 || s.Rejected != 2 || s.Waiting != 3 { // limiterHold's last TryAcquire and the rejection
		t.Fatalf("stats after a rejection: %+v", s)
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("queued caller: %v", err)
		}
	}
	var ce error = &ConcurrencyLimitError{Step: "s", Limit: 2}
	if !errors.Is(ce, ErrLimiterRejected) || !strings.Contains(ce.Error(), `"s"`) {
		t.Fatalf("ConcurrencyLimitError %q does not name its step or match ErrLimiterRejected", ce)
	}
	// No queue at all: a full limiter rejects.
	none := newTestLimiter(t, func(o *LimiterOptions) { o.Max, o.QueueFactor, o.MinQueue = 1, 0, 0 })
	if err := none.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := none.Acquire(ctx); !errors.Is(err, ErrLimiterRejected) {
		t.Fatalf("full limiter without a queue: %v; want ErrLimiterRejected", err)
	}
}

// TestLimiterQueueTimeoutIsOverloadSignal: a queued caller whose context ends
// is counted as a queue timeout, and the window it falls in sees demand
// beyond the limit: with service time steady, the limit grows, where the
// same window without it holds.
func TestLimiterQueueTimeoutIsOverloadSignal(t *testing.T) {
	for _, timeout := range []bool{false, true} {
		l, clock := newAdaptiveTestLimiter(t, func(o *LimiterOptions) { o.Initial = 10 })
		l.slowStart.Store(false) // no slow start: growth comes from windows only
		lat := int64(10 * time.Millisecond)
		clock.Advance(DefaultLimiterWindow)
		limiterObserveWindow(l, DefaultLimiterMinWindowSamples, time.Duration(lat), false) // baseline
		for range 5 {                                                                      // 5 of 10 in flight: no demand by utilisation
			if !l.TryAcquire() {
				t.Fatal("TryAcquire")
			}
		}
		if timeout {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			for range 5 {
				if !l.TryAcquire() {
					t.Fatal("TryAcquire")
				}
			}
			go func() { done <- l.Acquire(ctx) }()
			limiterWaitFor(t, "a queued caller", func() bool { return l.Waiting() == 1 })
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("queued Acquire: %v", err)
			}
			for range 5 {
				l.Release()
			}
			if s := l.Stats(); s.QueueTimeouts != 1 {
				t.Fatalf("QueueTimeouts %d; want 1", s.QueueTimeouts)
			}
		}
		clock.Advance(DefaultLimiterWindow)
		limiterObserveWindow(l, DefaultLimiterMinWindowSamples, time.Duration(lat), false)
		grew := l.Limit() > 10
		for range 5 {
			l.Release()
		}
		if grew != timeout {
			t.Fatalf("queue timeout %v: limit 10 -> %d; want growth only after a queue timeout", timeout, l.Limit())
		}
	}
}

// TestLimiterWindowDuration: a window closes once it has lasted Window, not
// after a number of samples.
func TestLimiterWindowDuration(t *testing.T) {
	l, clock := newAdaptiveTestLimiter(t, func(o *LimiterOptions) { o.Window = time.Second })
	limiterObserveWindow(l, 500, time.Millisecond, false)
	if n := l.Stats().LimitUpdates; n != 0 {
		t.Fatalf("%d windows closed before the window's duration", n)
	}
	clock.Advance(time.Second)
	limiterObserveWindow(l, 16, time.Millisecond, false) // the clock is read every 16th sample
	if n := l.Stats().LimitUpdates; n != 1 {
		t.Fatalf("LimitUpdates %d after the window's duration; want 1", n)
	}
}

// limiterWindowTotals returns the samples of the open window: its count and
// latency sum (drained and still packed), in-flight sum and drops.
func limiterWindowTotals(l *Limiter) (count, sum, inflight, drops int64) {
	w := l.winSamples.Load()
	l.pendMu.Lock()
	defer l.pendMu.Unlock()
	return l.pendCount + int64(w&limiterCountMask), l.pendSum + int64(w>>limiterCountBits),
		l.winInflight.Load(), l.winDrops.Load()
}

// TestLimiterWindowAverages feeds a known sequence into a timed window that
// stays open past several drains of the packed word, then closes it: the
// totals and the window's average latency are those of the sequence.
func TestLimiterWindowAverages(t *testing.T) {
	clock := NewFakeClock(0)
	l := newTestLimiter(t, func(o *LimiterOptions) {
		o.Adaptive, o.Max, o.Initial, o.MinWindowSamples, o.Window, o.Clock = true, 50, 10, 4, time.Second, clock
	})
	lat := []int64{1, 7, 1000, 3_000_000, 42, 0, 999_999_999, 5, 123_456, 77, int64(time.Hour)}
	var wantSum, wantInflight, wantDrops int64
	for i, v := range lat {
		held := i % 3
		for range held {
			if !l.TryAcquire() {
				t.Fatal("TryAcquire refused under the limit")
			}
		}
		wantSum += v
		wantInflight += int64(held)
		if i%4 == 1 {
			wantDrops++
		}
		l.Observe(v, i%4 == 1)
		if i == 5 {
			l.spill() // as a full packed word would: the totals survive it
		}
		for range held {
			l.Release()
		}
	}
	count, sum, inflight, drops := limiterWindowTotals(l)
	if count != int64(len(lat)) || sum != wantSum || inflight != wantInflight || drops != wantDrops {
		t.Fatalf("window totals count %d sum %d inflight %d drops %d; want %d %d %d %d",
			count, sum, inflight, drops, len(lat), wantSum, wantInflight, wantDrops)
	}
	if l.pendCount == 0 {
		t.Fatal("the packed word was never drained; the test does not cover draining")
	}
	// After the window's duration, the next clock check (every 16th
	// sample) closes it.
	clock.Advance(time.Second)
	extra := 0
	for l.Stats().LimitUpdates == 0 && extra < 16 {
		l.Observe(0, false)
		extra++
	}
	if l.Stats().LimitUpdates != 1 {
		t.Fatalf("LimitUpdates %d after %d more samples; want 1", l.Stats().LimitUpdates, extra)
	}
	want := float64(wantSum) / float64(len(lat)+extra)
	if l.baseline != want {
		t.Fatalf("window average latency %v; want %v", l.baseline, want)
	}
	if count, sum, inflight, drops := limiterWindowTotals(l); count|sum|inflight|drops != 0 {
		t.Fatalf("closed window left count %d sum %d inflight %d drops %d", count, sum, inflight, drops)
	}
}

func TestLimiterObserveClampsLatency(t *testing.T) {
	tests := []struct {
		name string
		in   int64
		want int64
	}{
		{"negative", -5, 0},
		{"zero", 0, 0},
		{"one hour", int64(time.Hour), int64(time.Hour)},
		{"at the clamp", limiterMaxSampleNs, limiterMaxSampleNs},
		{"above the clamp", limiterMaxSampleNs + 1, limiterMaxSampleNs},
		{"max int64", math.MaxInt64, limiterMaxSampleNs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLimiter(t, func(o *LimiterOptions) { o.Adaptive, o.MinWindowSamples = true, 2 })
			l.Observe(tt.in, false)
			if count, sum, _, _ := limiterWindowTotals(l); count != 1 || sum != tt.want {
				t.Fatalf("Observe(%d): count %d sum %d; want 1 %d", tt.in, count, sum, tt.want)
			}
		})
	}
	// A full count field of samples at the clamp does not overflow the sum.
	if limiterCountMask*limiterMaxSampleNs >= uint64(1)<<(64-limiterCountBits) {
		t.Fatalf("%d samples of %d ns overflow the %d-bit sum", limiterCountMask, limiterMaxSampleNs, 64-limiterCountBits)
	}
	if limiterMaxSampleNs < int64(time.Hour) || limiterSpillMark < 2*limiterMaxWindowSamples {
		t.Fatalf("clamp %d ns below an hour or spill mark %d below two windows", limiterMaxSampleNs, limiterSpillMark)
	}
	// While the caller completing a window is held up, samples at the clamp
	// keep arriving: they spill and none is lost.
	clock := NewFakeClock(0)
	l := newTestLimiter(t, func(o *LimiterOptions) {
		o.Adaptive, o.MinWindowSamples, o.Window, o.Clock = true, limiterMaxWindowSamples, time.Second, clock
	})
	l.updating.Store(true)
	const n = 10 * limiterCountMask
	for range n {
		l.Observe(math.MaxInt64, false)
	}
	if count, sum, _, _ := limiterWindowTotals(l); count != n || sum != n*limiterMaxSampleNs {
		t.Fatalf("%d clamped samples: count %d sum %d; want %d %d", n, count, sum, n, int64(n*limiterMaxSampleNs))
	}
	l.updating.Store(false)
	clock.Advance(time.Second)
	for l.Stats().LimitUpdates == 0 {
		l.Observe(math.MaxInt64, false)
	}
	// Every sample is at the clamp, so is their average, up to rounding.
	if math.Abs(l.baseline-limiterMaxSampleNs) > 1e-9*limiterMaxSampleNs {
		t.Fatalf("window average %v; want the clamp %d", l.baseline, limiterMaxSampleNs)
	}
}

// TestLimiterObserveConcurrentTotals observes from many goroutines into one
// open timed window: every sample's latency and count arrive exactly once
// across the drains of the packed word.
func TestLimiterObserveConcurrentTotals(t *testing.T) {
	clock := NewFakeClock(0)
	l := newTestLimiter(t, func(o *LimiterOptions) {
		o.Adaptive, o.MinWindowSamples, o.Window, o.Clock = true, 3, time.Hour, clock
	})
	const workers, perWorker = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				l.Observe(int64(w*perWorker+i), i%10 == 0)
			}
		})
	}
	wg.Wait()
	const n = workers * perWorker
	count, sum, _, drops := limiterWindowTotals(l)
	if count != n || sum != n*(n-1)/2 || drops != workers*perWorker/10 {
		t.Fatalf("count %d sum %d drops %d; want %d %d %d", count, sum, drops, n, n*(n-1)/2, workers*perWorker/10)
	}
	if l.Stats().LimitUpdates != 0 {
		t.Fatal("a window closed before its duration")
	}
}

func TestLimiterFixedIgnoresObserve(t *testing.T) {
	l := newTestLimiter(t, func(o *LimiterOptions) { o.Max = 5 })
	limiterObserveWindow(l, 1000, time.Second, true)
	if l.Limit() != 5 || l.Stats().LimitUpdates != 0 {
		t.Fatalf("fixed limiter moved: %+v", l.Stats())
	}
}

func TestLimiterHotPathDoesNotAllocate(t *testing.T) {
	l := newTestLimiter(t, func(o *LimiterOptions) { o.Adaptive, o.Max, o.MinWindowSamples = true, 64, 8 })
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if err := l.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		l.Observe(1000, false)
		l.Release()
		if l.TryAcquire() {
			l.Release()
		}
	})
	if allocs != 0 {
		t.Fatalf("Acquire/Observe/Release/TryAcquire allocate %v times per run", allocs)
	}
}

func BenchmarkLimiterAcquireRelease(b *testing.B) {
	l := newTestLimiter(b, func(o *LimiterOptions) { o.Max = 64 })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Acquire(ctx); err != nil {
			b.Fatal(err)
		}
		l.Release()
	}
}

func BenchmarkLimiterTryAcquireRelease(b *testing.B) {
	l := newTestLimiter(b, func(o *LimiterOptions) { o.Max = 64 })
	b.ReportAllocs()
	for b.Loop() {
		if l.TryAcquire() {
			l.Release()
		}
	}
}

func BenchmarkLimiterAcquireReleaseParallel(b *testing.B) {
	l := newTestLimiter(b, func(o *LimiterOptions) { o.Max = limiterMaxLimit })
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Acquire(ctx); err != nil {
				b.Fatal(err)
			}
			l.Release()
		}
	})
}

// BenchmarkLimiterContended keeps the limiter full so callers queue.
func BenchmarkLimiterContended(b *testing.B) {
	l := newTestLimiter(b, func(o *LimiterOptions) { o.Max = 1 })
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Acquire(ctx); err != nil {
				b.Fatal(err)
			}
			l.Release()
		}
	})
}

func BenchmarkLimiterObserve(b *testing.B) {
	l := newTestLimiter(b, func(o *LimiterOptions) { o.Adaptive, o.Max = true, 64 })
	b.ReportAllocs()
	for b.Loop() {
		l.Observe(1000, false)
	}
}

func BenchmarkLimiterObserveParallel(b *testing.B) {
	l := newTestLimiter(b, func(o *LimiterOptions) { o.Adaptive, o.Max = true, 64 })
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Observe(1000, false)
		}
	})
}

func ExampleLimiter() {
	opts := DefaultLimiterOptions()
	opts.Max = 2 // max_concurrent_executions
	l, err := NewLimiter(opts)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for range 2 {
		if err := l.Acquire(ctx); err != nil {
			panic(err)
		}
	}
	fmt.Println(l.ConcurrencyLevel(), l.TryAcquire())
	l.SetLimit(1) // lowering keeps running executions and grants nothing new
	l.Release()
	fmt.Println(l.ConcurrencyLevel(), l.TryAcquire())
	l.Release()
	fmt.Println(l.TryAcquire())
	// Output:
	// 2 false
	// 1 false
	// true
}
