package runtime

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// breakerCountingClock counts readings, to prove which paths read the clock.
type breakerCountingClock struct {
	fake  *FakeClock
	reads atomic.Int64
}

func (c *breakerCountingClock) Nanotime() int64 {
	c.reads.Add(1)
	return c.fake.Nanotime()
}

// breakerTransitionLog records state changes in order.
type breakerTransitionLog struct {
	mu  sync.Mutex
	got []string
}

func (l *breakerTransitionLog) hook(step string, from, to BreakerState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, fmt.Sprintf("%s:%v->%v", step, from, to))
}

func (l *breakerTransitionLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := l.got
	l.got = nil
	return got
}

func TestNewBreakerRejectsInvalidSettings(t *testing.T) {
	tests := []struct {
		name string
		s    BreakerSettings
		want string
	}{
		{"zero threshold", BreakerSettings{FailureThreshold: 0, RecoveryTimeout: time.Second}, "FailureThreshold = 0"},
		{"negative threshold", BreakerSettings{FailureThreshold: -3, RecoveryTimeout: time.Second}, "FailureThreshold = -3"},
		{"huge threshold", BreakerSettings{FailureThreshold: breakerMaxCount + 1, RecoveryTimeout: time.Second}, "FailureThreshold = 1073741824"},
		{"zero timeout", BreakerSettings{FailureThreshold: 1}, "RecoveryTimeout = 0s"},
		{"negative timeout", BreakerSettings{FailureThreshold: 1, RecoveryTimeout: -time.Second}, "RecoveryTimeout = -1s"},
		{"negative probes", BreakerSettings{FailureThreshold: 1, RecoveryTimeout: time.Second, HalfOpenMaxProbes: -1}, "HalfOpenMaxProbes = -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewBreaker("fetch", tt.s)
			if err == nil {
				t.Fatalf("NewBreaker(%+v) = %v, nil; want an error", tt.s, b)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"fetch"`) {
				t.Errorf("error %q does not name the step and %q", err, tt.want)
			}
		})
	}
}

func TestNewBreakerDefaults(t *testing.T) {
	b, err := NewBreaker("s", BreakerSettings{FailureThreshold: 1, RecoveryTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.clock.(SystemClock); !ok {
		t.Errorf("nil Clock became %T, want SystemClock", b.clock)
	}
	if b.maxProbes != 1 {
		t.Errorf("HalfOpenMaxProbes 0 became %d, want 1", b.maxProbes)
	}
	if got := b.State(); got != BreakerClosed {
		t.Errorf("new breaker is %v, want closed", got)
	}
}

func TestBreakerStateString(t *testing.T) {
	for s, want := range map[BreakerState]string{
		BreakerClosed: "closed", BreakerOpen: "open", BreakerHalfOpen: "half-open", 7: "BreakerState(7)",
	} {
		if got := s.String(); got != want {
			t.Errorf("BreakerState(%d).String() = %q, want %q", s, got, want)
		}
	}
}

func breakerNewTest(t *testing.T, threshold, probes int, timeout time.Duration) (*Breaker, *FakeClock, *breakerTransitionLog) {
	t.Helper()
	clock := NewFakeClock(time.Hour)
	log := &breakerTransitionLog{}
	b, err := NewBreaker("fetch", BreakerSettings{
		FailureThreshold:  threshold,
		RecoveryTimeout:   timeout,
		HalfOpenMaxProbes: probes,
		Clock:             clock,
		OnStateChange:     log.hook,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b, clock, log
}

func breakerMustAdmit(t *testing.T, b *Breaker) BreakerPermit {
	t.Helper()
	p := b.Allow()
	if !p.Admitted() {
		t.Fatalf("Allow rejected in state %v: %v", b.State(), b.Rejection(p))
	}
	return p
}

func breakerMustReject(t *testing.T, b *Breaker, wantRetryAfter time.Duration) {
	t.Helper()
	p := b.Allow()
	if p.Admitted() {
		t.Fatalf("Allow admitted in state %v, want a rejection", b.State())
	}
	err := b.Rejection(p)
	var open *CircuitOpenError
	if !errors.As(err, &open) {
		t.Fatalf("Rejection = %v (%T), want *CircuitOpenError", err, err)
	}
	if open.Step != "fetch" || open.RetryAfter != wantRetryAfter {
		t.Errorf("rejection = %+v, want step fetch, RetryAfter %v", open, wantRetryAfter)
	}
	if !strings.Contains(err.Error(), `"fetch"`) || !strings.Contains(err.Error(), wantRetryAfter.String()) {
		t.Errorf("error text %q names neither the step nor the wait", err)
	}
}

func TestBreakerOpensAfterConsecutiveFailures(t *testing.T) {
	b, clock, log := breakerNewTest(t, 3, 1, 10*time.Second)

	// A success in between resets the count of consecutive failures.
	b.RecordFailure(breakerMustAdmit(t, b))
	b.RecordFailure(breakerMustAdmit(t, b))
	b.RecordSuccess(breakerMustAdmit(t, b))
	b.RecordFailure(breakerMustAdmit(t, b))
	b.RecordFailure(breakerMustAdmit(t, b))
	if got := b.Counters(); got.State != BreakerClosed || got.ConsecutiveFailures != 2 {
		t.Fatalf("after fail, fail, ok, fail, fail: %+v, want closed with 2 consecutive failures", got)
	}
	b.RecordFailure(breakerMustAdmit(t, b))
	if got := b.State(); got != BreakerOpen {
		t.Fatalf("after 3 consecutive failures: %v, want open", got)
	}
	breakerMustReject(t, b, 10*time.Second)
	clock.Advance(4 * time.Second)
	breakerMustReject(t, b, 6*time.Second)

	want := BreakerCounters{State: BreakerOpen, Calls: 6, Failures: 5, Rejections: 2, Opens: 1}
	if got := b.Counters(); got != want {
		t.Errorf("Counters() = %+v, want %+v", got, want)
	}
	if got := log.take(); len(got) != 1 || got[0] != "fetch:closed->open" {
		t.Errorf("state changes = %q, want [fetch:closed->open]", got)
	}
}

func TestBreakerHalfOpen(t *testing.T) {
	tests := []struct {
		name      string
		probes    int
		outcome   func(b *Breaker, p BreakerPermit)
		wantState BreakerState
		wantLog   []string
	}{
		{"probe success closes", 2, (*Breaker).RecordSuccess, BreakerClosed,
			[]string{"fetch:closed->open", "fetch:open->half-open", "fetch:half-open->closed"}},
		{"probe failure reopens", 2, (*Breaker).RecordFailure, BreakerOpen,
			[]string{"fetch:closed->open", "fetch:open->half-open", "fetch:half-open->open"}},
		{"single probe success closes", 1, (*Breaker).RecordSuccess, BreakerClosed,
			[]string{"fetch:closed->open", "fetch:open->half-open", "fetch:half-open->closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, clock, log := breakerNewTest(t, 1, tt.probes, 5*time.Second)
			b.RecordFailure(breakerMustAdmit(t, b))
			clock.Advance(5 * time.Second)

			probes := make([]BreakerPermit, tt.probes)
			for i := range probes {
				probes[i] = breakerMustAdmit(t, b)
				if !probes[i].Probe() {
					t.Fatalf("call %d in half-open is not a probe", i)
				}
			}
			if got := b.State(); got != BreakerHalfOpen {
				t.Fatalf("state with probes out = %v, want half-open", got)
			}
			// Every probe is out and none is overdue: reject, with the time
			// until the probes are presumed lost.
			clock.Advance(time.Second)
			breakerMustReject(t, b, 4*time.Second)

			tt.outcome(b, probes[0])
			if got := b.State(); got != tt.wantState {
				t.Fatalf("after the first probe's outcome: %v, want %v", got, tt.wantState)
			}
			// The other probes belong to a finished period: their outcomes
			// change nothing.
			for _, p := range probes[1:] {
				b.RecordFailure(p)
				b.RecordSuccess(p)
			}
			if got := b.State(); got != tt.wantState {
				t.Errorf("stale probe outcomes moved the breaker to %v", got)
			}
			if got := log.take(); strings.Join(got, " ") != strings.Join(tt.wantLog, " ") {
				t.Errorf("state changes = %q, want %q", got, tt.wantLog)
			}
		})
	}
}

func TestBreakerLostProbesAreReplaced(t *testing.T) {
	b, clock, log := breakerNewTest(t, 1, 1, 5*time.Second)
	b.RecordFailure(breakerMustAdmit(t, b))
	clock.Advance(5 * time.Second)
	lost := breakerMustAdmit(t, b)
	breakerMustReject(t, b, 5*time.Second)
	clock.Advance(5 * time.Second)

	fresh := breakerMustAdmit(t, b)
	if !fresh.Probe() || fresh == lost {
		t.Fatalf("after the probe timed out: permit %x (lost %x), want a fresh probe", fresh, lost)
	}
	b.RecordFailure(lost) // too late: ignored
	if got := b.State(); got != BreakerHalfOpen {
		t.Fatalf("late outcome of a lost probe moved the breaker to %v", got)
	}
	b.RecordSuccess(fresh)
	if got := b.State(); got != BreakerClosed {
		t.Fatalf("after the fresh probe succeeded: %v, want closed", got)
	}
	want := []string{"fetch:closed->open", "fetch:open->half-open", "fetch:half-open->closed"}
	if got := log.take(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("state changes = %q, want %q", got, want)
	}
}

func TestBreakerIgnoresOutcomesFromEarlierPeriods(t *testing.T) {
	b, clock, _ := breakerNewTest(t, 2, 1, time.Second)
	slow := breakerMustAdmit(t, b) // admitted while closed, reports late
	b.RecordFailure(breakerMustAdmit(t, b))
	b.RecordFailure(breakerMustAdmit(t, b))
	clock.Advance(time.Second)
	probe := breakerMustAdmit(t, b)

	b.RecordSuccess(slow)
	if got := b.State(); got != BreakerHalfOpen {
		t.Fatalf("a success admitted while closed closed a half-open breaker: %v", got)
	}
	b.RecordFailure(probe)
	if got := b.State(); got != BreakerOpen {
		t.Fatalf("failed probe left the breaker %v, want open", got)
	}
	b.RecordSuccess(BreakerPermit(0))
	b.RecordFailure(BreakerPermit(0))
	before := b.Counters()
	rejected := b.Allow()
	b.RecordSuccess(rejected)
	b.RecordFailure(rejected)
	after := b.Counters()
	if after.State != BreakerOpen || after.Opens != 2 || after.Failures != before.Failures {
		t.Errorf("zero or rejected permits changed the breaker: %+v then %+v, want open, 2 opens, no new failure", before, after)
	}
}

// TestBreakerNeutralOutcomes proves that a neutral outcome neither counts
// a failure nor clears the failures counted, and that a neutral probe gives
// its half-open slot back at once instead of holding it for a timeout.
func TestBreakerNeutralOutcomes(t *testing.T) {
	b, clock, log := breakerNewTest(t, 3, 1, 5*time.Second)
	b.RecordFailure(breakerMustAdmit(t, b))
	b.RecordFailure(breakerMustAdmit(t, b))
	for range 10 {
		b.RecordNeutral(breakerMustAdmit(t, b))
	}
	if c := b.Counters(); c.State != BreakerClosed || c.ConsecutiveFailures != 2 || c.Failures != 2 {
		t.Fatalf("after 2 failures and 10 neutral outcomes: %+v, want closed with 2 consecutive failures", c)
	}
	b.RecordFailure(breakerMustAdmit(t, b)) // the third in a row: neutral ones did not reset the count
	if got := b.State(); got != BreakerOpen {
		t.Fatalf("third failure with neutral outcomes between: %v, want open", got)
	}
	clock.Advance(5 * time.Second)
	probe := breakerMustAdmit(t, b)
	breakerMustReject(t, b, 5*time.Second)
	b.RecordNeutral(probe)
	if got := b.State(); got != BreakerHalfOpen {
		t.Fatalf("neutral probe moved the breaker to %v, want half-open", got)
	}
	next := breakerMustAdmit(t, b) // the slot is free again, no timeout needed
	if !next.Probe() {
		t.Fatal("the call after a neutral probe is not a probe")
	}
	breakerMustReject(t, b, 5*time.Second)
	b.RecordSuccess(next)
	if got := b.State(); got != BreakerClosed {
		t.Fatalf("after the second probe succeeded: %v, want closed", got)
	}
	b.RecordNeutral(BreakerPermit(0))
	b.RecordNeutral(probe) // a finished period: ignored
	if c := b.Counters(); c.State != BreakerClosed || c.Failures != 3 {
		t.Errorf("stale neutral outcomes changed the breaker: %+v", c)
	}
	want := []string{"fetch:closed->open", "fetch:open->half-open", "fetch:half-open->closed"}
	if got := log.take(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("state changes = %q, want %q", got, want)
	}
}

func TestBreakerReset(t *testing.T) {
	b, _, log := breakerNewTest(t, 1, 1, time.Hour)
	inFlight := breakerMustAdmit(t, b)
	b.RecordFailure(breakerMustAdmit(t, b))
	b.Reset()
	if got := b.State(); got != BreakerClosed {
		t.Fatalf("after Reset: %v, want closed", got)
	}
	b.RecordFailure(inFlight) // admitted before Reset: ignored
	if got := b.Counters(); got.State != BreakerClosed || got.Failures != 2 || got.Opens != 1 {
		t.Errorf("after Reset and a stale failure: %+v, want closed, counters kept", got)
	}
	b.Reset() // closed to closed: no hook call
	want := []string{"fetch:closed->open", "fetch:open->closed"}
	if got := log.take(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("state changes = %q, want %q", got, want)
	}
}

func TestBreakerPermitRejection(t *testing.T) {
	b, _, _ := breakerNewTest(t, 1, 1, time.Minute)
	p := breakerMustAdmit(t, b)
	if err := b.Rejection(p); err != nil || p.RetryAfter() != 0 {
		t.Errorf("admitted permit: Rejection = %v, RetryAfter = %v; want nil, 0", err, p.RetryAfter())
	}
	b.RecordFailure(p)
	r := b.Allow()
	if r.Admitted() || r.Probe() || r.RetryAfter() != time.Minute {
		t.Errorf("rejection: admitted %v, probe %v, RetryAfter %v; want false, false, 1m", r.Admitted(), r.Probe(), r.RetryAfter())
	}
}

func TestBreakerClosedPathReadsNoClock(t *testing.T) {
	clock := &breakerCountingClock{fake: NewFakeClock(0)}
	b, err := NewBreaker("s", BreakerSettings{FailureThreshold: 3, RecoveryTimeout: time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		p := b.Allow()
		if i%3 == 0 {
			b.RecordFailure(p) // never 3 in a row
		} else {
			b.RecordSuccess(p)
		}
	}
	if n := clock.reads.Load(); n != 0 {
		t.Errorf("closed breaker read the clock %d times, want 0", n)
	}
	for b.State() == BreakerClosed {
		b.RecordFailure(b.Allow())
	}
	if n := clock.reads.Load(); n != 1 {
		t.Errorf("opening read the clock %d times, want 1", n)
	}
}

func TestBreakerHotPathsDoNotAllocate(t *testing.T) {
	clock := NewFakeClock(0)
	b, err := NewBreaker("s", BreakerSettings{FailureThreshold: 1, RecoveryTimeout: time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() {
		p := b.Allow()
		b.RecordSuccess(p)
	}); n != 0 {
		t.Errorf("closed Allow+RecordSuccess: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() {
		b.RecordNeutral(b.Allow())
	}); n != 0 {
		t.Errorf("closed Allow+RecordNeutral: %v allocs, want 0", n)
	}
	b.RecordFailure(b.Allow())
	if n := testing.AllocsPerRun(1000, func() {
		if b.Allow().Admitted() {
			t.Fatal("open breaker admitted")
		}
	}); n != 0 {
		t.Errorf("open Allow: %v allocs, want 0", n)
	}
	clock.Advance(time.Second)
	if n := testing.AllocsPerRun(1000, func() {
		b.RecordSuccess(b.Allow())
		b.RecordFailure(b.Allow())
		clock.Advance(time.Second)
	}); n != 0 {
		t.Errorf("half-open probe and transitions: %v allocs, want 0", n)
	}
}

// TestBreakerConcurrent hammers one breaker from many goroutines while the
// clock moves, then checks the invariants: counters add up, state changes
// form a chain, and no half-open period admits more than its probes.
func TestBreakerConcurrent(t *testing.T) {
	const (
		workers   = 16
		calls     = 2000
		maxProbes = 3
	)
	clock := NewFakeClock(0)
	var (
		logMu   sync.Mutex
		last    = BreakerClosed
		toOpen  int
		badHook string
	)
	b, err := NewBreaker("s", BreakerSettings{
		FailureThreshold:  4,
		RecoveryTimeout:   time.Millisecond,
		HalfOpenMaxProbes: maxProbes,
		Clock:             clock,
		OnStateChange: func(step string, from, to BreakerState) {
			logMu.Lock()
			defer logMu.Unlock()
			if from != last || from == to {
				badHook = fmt.Sprintf("hook %v->%v after a change to %v", from, to, last)
			}
			last = to
			if to == BreakerOpen {
				toOpen++
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	var (
		probeMu  sync.Mutex
		probes   = map[BreakerPermit]int{} // admitted per half-open period
		admitted atomic.Uint64
		rejected atomic.Uint64
		failed   atomic.Uint64
		wg       sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := NewRetryRand(uint64(w))
			for i := range calls {
				if i%50 == 0 {
					clock.Advance(300 * time.Microsecond)
				}
				p := b.Allow()
				if !p.Admitted() {
					rejected.Add(1)
					continue
				}
				admitted.Add(1)
				if p.Probe() {
					probeMu.Lock()
					probes[p]++
					probeMu.Unlock()
				}
				if rnd.Uint64()%3 == 0 {
					failed.Add(1)
					b.RecordFailure(p)
				} else {
					b.RecordSuccess(p)
				}
			}
		}()
	}
	wg.Wait()

	got := b.Counters()
	if got.Calls != admitted.Load() || got.Rejections != rejected.Load() || got.Failures != failed.Load() {
		t.Errorf("Counters() = %+v; callers saw %d admitted, %d rejected, %d failed",
			got, admitted.Load(), rejected.Load(), failed.Load())
	}
	logMu.Lock()
	defer logMu.Unlock()
	if badHook != "" {
		t.Error(badHook)
	}
	if last != got.State || uint64(toOpen) != got.Opens {
		t.Errorf("hooks ended in %v with %d opens; Counters() = %+v", last, toOpen, got)
	}
	for p, n := range probes {
		if n > maxProbes {
			t.Errorf("half-open period %x admitted %d probes, want <= %d", p, n, maxProbes)
		}
	}
	if got.Opens == 0 || len(probes) == 0 {
		t.Errorf("the run never opened (%d opens) or never probed (%d periods); the test exercised too little", got.Opens, len(probes))
	}
}

func ExampleBreaker() {
	b, err := NewBreaker("lookup", BreakerSettings{FailureThreshold: 2, RecoveryTimeout: time.Minute})
	if err != nil {
		panic(err)
	}
	call := func(fail bool) error {
		p := b.Allow()
		if !p.Admitted() {
			return b.Rejection(p)
		}
		if fail {
			b.RecordFailure(p)
			return errors.New("backend down")
		}
		b.RecordSuccess(p)
		return nil
	}
	fmt.Println(call(true), call(true))
	var open *CircuitOpenError
	fmt.Println(errors.As(call(false), &open), open.Step, b.State())
	// Output:
	// backend down backend down
	// true lookup open
}

func BenchmarkBreakerClosed(b *testing.B) {
	br, err := NewBreaker("s", BreakerSettings{FailureThreshold: 5, RecoveryTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		br.RecordSuccess(br.Allow())
	}
}

// breakerBenchStep is a trivial step that the compiler cannot inline away.
//
//go:noinline
func breakerBenchStep(x int) (int, error) { return x + 1, nil }

// BenchmarkBreakerStepDirect is the baseline for BenchmarkBreakerStepGuarded.
func BenchmarkBreakerStepDirect(b *testing.B) {
	x := 0
	for b.Loop() {
		x, _ = breakerBenchStep(x)
	}
}

// BenchmarkBreakerStepGuarded is the step behind a closed breaker, as
// generated code calls it.
func BenchmarkBreakerStepGuarded(b *testing.B) {
	br, err := NewBreaker("s", BreakerSettings{FailureThreshold: 5, RecoveryTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	x := 0
	for b.Loop() {
		p := br.Allow()
		if !p.Admitted() {
			b.Fatal(br.Rejection(p))
		}
		var err error
		if x, err = breakerBenchStep(x); err != nil {
			br.RecordFailure(p)
		} else {
			br.RecordSuccess(p)
		}
	}
}

func BenchmarkBreakerClosedParallel(b *testing.B) {
	br, err := NewBreaker("s", BreakerSettings{FailureThreshold: 5, RecoveryTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			br.RecordSuccess(br.Allow())
		}
	})
}

func BenchmarkBreakerOpen(b *testing.B) {
	br, err := NewBreaker("s", BreakerSettings{FailureThreshold: 1, RecoveryTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	br.RecordFailure(br.Allow())
	b.ReportAllocs()
	for b.Loop() {
		if br.Allow().Admitted() {
			b.Fatal("open breaker admitted")
		}
	}
}

// breakerBenchSink keeps benchmarked errors on the heap, as real callers do.
var breakerBenchSink error

func BenchmarkBreakerOpenWithError(b *testing.B) {
	br, err := NewBreaker("s", BreakerSettings{FailureThreshold: 1, RecoveryTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	br.RecordFailure(br.Allow())
	b.ReportAllocs()
	for b.Loop() {
		breakerBenchSink = br.Rejection(br.Allow())
	}
}

// TestBreakerRetryClassifierInline checks with the compiler that the hot-path methods of
// this package's resilience types stay inlinable, so that constants compiled
// into generated code fold at the call site.
func TestBreakerRetryClassifierInline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	out, err := exec.Command(goTool, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	for _, fn := range []string{
		"(*Breaker).Allow", "(*Breaker).RecordSuccess", "(*Breaker).RecordFailure",
		"BreakerPermit.Admitted", "BreakerPermit.Probe",
		"(*ErrorClassifier).Observe", "(*RetryRand).Uint64",
	} {
		if !strings.Contains(string(out), "can inline "+fn+"\n") {
			t.Errorf("%s is not inlinable any more", fn)
		}
	}
}

// TestBreakerRenew: Renew makes the breaker a new one with the new
// settings, in place, and refuses invalid settings without a change.
func TestBreakerRenew(t *testing.T) {
	clock := NewFakeClock(time.Hour)
	b, err := NewBreaker("s", BreakerSettings{FailureThreshold: 1, RecoveryTimeout: time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	b.RecordFailure(b.Allow())
	if b.State() != BreakerOpen {
		t.Fatalf("state %v, want open", b.State())
	}
	if err := b.Renew(BreakerSettings{FailureThreshold: 0, RecoveryTimeout: time.Second}); err == nil || b.State() != BreakerOpen {
		t.Fatalf("invalid settings: err %v, state %v", err, b.State())
	}
	if err := b.Renew(BreakerSettings{FailureThreshold: 2, RecoveryTimeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if c := b.Counters(); c != (BreakerCounters{State: BreakerClosed}) {
		t.Fatalf("after Renew: %+v, want a new breaker's counters", c)
	}
	b.RecordFailure(b.Allow())
	if b.State() != BreakerClosed {
		t.Fatalf("one failure of two opened it")
	}
	b.RecordFailure(b.Allow())
	clock.Advance(30 * time.Second)
	if p := b.Allow(); p.Admitted() {
		t.Fatalf("admitted before the new recovery timeout")
	}
	clock.Advance(31 * time.Second)
	if p := b.Allow(); !p.Admitted() {
		t.Fatalf("not admitted after the new recovery timeout")
	}
}
