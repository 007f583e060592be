package runtime

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// The histogram is log-linear, like HdrHistogram: values below 32 ns get a
// bucket each, and every power-of-two range [2^k, 2^(k+1)) above that is split
// into 16 linear sub-buckets of width 2^(k-4). The bucket index is computed
// with one bit-length instruction and two shifts, so Record needs no loop over
// buckets, no branch on the value range and no table. The buckets cover every
// non-negative int64, so no clamp is needed either (960 buckets, 7.5 KiB).
const (
	// histogramSubBits is log2 of the sub-buckets per power of two.
	histogramSubBits = 4
	// histogramBuckets is the bucket count for values up to math.MaxInt64.
	histogramBuckets = (63-histogramSubBits-1)<<histogramSubBits + 2<<histogramSubBits
)

// HistogramRelativeError is the largest relative error of a percentile that
// a Histogram reports, for values of 32 ns or more: a value is reported as the
// midpoint of its bucket, and a bucket spans at most 1/16 of its lower bound.
// Values below 32 ns are exact.
const HistogramRelativeError = 1.0 / (2 << histogramSubBits)

// Histogram is a lock-free latency histogram over fixed log-linear buckets.
// Record is a few atomic adds: no lock, no allocation, no sorting. Any number
// of goroutines may record and snapshot concurrently; a snapshot taken while
// records are in flight may miss the latest of them.
//
// The zero value is ready to use. A Histogram must not be copied after first
// use.
type Histogram struct {
	sum     atomic.Int64
	max     atomic.Int64
	buckets [histogramBuckets]atomic.Uint64
}

// histogramIndex returns the bucket of v, which must be at most
// math.MaxInt64.
func histogramIndex(v uint64) int {
	// shift is 0 for v < 32, so those values index themselves; above,
	// v>>shift lies in [16, 32) and each shift step adds 16 buckets.
	shift := bits.Len64(v|(2<<histogramSubBits-1)) - (histogramSubBits + 1)
	return shift<<histogramSubBits + int(v>>uint(shift))
}

// histogramBounds returns the smallest and the largest value of bucket i.
func histogramBounds(i int) (lo, hi uint64) {
	if i < 2<<histogramSubBits {
		return uint64(i), uint64(i)
	}
	shift := uint(i>>histogramSubBits - 1)
	sub := uint64(i&(1<<histogramSubBits-1) | 1<<histogramSubBits)
	lo = sub << shift
	return lo, lo + 1<<shift - 1
}

// Record adds one latency of ns nanoseconds. Negative values count as zero.
// It is inlinable, allocates nothing and takes no lock.
func (h *Histogram) Record(ns int64) {
	ns = max(ns, 0)
	h.buckets[histogramIndex(uint64(ns))].Add(1)
	h.sum.Add(ns)
	// The CAS runs only when ns is a new maximum, which is rare.
	for {
		cur := h.max.Load()
		if ns <= cur || h.max.CompareAndSwap(cur, ns) {
			break
		}
	}
}

// HistogramSnapshot is a point-in-time summary of a Histogram. Durations are
// nanoseconds; percentiles carry HistogramRelativeError.
type HistogramSnapshot struct {
	Count uint64        `json:"count"`
	Sum   time.Duration `json:"sum_ns"`
	Avg   time.Duration `json:"avg_ns"`
	P50   time.Duration `json:"p50_ns"`
	P95   time.Duration `json:"p95_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

// histogramCounts is a plain copy of a histogram's state, used to merge
// histograms and to subtract one reading from a later one.
type histogramCounts struct {
	sum     int64
	max     int64
	buckets [histogramBuckets]uint64
}

// load copies h into c.
func (c *histogramCounts) load(h *Histogram) {
	for i := range h.buckets {
		c.buckets[i] = h.buckets[i].Load()
	}
	c.sum = h.sum.Load()
	c.max = h.max.Load()
}

// add merges o into c.
func (c *histogramCounts) add(o *histogramCounts) {
	for i := range c.buckets {
		c.buckets[i] += o.buckets[i]
	}
	c.sum += o.sum
	c.max = max(c.max, o.max)
}

// delta sets c to later minus earlier, the records made between two readings
// of one histogram. The maximum of the interval is not known; c keeps the
// later reading's maximum as an upper bound.
func (c *histogramCounts) delta(later, earlier *histogramCounts) {
	for i := range c.buckets {
		c.buckets[i] = later.buckets[i] - earlier.buckets[i]
	}
	c.sum = later.sum - earlier.sum
	c.max = later.max
}

// count returns the number of records in c.
func (c *histogramCounts) count() uint64 {
	var n uint64
	for _, b := range c.buckets {
		n += b
	}
	return n
}

// quantiles fills out with the values at the ranks qs (each in (0, 1]),
// which must be ascending, in one pass over the buckets.
func (c *histogramCounts) quantiles(total uint64, qs []float64, out []time.Duration) {
	if total == 0 {
		clear(out)
		return
	}
	var cum uint64
	qi := 0
	for i, b := range c.buckets {
		if b == 0 {
			continue
		}
		cum += b
		for qi < len(qs) {
			rank := uint64(math.Ceil(qs[qi] * float64(total)))
			if rank < 1 {
				rank = 1
			}
			if cum < rank {
				break
			}
			out[qi] = c.bucketValue(i)
			qi++
		}
		if qi == len(qs) {
			return
		}
	}
	for ; qi < len(qs); qi++ {
		out[qi] = time.Duration(c.max)
	}
}

// bucketValue is the value reported for bucket i: its midpoint, but never
// more than the recorded maximum, so a single sample reports itself exactly
// when it is the maximum.
func (c *histogramCounts) bucketValue(i int) time.Duration {
	lo, hi := histogramBounds(i)
	v := int64(lo + (hi-lo+1)/2)
	if lo == hi {
		v = int64(lo)
	}
	if c.max > 0 && v > c.max {
		v = c.max
	}
	return time.Duration(v)
}

// snapshot summarises c.
func (c *histogramCounts) snapshot() HistogramSnapshot {
	n := c.count()
	s := HistogramSnapshot{Count: n, Sum: time.Duration(c.sum), Max: time.Duration(c.max)}
	if n == 0 {
		return s
	}
	s.Avg = time.Duration(c.sum / int64(n))
	var q [3]time.Duration
	c.quantiles(n, []float64{0.50, 0.95, 0.99}, q[:])
	s.P50, s.P95, s.P99 = q[0], q[1], q[2]
	return s
}

// Snapshot summarises the records made so far.
func (h *Histogram) Snapshot() HistogramSnapshot {
	var c histogramCounts
	c.load(h)
	return c.snapshot()
}
