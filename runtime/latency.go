package runtime

import "time"

// The buckets of LatencyBuckets are the powers of two of nanoseconds from
// 2^latencyMinExp (1.024 µs) to 2^latencyMaxExp (68.7 s). A power of two is
// where a Histogram's log-linear buckets start a new group of 16, so the
// count of the values below each bound is read exactly, with no bucket of
// the Histogram split between two of them.
const (
	latencyMinExp = 10
	latencyMaxExp = 36
)

// LatencyBucketCount is the number of finite buckets of LatencyBuckets.
const LatencyBucketCount = latencyMaxExp - latencyMinExp + 1

// LatencyBucketBounds returns the inclusive upper bounds of the buckets of
// LatencyBuckets, ascending: 2^k − 1 ns for k from 10 to 36, that is from
// 1.023 µs to 68.72 s, each twice the one before. Latencies are whole
// nanoseconds, so "at most 2^k − 1 ns" is "below 2^k ns", a bound at which
// the Histogram is read without error.
func LatencyBucketBounds() [LatencyBucketCount]time.Duration {
	var b [LatencyBucketCount]time.Duration
	for i := range b {
		b[i] = time.Duration(1)<<(latencyMinExp+i) - 1
	}
	return b
}

// LatencyBuckets is a reading of a latency histogram in the form of
// exposition formats such as Prometheus' histograms: cumulative counts at
// the bounds of LatencyBucketBounds. Latencies above the last bound are
// counted in Count only (the +Inf bucket).
type LatencyBuckets struct {
	// Count is the number of latencies recorded.
	Count uint64
	// Sum is their total.
	Sum time.Duration
	// Cumulative[i] counts the latencies of at most
	// LatencyBucketBounds()[i]; it never exceeds Count.
	Cumulative [LatencyBucketCount]uint64
}

// Add adds the counts of o to l: the reading of two histograms together.
func (l *LatencyBuckets) Add(o *LatencyBuckets) {
	l.Count += o.Count
	l.Sum += o.Sum
	for i := range l.Cumulative {
		l.Cumulative[i] += o.Cumulative[i]
	}
}

// LatencyBuckets reads h at the bounds of LatencyBucketBounds. It loads
// each bucket once, takes no lock and allocates nothing; records made
// while it reads may be missed, or counted in Sum and not yet in the
// buckets.
func (h *Histogram) LatencyBuckets() LatencyBuckets {
	var l LatencyBuckets
	var cum uint64
	i := 0
	for b := range l.Cumulative {
		// The values below 2^k fill exactly the buckets below index
		// (k-3)*16 (see histogramIndex).
		end := (latencyMinExp + b - 3) << histogramSubBits
		for ; i < end; i++ {
			cum += h.buckets[i].Load()
		}
		l.Cumulative[b] = cum
	}
	for ; i < len(h.buckets); i++ {
		cum += h.buckets[i].Load()
	}
	l.Count = cum
	l.Sum = time.Duration(h.sum.Load())
	return l
}

// LatencyHistograms holds the latency histograms of an executor, read
// together: its runs' and each step's.
type LatencyHistograms struct {
	// Runs holds the latencies of whole runs. Only runs whose latency was
	// measured are in it: those that started while performance
	// monitoring, telemetry or the adaptive limiter was on.
	Runs LatencyBuckets
	// Steps holds, by step name, the latencies of the executions the
	// performance monitor recorded: those that ran while
	// enable_performance_monitoring was on.
	Steps map[string]LatencyBuckets
}

// AddLatencyBuckets adds each step's reading to the entry of to named
// after the step. It holds the monitor's lock only to list the steps.
func (m *Monitor) AddLatencyBuckets(to map[string]LatencyBuckets) {
	m.mu.Lock()
	steps := make([]*StepMonitor, 0, len(m.steps))
	for _, s := range m.steps {
		steps = append(steps, s)
	}
	m.mu.Unlock()
	for _, s := range steps {
		l := s.hist.LatencyBuckets()
		t := to[s.name]
		t.Add(&l)
		to[s.name] = t
	}
}
