package runtime

import (
	"context"
	"errors"
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
