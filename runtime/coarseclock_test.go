package runtime

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestCoarseResolution(t *testing.T) {
	for _, tc := range []struct{ ttl, want time.Duration }{
		{time.Hour, 10 * time.Millisecond},
		{5 * time.Second, 5 * time.Millisecond},
		{time.Second, time.Millisecond},
		{time.Millisecond, time.Millisecond},
	} {
		if got := CoarseResolution(tc.ttl); got != tc.want {
			t.Errorf("CoarseResolution(%v) = %v, want %v", tc.ttl, got, tc.want)
		}
	}
}

// TestCacheClockIsCoarseForTheSystemClockOnly: caches read another clock
// (a FakeClock in tests) as is, the SystemClock through a CoarseClock that
// follows it at the resolution of the shortest TTL it was told of.
func TestCacheClockIsCoarseForTheSystemClockOnly(t *testing.T) {
	defer goleak.VerifyNone(t)
	fake := NewFakeClock(time.Second)
	if c, coarse := NewCacheClock(fake); c != Clock(fake) || coarse != nil {
		t.Fatalf("NewCacheClock(fake) = %v, %v; want the fake clock itself", c, coarse)
	}
	var none *CoarseClock
	none.Need(time.Second) // nil-safe
	none.Close()

	c, coarse := NewCacheClock(SystemClock{})
	if c != Clock(coarse) || coarse == nil {
		t.Fatalf("NewCacheClock(SystemClock{}) = %v, %v; want a CoarseClock", c, coarse)
	}
	if coarse.Resolution() != 0 {
		t.Errorf("a CoarseClock nobody needs runs")
	}
	coarse.Need(time.Hour)
	coarse.Need(2 * time.Second)
	coarse.Need(time.Hour) // coarser: no change
	if got := coarse.Resolution(); got != 2*time.Millisecond {
		t.Errorf("resolution %v, want 2ms", got)
	}
	start := coarse.Nanotime()
	deadline := time.Now().Add(5 * time.Second)
	for coarse.Nanotime() == start && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if coarse.Nanotime() == start {
		t.Errorf("the coarse clock never moved")
	}
	coarse.Close()
	coarse.Close()
	coarse.Need(time.Millisecond) // after Close: nothing starts
}

func BenchmarkCoarseClockNanotime(b *testing.B) {
	_, c := NewCacheClock(SystemClock{})
	c.Need(time.Hour)
	defer c.Close()
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Nanotime()
	}
}
