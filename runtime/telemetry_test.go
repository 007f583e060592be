package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// telemetryDiscardSink accepts and forgets every batch.
type telemetryDiscardSink struct{ events atomic.Uint64 }

func (s *telemetryDiscardSink) Export(_ context.Context, batch []Event) error {
	s.events.Add(uint64(len(batch)))
	return nil
}

// telemetryFuncSink adapts a function to Sink.
type telemetryFuncSink func(ctx context.Context, batch []Event) error

func (f telemetryFuncSink) Export(ctx context.Context, batch []Event) error { return f(ctx, batch) }

// telemetryWait polls cond until it holds; it fails the test only after a
// deadline far beyond any expected delay, so it asserts an outcome, not a
// timing.
func telemetryWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func telemetryNewTest(t *testing.T, opts TelemetryOptions) *Telemetry {
	t.Helper()
	tel, err := NewTelemetry(opts)
	if err != nil {
		t.Fatalf("NewTelemetry: %v", err)
	}
	return tel
}

func telemetryClose(t *testing.T, tel *Telemetry) {
	t.Helper()
	if err := tel.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	c := tel.Counters()
	if c.Exported+c.Dropped != c.Recorded {
		t.Fatalf("after Close: exported %d + dropped %d != recorded %d", c.Exported, c.Dropped, c.Recorded)
	}
}

func TestNewTelemetryRejectsBadOptions(t *testing.T) {
	sink := NewMemorySink()
	valid := TelemetryOptions{BatchSize: 10, FlushInterval: time.Second, Sink: sink}
	cases := []struct {
		name   string
		change func(*TelemetryOptions)
		want   string
	}{
		{"batch size zero", func(o *TelemetryOptions) { o.BatchSize = 0 }, "BatchSize (telemetry_batch_size) is 0"},
		{"batch size negative", func(o *TelemetryOptions) { o.BatchSize = -3 }, "BatchSize (telemetry_batch_size) is -3"},
		{"batch size above buffer", func(o *TelemetryOptions) { o.BufferSize = 8; o.BatchSize = 9 }, "between 1 and the buffer size 8"},
		{"interval zero", func(o *TelemetryOptions) { o.FlushInterval = 0 }, "FlushInterval (telemetry_flush_interval_seconds) is 0s"},
		{"interval negative", func(o *TelemetryOptions) { o.FlushInterval = -time.Second }, "is -1s; it must be positive"},
		{"buffer not power of two", func(o *TelemetryOptions) { o.BufferSize = 100 }, "BufferSize is 100"},
		{"buffer one", func(o *TelemetryOptions) { o.BufferSize = 1; o.BatchSize = 1 }, "BufferSize is 1"},
		{"buffer negative", func(o *TelemetryOptions) { o.BufferSize = -8 }, "BufferSize is -8"},
		{"nil sink", func(o *TelemetryOptions) { o.Sink = nil }, "Sink is nil"},
		{"every problem at once", func(o *TelemetryOptions) { *o = TelemetryOptions{} }, "telemetry_batch_size) is 0; it must be between 1 and the buffer size 4096\nruntime: telemetry FlushInterval (telemetry_flush_interval_seconds) is 0s; it must be positive\nruntime: telemetry Sink is nil"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			opts := valid
			tc.change(&opts)
			tel, err := NewTelemetry(opts)
			if err == nil {
				tel.Close(context.Background())
				t.Fatalf("NewTelemetry(%+v) succeeded, want an error", opts)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestTelemetryExportsInOrderOnFlush(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	sink := NewMemorySink()
	tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 7, FlushInterval: time.Hour, BufferSize: 64, Sink: sink})
	const n = 50
	for i := range n {
		tel.Record(Event{Step: "s", Start: int64(i), End: int64(i + 10), Attempts: 1, Outcome: OutcomeSuccess})
	}
	if err := tel.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	got := sink.Events()
	if len(got) != n {
		t.Fatalf("after Flush the sink holds %d events, want %d", len(got), n)
	}
	for i, e := range got {
		if e.Start != int64(i) || e.Latency() != 10 {
			t.Fatalf("event %d = %+v, want start %d and latency 10", i, e, i)
		}
	}
	if c := tel.Counters(); c.Recorded != n || c.Exported != n || c.Dropped != 0 {
		t.Fatalf("counters = %+v, want %d recorded and exported, none dropped", c, n)
	}
	telemetryClose(t, tel)
}

// telemetryBatchLog records the size of every batch it receives.
type telemetryBatchLog struct {
	mu    sync.Mutex
	sizes []int
	total int
}

func (l *telemetryBatchLog) Export(_ context.Context, batch []Event) error {
	l.mu.Lock()
	l.sizes = append(l.sizes, len(batch))
	l.total += len(batch)
	l.mu.Unlock()
	return nil
}

func (l *telemetryBatchLog) snapshot() ([]int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.sizes...), l.total
}

func TestTelemetryExportsFullBatchesWithoutTimer(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	log := &telemetryBatchLog{}
	tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 5, FlushInterval: time.Hour, BufferSize: 64, Sink: log})
	for i := range 23 {
		tel.Record(Event{Step: "s", Start: int64(i)})
	}
	telemetryWait(t, "20 events in full batches", func() bool { _, n := log.snapshot(); return n == 20 })
	sizes, _ := log.snapshot()
	for _, s := range sizes {
		if s != 5 {
			t.Fatalf("batch sizes %v: the batch trigger exported a partial batch", sizes)
		}
	}
	telemetryClose(t, tel)
	sizes, total := log.snapshot()
	if total != 23 || sizes[len(sizes)-1] != 3 {
		t.Fatalf("after Close: batch sizes %v (total %d), want the 3 left over in a last batch", sizes, total)
	}
	// Batches counts the Export calls, as Stats reports them.
	if got := tel.Counters().Batches; got != uint64(len(sizes)) {
		t.Fatalf("Counters().Batches = %d, the sink received %d batches", got, len(sizes))
	}
}

func TestTelemetryExportsPartialBatchOnInterval(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	sink := NewMemorySink()
	tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 100, FlushInterval: 5 * time.Millisecond, Sink: sink})
	for range 3 {
		tel.Record(Event{Step: "s"})
	}
	telemetryWait(t, "the interval to export 3 events", func() bool { return sink.Len() == 3 })
	telemetryClose(t, tel)
}

func TestTelemetrySettingsChangeAtRunTime(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	log := &telemetryBatchLog{}
	tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 100, FlushInterval: time.Hour, BufferSize: 256, Sink: log})
	for _, bad := range []int{0, -1, 257} {
		if err := tel.Retune(bad, time.Hour); err == nil {
			t.Fatalf("Retune(%d, 1h) succeeded", bad)
		}
	}
	for _, bad := range []time.Duration{0, -time.Second} {
		if err := tel.Retune(100, bad); err == nil {
			t.Fatalf("Retune(100, %v) succeeded", bad)
		}
	}
	if tel.BatchSize() != 100 || tel.FlushInterval() != time.Hour {
		t.Fatalf("rejected settings changed the telemetry: batch %d, interval %v", tel.BatchSize(), tel.FlushInterval())
	}

	if err := tel.Retune(2, time.Hour); err != nil {
		t.Fatal(err)
	}
	for range 6 {
		tel.Record(Event{Step: "s"})
	}
	telemetryWait(t, "batches of the new size 2", func() bool { _, n := log.snapshot(); return n == 6 })
	if sizes, _ := log.snapshot(); len(sizes) != 3 {
		t.Fatalf("batch sizes %v, want three batches of 2", sizes)
	}

	if err := tel.Retune(50, time.Hour); err != nil {
		t.Fatal(err)
	}
	tel.Record(Event{Step: "s"})
	if err := tel.Retune(50, 5*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	telemetryWait(t, "the shortened interval to export", func() bool { _, n := log.snapshot(); return n == 7 })
	telemetryClose(t, tel)
}

func TestTelemetryAccountingIsExactUnderDrops(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const producers, per = 8, 4000
	release := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	last := make(map[string]int64)
	seen := 0
	sink := telemetryFuncSink(func(_ context.Context, batch []Event) error {
		// Hold the first batch until the producers are done, so the ring
		// fills and drops are certain.
		once.Do(func() { <-release })
		mu.Lock()
		defer mu.Unlock()
		for _, e := range batch {
			if prev, ok := last[e.Step]; ok && e.Start <= prev {
				t.Errorf("producer %s: event %d exported after %d", e.Step, e.Start, prev)
			}
			last[e.Step] = e.Start
			seen++
		}
		return nil
	})
	tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 4, FlushInterval: time.Millisecond, BufferSize: 16, Sink: sink})
	var wg sync.WaitGroup
	for p := range producers {
		name := string(rune('a' + p))
		wg.Go(func() {
			for i := range per {
				tel.Record(Event{Step: name, Start: int64(i)})
			}
		})
	}
	wg.Wait()
	close(release)
	// More producers race with Close: events before it are exported, events
	// after it are dropped, and none is lost in between.
	for p := range producers {
		name := string(rune('A' + p))
		wg.Go(func() {
			for i := range per {
				tel.Record(Event{Step: name, Start: int64(i)})
			}
		})
	}
	telemetryClose(t, tel)
	wg.Wait()
	c := tel.Counters()
	if c.Recorded != 2*producers*per {
		t.Fatalf("Recorded = %d, want %d", c.Recorded, 2*producers*per)
	}
	if c.Exported+c.Dropped != c.Recorded {
		t.Fatalf("exported %d + dropped %d != recorded %d", c.Exported, c.Dropped, c.Recorded)
	}
	if c.Dropped == 0 {
		t.Fatalf("no drops with a ring of 16 and a blocked sink: %+v", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if uint64(seen) != c.Exported {
		t.Fatalf("the sink saw %d events, Exported = %d", seen, c.Exported)
	}
}

func TestTelemetrySurvivesFailingSink(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var calls, errCalls, panicCalls, failedEvents, okEvents int
	errBroken := errors.New("sink broken")
	sink := telemetryFuncSink(func(_ context.Context, batch []Event) error {
		calls++
		switch calls % 3 {
		case 1:
			errCalls++
			failedEvents += len(batch)
			return errBroken
		case 2:
			panicCalls++
			failedEvents += len(batch)
			panic("sink exploded")
		}
		okEvents += len(batch)
		return nil
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 4, FlushInterval: time.Hour, BufferSize: 64, Sink: sink, Logger: logger})
	var flushErrs int
	for round := range 9 {
		for i := range 4 + round%3 {
			tel.Record(Event{Step: "s", Start: int64(i)})
		}
		if err := tel.Flush(context.Background()); err != nil {
			flushErrs++
		}
	}
	telemetryClose(t, tel)
	c := tel.Counters()
	if c.Exported == 0 || errCalls == 0 || panicCalls == 0 {
		t.Fatalf("counters = %+v after %d sink calls: want errors, panics and exports all seen", c, calls)
	}
	if c.SinkErrors != uint64(errCalls) || c.SinkPanics != uint64(panicCalls) {
		t.Fatalf("counters = %+v, want %d sink errors and %d panics", c, errCalls, panicCalls)
	}
	if c.Exported != uint64(okEvents) || c.Dropped != uint64(failedEvents) {
		t.Fatalf("counters = %+v, want exported %d and dropped %d", c, okEvents, failedEvents)
	}
	if flushErrs == 0 {
		t.Fatalf("Flush never reported the sink's failures")
	}
	for _, want := range []string{"telemetry sink failed", "sink broken", "telemetry sink panicked", "sink exploded"} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestTelemetryAfterClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	sink := NewMemorySink()
	tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 10, FlushInterval: time.Hour, Sink: sink})
	tel.Record(Event{Step: "before"})
	telemetryClose(t, tel)
	tel.Record(Event{Step: "after"})
	if c := tel.Counters(); c.Recorded != 2 || c.Exported != 1 || c.Dropped != 1 {
		t.Fatalf("counters = %+v, want 2 recorded, 1 exported, 1 dropped", c)
	}
	if err := tel.Flush(context.Background()); !errors.Is(err, ErrTelemetryClosed) {
		t.Fatalf("Flush after Close = %v, want ErrTelemetryClosed", err)
	}
	if err := tel.Close(context.Background()); !errors.Is(err, ErrTelemetryClosed) {
		t.Fatalf("second Close = %v, want ErrTelemetryClosed", err)
	}
	if got := sink.Events(); len(got) != 1 || got[0].Step != "before" {
		t.Fatalf("sink holds %+v, want only the event recorded before Close", got)
	}
}

func TestTelemetryCloseGivesUpOnStuckSink(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	entered := make(chan struct{}, 1)
	sink := telemetryFuncSink(func(ctx context.Context, batch []Event) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	})
	tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 2, FlushInterval: time.Hour, BufferSize: 16, Sink: sink})
	for range 10 {
		tel.Record(Event{Step: "s"})
	}
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tel.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close with a canceled context = %v, want context.Canceled", err)
	}
	// The exporter drops the rest and stops; a second Close waits for it.
	if err := tel.Close(context.Background()); !errors.Is(err, ErrTelemetryClosed) {
		t.Fatalf("second Close = %v, want ErrTelemetryClosed", err)
	}
	if c := tel.Counters(); c.Exported != 0 || c.Dropped != 10 || c.Recorded != 10 {
		t.Fatalf("counters = %+v, want all 10 dropped", c)
	}
}

func TestTelemetryFlushHonoursContext(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	release := make(chan struct{})
	sink := telemetryFuncSink(func(context.Context, []Event) error { <-release; return nil })
	tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 1, FlushInterval: time.Hour, Sink: sink})
	tel.Record(Event{Step: "s"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tel.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush with a canceled context = %v, want context.Canceled", err)
	}
	close(release)
	telemetryClose(t, tel)
	if c := tel.Counters(); c.Exported != 1 {
		t.Fatalf("counters = %+v, want the event exported", c)
	}
}

func TestTelemetryRecordAllocs(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	sink := &telemetryDiscardSink{}
	tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 64, FlushInterval: time.Hour, Sink: sink})
	e := Event{Step: "classify", Start: 1, End: 2, Attempts: 1}
	if a := testing.AllocsPerRun(10000, func() { tel.Record(e) }); a != 0 {
		t.Fatalf("Record allocates %v times per call", a)
	}
	telemetryClose(t, tel)
}

func TestOutcomeNames(t *testing.T) {
	cases := []struct {
		o      Outcome
		name   string
		failed bool
	}{
		{OutcomeSuccess, "success", false},
		{OutcomeFailure, "failure", true},
		{OutcomeRejected, "rejected", true},
		{OutcomeTimeout, "timeout", true},
		{OutcomeCanceled, "canceled", true},
		{Outcome(200), "outcome(200)", true},
	}
	for _, tc := range cases {
		if got := tc.o.String(); got != tc.name {
			t.Errorf("Outcome(%d).String() = %q, want %q", tc.o, got, tc.name)
		}
		if got := tc.o.Failed(); got != tc.failed {
			t.Errorf("%v.Failed() = %v, want %v", tc.o, got, tc.failed)
		}
		var back Outcome
		err := back.UnmarshalText([]byte(tc.name))
		if known := int(tc.o) < len(telemetryOutcomeNames); known != (err == nil) || (known && back != tc.o) {
			t.Errorf("UnmarshalText(%q) = %v, %v", tc.name, back, err)
		}
	}
}

func BenchmarkTelemetryRecord(b *testing.B) {
	// accepted: every event finds a free slot. The ring is drained with
	// Flush, timer stopped, every half ring, so only Record is timed.
	b.Run("accepted", func(b *testing.B) {
		const buffer = 4096
		tel, err := NewTelemetry(TelemetryOptions{BatchSize: buffer, FlushInterval: time.Hour, BufferSize: buffer, Sink: &telemetryDiscardSink{}})
		if err != nil {
			b.Fatal(err)
		}
		defer tel.Close(context.Background())
		e := Event{Step: "classify", Attempts: 1}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e.Start += 1000
			e.End = e.Start + 1000
			tel.Record(e)
			if i++; i == buffer/2 {
				b.StopTimer()
				tel.Flush(context.Background())
				i = 0
				b.StartTimer()
			}
		}
		b.StopTimer()
		c := tel.Counters()
		b.ReportMetric(float64(c.Dropped)/float64(max(c.Recorded, 1)), "dropped/op")
	})
	// saturated: the producer outruns the exporter, so most calls take the
	// drop path; it shows Record stays cheap when the ring is full.
	b.Run("saturated", func(b *testing.B) {
		tel, err := NewTelemetry(TelemetryOptions{BatchSize: 256, FlushInterval: time.Second, Sink: &telemetryDiscardSink{}})
		if err != nil {
			b.Fatal(err)
		}
		defer tel.Close(context.Background())
		e := Event{Step: "classify", Attempts: 1}
		b.ReportAllocs()
		for b.Loop() {
			e.Start += 1000
			e.End = e.Start + 1000
			tel.Record(e)
		}
		b.StopTimer()
		c := tel.Counters()
		b.ReportMetric(float64(c.Dropped)/float64(max(c.Recorded, 1)), "dropped/op")
	})
}

func BenchmarkTelemetryRecordParallel(b *testing.B) {
	tel, err := NewTelemetry(TelemetryOptions{BatchSize: 1024, FlushInterval: time.Second, BufferSize: 1 << 16, Sink: &telemetryDiscardSink{}})
	if err != nil {
		b.Fatal(err)
	}
	defer tel.Close(context.Background())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		e := Event{Step: "classify", Attempts: 1}
		for pb.Next() {
			e.Start += 1000
			e.End = e.Start + 1000
			tel.Record(e)
		}
	})
	b.StopTimer()
	c := tel.Counters()
	b.ReportMetric(float64(c.Dropped)/float64(max(c.Recorded, 1)), "dropped/op")
}

// telemetrySpin is a step body that burns CPU for n rounds without reading
// the clock or touching memory.
//
//go:noinline
func telemetrySpin(n int) uint64 {
	x := uint64(n)
	for range n {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// telemetrySpinFor returns the rounds of telemetrySpin that take about d.
func telemetrySpinFor(d time.Duration) int {
	const probe = 1 << 20
	best := time.Duration(math.MaxInt64)
	for range 5 {
		start := time.Now()
		telemetrySpin(probe)
		best = min(best, time.Since(start))
	}
	return int(float64(probe) * float64(d) / float64(best))
}

// BenchmarkObservedStep runs a step of about 1 us the way an executor does:
// one clock reading at each boundary. "bare" stops there; "observed" also
// records the execution in Telemetry and in the Monitor, reusing those two
// readings. "paired" alternates blocks of both and reports the overhead.
func BenchmarkObservedStep(b *testing.B) {
	rounds := telemetrySpinFor(time.Microsecond)
	clock := SystemClock{}
	newObservers := func(b *testing.B) (*Telemetry, *StepMonitor) {
		tel, err := NewTelemetry(TelemetryOptions{BatchSize: 256, FlushInterval: time.Second, BufferSize: telemetryBenchBuffer, Sink: &telemetryDiscardSink{}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { tel.Close(context.Background()) })
		m := monitorNewTest(b, MonitorOptions{SlowThreshold: time.Second, DegradationThreshold: 0.2})
		return tel, m.Step("step")
	}
	var sinkhole uint64
	bare := func() {
		start := clock.Nanotime()
		sinkhole += telemetrySpin(rounds)
		end := clock.Nanotime()
		sinkhole += uint64(end - start)
	}
	observed := func(tel *Telemetry, sm *StepMonitor) {
		start := clock.Nanotime()
		sinkhole += telemetrySpin(rounds)
		end := clock.Nanotime()
		tel.Record(Event{Step: "step", Start: start, End: end, Attempts: 1})
		sm.Record(end-start, true)
	}
	b.Run("bare", func(b *testing.B) {
		for b.Loop() {
			bare()
		}
	})
	b.Run("observed", func(b *testing.B) {
		tel, sm := newObservers(b)
		b.ReportAllocs()
		for b.Loop() {
			observed(tel, sm)
		}
		b.StopTimer()
		c := tel.Counters()
		b.ReportMetric(float64(c.Dropped)/float64(max(c.Recorded, 1)), "dropped/op")
	})
	// paired alternates short blocks of bare and observed steps and
	// compares the median block of each, which shrugs off the preemptions
	// and frequency changes of a shared machine.
	b.Run("paired", func(b *testing.B) {
		tel, sm := newObservers(b)
		const block = 200
		var bareBlocks, obsBlocks []time.Duration
		for b.Loop() {
			t0 := time.Now()
			for range block {
				bare()
			}
			t1 := time.Now()
			for range block {
				observed(tel, sm)
			}
			t2 := time.Now()
			bareBlocks = append(bareBlocks, t1.Sub(t0))
			obsBlocks = append(obsBlocks, t2.Sub(t1))
		}
		slices.Sort(bareBlocks)
		slices.Sort(obsBlocks)
		bareMed := float64(bareBlocks[len(bareBlocks)/2]) / block
		obsMed := float64(obsBlocks[len(obsBlocks)/2]) / block
		b.ReportMetric(bareMed, "bare-ns/step")
		b.ReportMetric(obsMed, "observed-ns/step")
		b.ReportMetric(obsMed-bareMed, "added-ns/step")
		b.ReportMetric(100*(obsMed/bareMed-1), "overhead-%")
	})
	if sinkhole == 42 {
		b.Log(sinkhole)
	}
}

func ExampleTelemetry() {
	sink := NewMemorySink()
	tel, err := NewTelemetry(TelemetryOptions{BatchSize: 10, FlushInterval: 30 * time.Second, Sink: sink})
	if err != nil {
		fmt.Println(err)
		return
	}
	clock := NewFakeClock(0)
	for _, step := range []string{"classify", "route"} {
		start := clock.Nanotime() // the executor's own readings at the step's boundaries
		end := clock.Advance(3 * time.Millisecond)
		tel.Record(Event{Step: step, Start: start, End: end, Attempts: 1, Outcome: OutcomeSuccess})
	}
	if err := tel.Close(context.Background()); err != nil {
		fmt.Println(err)
	}
	for _, e := range sink.Events() {
		fmt.Println(e.Step, e.Outcome, e.Latency())
	}
	fmt.Printf("%+v\n", tel.Counters())
	// Output:
	// classify success 3ms
	// route success 3ms
	// {Recorded:2 Exported:2 Dropped:0 SinkErrors:0 SinkPanics:0 Batches:1}
}

// telemetryBenchBuffer is the ring size of BenchmarkObservedStep. It is a
// constant so a run can try another size by editing one line.
const telemetryBenchBuffer = 1 << 16

// TestTelemetryRetuneIsAtomic: Retune changes the batch size and the flush
// interval together or not at all; CheckRetune never changes anything.
func TestTelemetryRetuneIsAtomic(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 100, FlushInterval: time.Hour, BufferSize: 256, Sink: &telemetryDiscardSink{}})
	defer telemetryClose(t, tel)
	for _, bad := range []struct {
		n int
		d time.Duration
	}{{20, 0}, {0, time.Second}, {257, time.Second}, {20, -time.Second}} {
		if err := tel.CheckRetune(bad.n, bad.d); err == nil {
			t.Errorf("CheckRetune(%d, %v) accepted", bad.n, bad.d)
		}
		if err := tel.Retune(bad.n, bad.d); err == nil {
			t.Errorf("Retune(%d, %v) accepted", bad.n, bad.d)
		}
		if tel.BatchSize() != 100 || tel.FlushInterval() != time.Hour {
			t.Fatalf("after Retune(%d, %v): batch %d, flush %v", bad.n, bad.d, tel.BatchSize(), tel.FlushInterval())
		}
	}
	if err := tel.CheckRetune(20, time.Second); err != nil || tel.BatchSize() != 100 {
		t.Fatalf("CheckRetune: %v, batch %d", err, tel.BatchSize())
	}
	if err := tel.Retune(20, time.Second); err != nil || tel.BatchSize() != 20 || tel.FlushInterval() != time.Second {
		t.Fatalf("Retune: %v, batch %d, flush %v", err, tel.BatchSize(), tel.FlushInterval())
	}
}
