package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestLatencyBucketBounds(t *testing.T) {
	b := LatencyBucketBounds()
	if b[0] != 1023*time.Nanosecond {
		t.Fatalf("first bound = %v, want 1.023µs", b[0])
	}
	if want := time.Duration(1<<36 - 1); b[LatencyBucketCount-1] != want {
		t.Fatalf("last bound = %v, want %v", b[LatencyBucketCount-1], want)
	}
	for i := 1; i < len(b); i++ {
		if b[i]+1 != 2*(b[i-1]+1) {
			t.Fatalf("bound %d = %v is not twice bound %d = %v (plus 1 ns)", i, b[i], i-1, b[i-1])
		}
		// Each bound is the last value of one of the Histogram's buckets,
		// so reading at it splits no bucket.
		if _, hi := histogramBounds(histogramIndex(uint64(b[i]))); hi != uint64(b[i]) {
			t.Fatalf("bound %v lies inside the Histogram bucket ending at %d", b[i], hi)
		}
	}
}

func TestHistogramLatencyBucketsExact(t *testing.T) {
	var h Histogram
	var values []int64
	for k := 5; k < 40; k++ {
		values = append(values, 1<<k-1, 1<<k, 1<<k+1)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		values = append(values, int64(math.Exp(rng.Float64()*27)))
	}
	values = append(values, 0, 1<<45)
	var sum time.Duration
	for _, v := range values {
		h.Record(v)
		sum += time.Duration(v)
	}
	got := h.LatencyBuckets()
	if got.Count != uint64(len(values)) {
		t.Fatalf("Count = %d, want %d", got.Count, len(values))
	}
	if got.Sum != sum {
		t.Fatalf("Sum = %v, want %v", got.Sum, sum)
	}
	for i, bound := range LatencyBucketBounds() {
		var want uint64
		for _, v := range values {
			if time.Duration(v) <= bound {
				want++
			}
		}
		if got.Cumulative[i] != want {
			t.Errorf("bucket le=%v counts %d values, want %d", bound, got.Cumulative[i], want)
		}
	}
}

func TestLatencyBucketsAdd(t *testing.T) {
	var a, b Histogram
	a.Record(500)
	a.Record(3_000_000)
	b.Record(2_000)
	la, lb := a.LatencyBuckets(), b.LatencyBuckets()
	la.Add(&lb)
	var both Histogram
	for _, v := range []int64{500, 3_000_000, 2_000} {
		both.Record(v)
	}
	if want := both.LatencyBuckets(); la != want {
		t.Fatalf("a+b = %+v, want %+v", la, want)
	}
}

func TestMonitorAddLatencyBuckets(t *testing.T) {
	m, err := NewMonitor(MonitorOptions{SlowThreshold: time.Second, DegradationThreshold: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	m.Step("a").Record(1_500, true)
	m.Step("a").Record(40_000, false)
	m.Step("b").Record(900, true)
	m.Step("idle")
	// An earlier reading of "a": one latency of 10ns.
	earlier := LatencyBuckets{Count: 1, Sum: 10}
	for i := range earlier.Cumulative {
		earlier.Cumulative[i] = 1
	}
	to := map[string]LatencyBuckets{"a": earlier}
	m.AddLatencyBuckets(to)
	if len(to) != 3 {
		t.Fatalf("steps = %v, want a, b and idle", to)
	}
	a := to["a"]
	if a.Count != 3 || a.Sum != 41_510 || a.Cumulative[0] != 1 || a.Cumulative[1] != 2 || a.Cumulative[5] != 2 || a.Cumulative[6] != 3 {
		t.Fatalf("a = %+v: want the earlier reading plus 1.5µs and 40µs", a)
	}
	if b := to["b"]; b.Count != 1 || b.Cumulative[0] != 1 {
		t.Fatalf("b = %+v, want one latency of 900ns in the first bucket", b)
	}
	if idle := to["idle"]; idle.Count != 0 {
		t.Fatalf("idle = %+v, want no latencies", idle)
	}
}

func TestHistogramLatencyBucketsAllocs(t *testing.T) {
	var h Histogram
	h.Record(12345)
	var l LatencyBuckets
	if n := testing.AllocsPerRun(100, func() { l = h.LatencyBuckets() }); n != 0 {
		t.Fatalf("LatencyBuckets allocates %v times, want 0", n)
	}
	if l.Count != 1 {
		t.Fatalf("Count = %d, want 1", l.Count)
	}
}
