package runtime

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	values := []uint64{math.MaxInt64, math.MaxInt64 - 1, 1 << 62, 1<<62 - 1}
	for v := uint64(0); v < 5000; v++ {
		values = append(values, v)
	}
	for k := 5; k < 63; k++ {
		values = append(values, 1<<k-1, 1<<k, 1<<k+1, 3<<(k-2))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values, rng.Uint64N(math.MaxInt64))
	}
	slices.Sort(values)
	prev := -1
	for _, v := range values {
		i := histogramIndex(v)
		if i < 0 || i >= histogramBuckets {
			t.Fatalf("histogramIndex(%d) = %d, outside [0, %d)", v, i, histogramBuckets)
		}
		if i < prev {
			t.Fatalf("histogramIndex(%d) = %d, below the index %d of a smaller value", v, i, prev)
		}
		prev = i
		lo, hi := histogramBounds(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d whose bounds are [%d, %d]", v, i, lo, hi)
		}
		if v >= 32 {
			if width := float64(hi - lo + 1); width/float64(lo) > 2*HistogramRelativeError {
				t.Fatalf("bucket %d [%d, %d] is wider than 1/16 of its lower bound", i, lo, hi)
			}
		} else if lo != hi {
			t.Fatalf("value %d below 32 shares bucket %d [%d, %d]", v, i, lo, hi)
		}
	}
	if got := histogramIndex(math.MaxInt64); got != histogramBuckets-1 {
		t.Fatalf("largest value lands in bucket %d, want the last, %d", got, histogramBuckets-1)
	}
	// Consecutive buckets tile the range without gaps.
	for i := 1; i < histogramBuckets; i++ {
		_, prevHi := histogramBounds(i - 1)
		lo, _ := histogramBounds(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, bucket %d ends at %d", i, lo, i-1, prevHi)
		}
	}
}

// histogramExactQuantile is the nearest-rank quantile of sorted values.
func histogramExactQuantile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func TestHistogramSnapshotAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		name string
		gen  func() int64
		n    int
	}{
		{"single", func() int64 { return 1234567 }, 1},
		{"tiny exact", func() int64 { return rng.Int64N(32) }, 1000},
		{"uniform 1us-1ms", func() int64 { return 1000 + rng.Int64N(999000) }, 20000},
		{"exponential 50us", func() int64 { return int64(rng.ExpFloat64() * 50000) }, 20000},
		{"bimodal", func() int64 {
			if rng.IntN(10) == 0 {
				return 200_000_000 + rng.Int64N(1_000_000)
			}
			return 900 + rng.Int64N(200)
		}, 5000},
		{"hours", func() int64 { return int64(time.Hour) + rng.Int64N(int64(time.Hour)) }, 500},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			values := make([]int64, tc.n)
			var sum int64
			for i := range values {
				values[i] = tc.gen()
				sum += values[i]
				h.Record(values[i])
			}
			slices.Sort(values)
			s := h.Snapshot()
			if s.Count != uint64(tc.n) {
				t.Errorf("Count = %d, want %d", s.Count, tc.n)
			}
			if int64(s.Sum) != sum {
				t.Errorf("Sum = %d, want %d", s.Sum, sum)
			}
			if want := sum / int64(tc.n); int64(s.Avg) != want {
				t.Errorf("Avg = %d, want %d", s.Avg, want)
			}
			if want := values[len(values)-1]; int64(s.Max) != want {
				t.Errorf("Max = %d, want %d", s.Max, want)
			}
			for _, p := range []struct {
				q   float64
				got time.Duration
			}{{0.50, s.P50}, {0.95, s.P95}, {0.99, s.P99}} {
				want := histogramExactQuantile(values, p.q)
				if err := math.Abs(float64(int64(p.got)-want)) / float64(max(want, 1)); err > HistogramRelativeError {
					t.Errorf("p%.0f = %d, exact %d: relative error %.4f > %.4f", p.q*100, p.got, want, err, HistogramRelativeError)
				}
			}
		})
	}
}

func TestHistogramEdgeValues(t *testing.T) {
	var h Histogram
	if s := h.Snapshot(); s != (HistogramSnapshot{}) {
		t.Fatalf("empty histogram snapshot = %+v, want zero", s)
	}
	h.Record(-5) // a clock that stepped back counts as zero
	h.Record(math.MaxInt64)
	s := h.Snapshot()
	if s.Count != 2 || s.Max != math.MaxInt64 || s.P50 != 0 {
		t.Fatalf("snapshot = %+v, want count 2, p50 0, max MaxInt64", s)
	}
	if err := 1 - float64(s.P99)/math.MaxInt64; err < 0 || err > HistogramRelativeError {
		t.Fatalf("p99 = %d, want MaxInt64 within %v", s.P99, HistogramRelativeError)
	}
}

func TestHistogramConcurrent(t *testing.T) {
	var h Histogram
	const goroutines, per = 8, 5000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range per {
				h.Record(int64(g*per + i))
			}
		})
	}
	done := make(chan struct{})
	go func() { // snapshots race with records and must stay consistent
		defer close(done)
		for range 50 {
			if s := h.Snapshot(); s.P50 > s.Max || s.P99 < s.P50 {
				t.Errorf("inconsistent snapshot during records: %+v", s)
			}
		}
	}()
	wg.Wait()
	<-done
	s := h.Snapshot()
	n := int64(goroutines * per)
	if s.Count != uint64(n) || int64(s.Sum) != n*(n-1)/2 || int64(s.Max) != n-1 {
		t.Fatalf("snapshot = %+v, want count %d, sum %d, max %d", s, n, n*(n-1)/2, n-1)
	}
}

func TestHistogramRecordAllocs(t *testing.T) {
	var h Histogram
	v := int64(0)
	if a := testing.AllocsPerRun(1000, func() { v += 997; h.Record(v) }); a != 0 {
		t.Fatalf("Record allocates %v times per call", a)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	v := int64(1000)
	for b.Loop() {
		h.Record(v)
		v = (v + 7919) & (1<<24 - 1)
	}
}

func BenchmarkHistogramRecordParallel(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		v := int64(1000)
		for pb.Next() {
			h.Record(v)
			v = (v + 7919) & (1<<24 - 1)
		}
	})
}
