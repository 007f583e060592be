package runtime

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	exp := Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}
	tests := []struct {
		name    string
		b       Backoff
		attempt int
		want    time.Duration
	}{
		{"first", exp, 1, 100 * time.Millisecond},
		{"below 1 counts as 1", exp, -5, 100 * time.Millisecond},
		{"second", exp, 2, 200 * time.Millisecond},
		{"fourth", exp, 4, 800 * time.Millisecond},
		{"capped", exp, 5, time.Second},
		{"capped far out", exp, 1000, time.Second},
		{"capped past the loop", exp, math.MaxInt, time.Second},
		{"fractional growth", Backoff{Initial: time.Second, Multiplier: 1.5}, 3, 2250 * time.Millisecond},
		{"constant", Backoff{Initial: time.Second}, 50, time.Second},
		{"multiplier 1", Backoff{Initial: time.Second, Multiplier: 1}, 50, time.Second},
		{"zero", Backoff{}, 7, 0},
		{"no cap saturates", Backoff{Initial: time.Second, Multiplier: 10}, 100, math.MaxInt64},
		{"no cap saturates past the loop", Backoff{Initial: time.Second, Multiplier: 1.0001}, math.MaxInt, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.Delay(tt.attempt, 12345); got != tt.want {
				t.Errorf("%+v.Delay(%d) = %v, want %v", tt.b, tt.attempt, got, tt.want)
			}
		})
	}
}

func TestBackoffFullJitter(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 8 * time.Second, Multiplier: 2, Jitter: true}
	if got := b.Delay(3, 0); got != 0 {
		t.Errorf("jitter with rnd 0 = %v, want 0", got)
	}
	if got := b.Delay(3, math.MaxUint64); got != 4*time.Second {
		t.Errorf("jitter with the largest rnd = %v, want the full 4s", got)
	}
	rnd := NewRetryRand(42)
	const n = 10000
	var sum float64
	seen := map[time.Duration]bool{}
	for range n {
		d := b.Delay(3, rnd.Uint64())
		if d < 0 || d > 4*time.Second {
			t.Fatalf("jittered delay %v outside [0, 4s]", d)
		}
		sum += float64(d)
		seen[d] = true
	}
	// Uniform over [0, 4s]: the mean is 2s; 10000 draws put it within a few
	// percent.
	if mean := time.Duration(sum / n); mean < 1900*time.Millisecond || mean > 2100*time.Millisecond {
		t.Errorf("mean jittered delay = %v, want about 2s", mean)
	}
	if len(seen) < n/2 {
		t.Errorf("only %d distinct delays in %d draws", len(seen), n)
	}
}

func TestBackoffValidate(t *testing.T) {
	tests := []struct {
		b    Backoff
		want string
	}{
		{Backoff{}, ""},
		{Backoff{Initial: time.Second, Max: time.Minute, Multiplier: 2, Jitter: true}, ""},
		{Backoff{Initial: -1}, "Initial = -1ns"},
		{Backoff{Max: -time.Second}, "Max = -1s"},
		{Backoff{Initial: time.Minute, Max: time.Second}, "Max = 1s is below Initial = 1m0s"},
		{Backoff{Multiplier: 0.5}, "Multiplier = 0.5"},
		{Backoff{Multiplier: math.Inf(1)}, "Multiplier = +Inf"},
		{Backoff{Multiplier: math.NaN()}, "Multiplier = NaN"},
	}
	for _, tt := range tests {
		err := tt.b.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v.Validate() = %v, want %q", tt.b, err, tt.want)
		}
	}
}

func TestBackoffDelayDoesNotAllocate(t *testing.T) {
	b := Backoff{Initial: time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: true}
	rnd := NewRetryRand(1)
	if n := testing.AllocsPerRun(1000, func() { _ = b.Delay(7, rnd.Uint64()) }); n != 0 {
		t.Errorf("Delay: %v allocs, want 0", n)
	}
}

func TestRetryRandIsDeterministicPerSeed(t *testing.T) {
	a, b, c := NewRetryRand(9), NewRetryRand(9), NewRetryRand(10)
	same, differ := true, false
	for range 100 {
		x, y, z := a.Uint64(), b.Uint64(), c.Uint64()
		same = same && x == y
		differ = differ || x != z
	}
	if !same || !differ {
		t.Errorf("equal seeds equal streams: %v; different seeds differ: %v", same, differ)
	}
}

func TestRetrySleep(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(cancelled, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled, 1h) = %v, want context.Canceled", err)
	}
	if err := Sleep(cancelled, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled, 0) = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), -time.Second); err != nil {
		t.Errorf("Sleep(ctx, -1s) = %v, want nil", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep(ctx, 1ms) = %v, want nil", err)
	}
}

func TestRetrySleeperReusesItsTimer(t *testing.T) {
	var s RetrySleeper
	defer s.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(5 * time.Millisecond)
		cancel()
	}()
	if err := s.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep cancelled mid-wait = %v, want context.Canceled", err)
	}
	timer := s.timer
	for range 3 {
		if err := s.Sleep(context.Background(), time.Millisecond); err != nil {
			t.Fatalf("Sleep after reuse = %v, want nil", err)
		}
	}
	if s.timer != timer {
		t.Error("RetrySleeper made a new timer instead of reusing its own")
	}
}

// TestRetryStopsAtOnceWhenCancelled cancels the context while Retry waits an
// hour between attempts; Retry must return promptly with both errors.
func TestRetryStopsAtOnceWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	boom := errors.New("boom")
	calls := 0
	done := make(chan struct{})
	var (
		n   int
		err error
	)
	start := time.Now()
	go func() {
		defer close(done)
		_, n, err = Retry(ctx, 5, Backoff{Initial: time.Hour}, 0, nil, func(context.Context) (int, error) {
			calls++
			if calls == 1 {
				go cancel()
			}
			return 0, boom
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Retry still waiting 10s after its context was cancelled")
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Retry took %v to notice the cancellation", elapsed)
	}
	if calls != 1 || n != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, boom) {
		t.Errorf("Retry = %d attempts (%d calls), %v; want 1, context.Canceled wrapping boom", n, calls, err)
	}
}

func TestRetry(t *testing.T) {
	boom, fatal := errors.New("boom"), errors.New("fatal")
	retryable := func(err error) bool { return !errors.Is(err, fatal) }
	tests := []struct {
		name      string
		attempts  int
		script    []error // outcome of each call; past the end: success
		classify  func(error) bool
		wantN     int
		wantCalls int
		wantErr   error
	}{
		{"first try", 3, nil, nil, 1, 1, nil},
		{"third try", 3, []error{boom, boom}, nil, 3, 3, nil},
		{"exhausted", 3, []error{boom, boom, boom, boom}, nil, 3, 3, boom},
		{"single attempt", 1, []error{boom}, nil, 1, 1, boom},
		{"not retryable", 5, []error{boom, fatal, boom}, retryable, 2, 2, fatal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			v, n, err := Retry(context.Background(), tt.attempts, Backoff{Initial: time.Microsecond, Jitter: true}, 0, tt.classify,
				func(context.Context) (string, error) {
					calls++
					if calls <= len(tt.script) {
						return "", tt.script[calls-1]
					}
					return fmt.Sprint("ok after ", calls), nil
				})
			if n != tt.wantN || calls != tt.wantCalls || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Retry = %q, %d, %v after %d calls; want %d attempts, %d calls, %v", v, n, err, calls, tt.wantN, tt.wantCalls, tt.wantErr)
			}
			if err == nil && v != fmt.Sprint("ok after ", calls) {
				t.Errorf("value = %q, want the successful call's", v)
			}
		})
	}
}

func TestRetryPerAttemptTimeout(t *testing.T) {
	var deadlines []bool
	v, n, err := Retry(context.Background(), 3, Backoff{}, 20*time.Millisecond, nil, func(ctx context.Context) (int, error) {
		_, ok := ctx.Deadline()
		deadlines = append(deadlines, ok)
		if len(deadlines) == 1 {
			<-ctx.Done() // the first attempt hangs until its own timeout
			return 0, ctx.Err()
		}
		return 7, nil
	})
	if v != 7 || n != 2 || err != nil {
		t.Errorf("Retry = %d, %d, %v; want 7, 2, nil (a timed-out attempt is retried)", v, n, err)
	}
	if fmt.Sprint(deadlines) != "[true true]" {
		t.Errorf("attempts had deadlines %v, want each its own", deadlines)
	}
	_, _, _ = Retry(context.Background(), 1, Backoff{}, 0, nil, func(ctx context.Context) (int, error) {
		if _, ok := ctx.Deadline(); ok {
			t.Error("an attempt got a deadline with no per-attempt timeout")
		}
		return 0, nil
	})
}

func TestRetryStopsWhenParentIsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	boom := errors.New("boom")
	_, n, err := Retry(ctx, 5, Backoff{}, 0, nil, func(context.Context) (int, error) {
		calls++
		cancel()
		return 0, boom
	})
	if calls != 1 || n != 1 || !errors.Is(err, boom) || !errors.Is(err, context.Canceled) {
		t.Errorf("Retry after the parent was cancelled mid-attempt: %d calls, %d attempts, %v; want 1, 1, boom and context.Canceled", calls, n, err)
	}
	_, n, err = Retry(ctx, 5, Backoff{}, 0, nil, func(context.Context) (int, error) {
		t.Error("attempt made under a cancelled context")
		return 0, nil
	})
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Retry under a cancelled context = %d, %v; want 0, context.Canceled", n, err)
	}
}

func TestRetryRejectsInvalidArguments(t *testing.T) {
	tests := []struct {
		name     string
		attempts int
		backoff  Backoff
		timeout  time.Duration
		want     string
	}{
		{"zero attempts", 0, Backoff{}, 0, "attempts = 0"},
		{"negative timeout", 1, Backoff{}, -time.Second, "perAttemptTimeout = -1s"},
		{"bad backoff", 1, Backoff{Multiplier: 0.5}, 0, "Multiplier = 0.5"},
	}
	for _, tt := range tests {
		_, n, err := Retry(context.Background(), tt.attempts, tt.backoff, tt.timeout, nil, func(context.Context) (int, error) {
			t.Errorf("%s: attempt made", tt.name)
			return 0, nil
		})
		if n != 0 || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Retry = %d, %v; want 0 and an error naming %q", tt.name, n, err, tt.want)
		}
	}
}

func TestRetryWithClassifier(t *testing.T) {
	c, err := NewErrorClassifier(8, 1)
	if err != nil {
		t.Fatal(err)
	}
	notFound := fmt.Errorf("lookup: %w", errors.New("item 7 not found"))
	c.ObserveRecovery(notFound, false) // learned: retrying never helps
	calls := 0
	_, n, err := Retry(context.Background(), 4, Backoff{}, 0, c.Retryable, func(context.Context) (int, error) {
		calls++
		return 0, fmt.Errorf("lookup: %w", errors.New("item 9 not found"))
	})
	if calls != 1 || n != 1 || err == nil {
		t.Errorf("Retry of a learned permanent pattern: %d calls, %d attempts, %v; want 1, 1, the error", calls, n, err)
	}
	if got := c.Counters().SkippedRetries; got != 1 {
		t.Errorf("SkippedRetries = %d, want 1", got)
	}
}

func TestRetrySuccessDoesNotAllocate(t *testing.T) {
	fn := func(context.Context) (int, error) { return 1, nil }
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		_, _, _ = Retry(ctx, 3, Backoff{Initial: time.Millisecond}, 0, nil, fn)
	}); n != 0 {
		t.Errorf("Retry succeeding at once: %v allocs, want 0", n)
	}
}

func BenchmarkBackoffDelay(b *testing.B) {
	p := Backoff{Initial: time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: true}
	rnd := NewRetryRand(1)
	var sum time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sum += p.Delay(1+i%12, rnd.Uint64())
	}
	if sum < 0 {
		b.Fatal(sum)
	}
}

func BenchmarkRetrySuccess(b *testing.B) {
	fn := func(context.Context) (int, error) { return 1, nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = Retry(ctx, 3, Backoff{Initial: time.Millisecond}, 0, nil, fn)
	}
}
