package otel

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/goleak"

	"github.com/flujo/flujo/runtime"
)

type otelHarness struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	sink   *Sink
	anchor time.Time
}

func newHarness(t *testing.T) *otelHarness {
	t.Helper()
	h := &otelHarness{
		spans:  tracetest.NewSpanRecorder(),
		reader: sdkmetric.NewManualReader(),
		anchor: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		tp.Shutdown(context.Background())
		mp.Shutdown(context.Background())
	})
	var err error
	h.sink, err = NewSink(tp, mp, WithTimeAnchor(h.anchor))
	if err != nil {
		t.Fatalf("NewSink: %v", err)
	}
	return h
}

func attrsOf(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

func TestSinkThroughTelemetry(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	h := newHarness(t)
	tel, err := runtime.NewTelemetry(runtime.TelemetryOptions{BatchSize: 2, FlushInterval: time.Hour, Sink: h.sink})
	if err != nil {
		t.Fatal(err)
	}
	ms := int64(time.Millisecond)
	events := []runtime.Event{
		{Step: "classify", Start: 10 * ms, End: 12 * ms, Attempts: 1, Outcome: runtime.OutcomeSuccess},
		{Step: "classify", Start: 20 * ms, End: 21 * ms, Attempts: 1, Outcome: runtime.OutcomeSuccess, CacheHit: true},
		{Step: "enrich", Start: 30 * ms, End: 35 * ms, Attempts: 3, Outcome: runtime.OutcomeFailure, BreakerFrom: 0, BreakerTo: 1},
	}
	for _, e := range events {
		tel.Record(e)
	}
	if err := tel.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if c := tel.Counters(); c.Exported != uint64(len(events)) {
		t.Fatalf("telemetry counters %+v, want %d exported", c, len(events))
	}

	spans := h.spans.Ended()
	if len(spans) != len(events) {
		t.Fatalf("%d spans, want %d", len(spans), len(events))
	}
	for i, sp := range spans {
		e := events[i]
		a := attrsOf(sp.Attributes())
		if sp.Name() != e.Step || a[AttrStep].AsString() != e.Step {
			t.Errorf("span %d: name %q, flujo.step %q, want %q", i, sp.Name(), a[AttrStep].AsString(), e.Step)
		}
		if a[AttrOutcome].AsString() != e.Outcome.String() || a[AttrAttempts].AsInt64() != int64(e.Attempts) || a[AttrCacheHit].AsBool() != e.CacheHit {
			t.Errorf("span %d attributes %v do not match event %+v", i, sp.Attributes(), e)
		}
		if !sp.StartTime().Equal(h.anchor.Add(time.Duration(e.Start))) || !sp.EndTime().Equal(h.anchor.Add(time.Duration(e.End))) {
			t.Errorf("span %d runs %v..%v, want the event's readings on the anchor", i, sp.StartTime(), sp.EndTime())
		}
		wantCode := codes.Unset
		if e.Outcome.Failed() {
			wantCode = codes.Error
		}
		if sp.Status().Code != wantCode {
			t.Errorf("span %d status %v, want %v", i, sp.Status(), wantCode)
		}
		_, hasBreaker := a[AttrBreakerTo]
		if hasBreaker != e.BreakerChanged() || (hasBreaker && a[AttrBreakerTo].AsInt64() != int64(e.BreakerTo)) {
			t.Errorf("span %d breaker attributes %v for event %+v", i, sp.Attributes(), e)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	sums := map[string]map[string]int64{}
	durations := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, ScopeName)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				sums[m.Name] = map[string]int64{}
				for _, p := range d.DataPoints {
					step, ok := p.Attributes.Value(AttrStep)
					if !ok || p.Attributes.Len() != 1 {
						t.Errorf("%s point attributes %v, want flujo.step only", m.Name, p.Attributes.ToSlice())
					}
					sums[m.Name][step.AsString()] = p.Value
				}
			case metricdata.Histogram[float64]:
				if m.Name != MetricDuration || m.Unit != "s" {
					t.Errorf("histogram %q in %q", m.Name, m.Unit)
				}
				for _, p := range d.DataPoints {
					step, ok := p.Attributes.Value(AttrStep)
					if !ok {
						t.Errorf("duration point without flujo.step: %v", p.Attributes.ToSlice())
					}
					durations[step.AsString()] = p.Count
					if step.AsString() == "enrich" && p.Sum != 0.005 {
						t.Errorf("enrich duration sum %v s, want 0.005", p.Sum)
					}
				}
			default:
				t.Errorf("unexpected metric %q of type %T", m.Name, m.Data)
			}
		}
	}
	want := map[string]map[string]int64{
		MetricExecutions: {"classify": 2, "enrich": 1},
		MetricFailures:   {"enrich": 1},
		MetricCacheHits:  {"classify": 1},
	}
	for name, byStep := range want {
		for step, v := range byStep {
			if sums[name][step] != v {
				t.Errorf("%s{flujo.step=%s} = %d, want %d (all: %v)", name, step, sums[name][step], v, sums)
			}
		}
		if len(sums[name]) != len(byStep) {
			t.Errorf("%s has points %v, want %v", name, sums[name], byStep)
		}
	}
	if durations["classify"] != 2 || durations["enrich"] != 1 {
		t.Errorf("duration counts %v, want classify 2 and enrich 1", durations)
	}
	if len(h.sink.steps) != 2 {
		t.Errorf("the sink cached %d attribute sets, want one per step (2)", len(h.sink.steps))
	}
}

func TestSinkCachesStepAttributes(t *testing.T) {
	h := newHarness(t)
	a := h.sink.step("s")
	if b := h.sink.step("s"); a != b {
		t.Fatal("the attributes of a step were built twice")
	}
	if h.sink.step("other") == a {
		t.Fatal("two steps share one attribute set")
	}
}

func TestSinkStopsOnCanceledContext(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.sink.Export(ctx, []runtime.Event{{Step: "s"}}); err == nil {
		t.Fatal("Export with a canceled context returned nil")
	}
	if n := len(h.spans.Ended()); n != 0 {
		t.Fatalf("%d spans recorded after cancellation", n)
	}
}

func TestNewSinkRejectsNilProviders(t *testing.T) {
	if _, err := NewSink(nil, metricnoop.NewMeterProvider()); err == nil {
		t.Error("NewSink with a nil TracerProvider succeeded")
	}
	if _, err := NewSink(tracenoop.NewTracerProvider(), nil); err == nil {
		t.Error("NewSink with a nil MeterProvider succeeded")
	}
	if _, err := NewSink(tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider()); err != nil {
		t.Errorf("NewSink with no-op providers: %v", err)
	}
}

func TestDefaultAnchorMatchesSystemClock(t *testing.T) {
	h := newHarness(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	defer tp.Shutdown(context.Background())
	sink, err := NewSink(tp, metricnoop.NewMeterProvider())
	if err != nil {
		t.Fatal(err)
	}
	clock := runtime.SystemClock{}
	before := time.Now()
	start := clock.Nanotime()
	end := clock.Nanotime()
	after := time.Now()
	if err := sink.Export(context.Background(), []runtime.Event{{Step: "s", Start: start, End: end}}); err != nil {
		t.Fatal(err)
	}
	sp := h.spans.Ended()[0]
	// Wall and monotonic clocks may drift apart by a little; a second of
	// slack still catches a wrong epoch.
	if sp.StartTime().Before(before.Add(-time.Second)) || sp.EndTime().After(after.Add(time.Second)) {
		t.Fatalf("span %v..%v is outside the recording %v..%v", sp.StartTime(), sp.EndTime(), before, after)
	}
}

func BenchmarkSinkExport(b *testing.B) {
	// Spans are sampled and built, then dropped: no processor keeps them.
	tp := sdktrace.NewTracerProvider()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer tp.Shutdown(context.Background())
	defer mp.Shutdown(context.Background())
	sink, err := NewSink(tp, mp)
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]runtime.Event, 64)
	for i := range batch {
		batch[i] = runtime.Event{Step: "step", Start: int64(i), End: int64(i + 1000), Attempts: 1}
	}
	b.ReportAllocs()
	for b.Loop() {
		sink.Export(context.Background(), batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
}

// TestSinkDurationBuckets: the duration histogram, in seconds, separates
// microsecond, millisecond and sub-second executions; with the SDK's default
// boundaries, meant for milliseconds, all three share one bucket.
func TestSinkDurationBuckets(t *testing.T) {
	h := newHarness(t)
	lat := []time.Duration{50 * time.Microsecond, 3 * time.Millisecond, 300 * time.Millisecond}
	batch := make([]runtime.Event, len(lat))
	for i, d := range lat {
		batch[i] = runtime.Event{Step: "s", Start: int64(i) * int64(time.Second), End: int64(i)*int64(time.Second) + int64(d), Attempts: 1, Outcome: runtime.OutcomeSuccess}
	}
	if err := h.sink.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			d, ok := m.Data.(metricdata.Histogram[float64])
			if !ok || m.Name != MetricDuration {
				continue
			}
			found = true
			if len(d.DataPoints) != 1 {
				t.Fatalf("%d duration points, want 1", len(d.DataPoints))
			}
			p := d.DataPoints[0]
			if !slices.Equal(p.Bounds, DurationBuckets()) {
				t.Errorf("bounds %v, want DurationBuckets %v", p.Bounds, DurationBuckets())
			}
			for i, d := range lat {
				b := sort.SearchFloat64s(p.Bounds, d.Seconds())
				if p.BucketCounts[b] != 1 {
					t.Errorf("%v: bucket %d (upper bound %v) counts %d, want 1 (all %v)", d, b, p.Bounds[min(b, len(p.Bounds)-1)], p.BucketCounts[b], p.BucketCounts)
				}
				for _, other := range lat[i+1:] {
					if sort.SearchFloat64s(p.Bounds, other.Seconds()) == b {
						t.Errorf("%v and %v share bucket %d", d, other, b)
					}
				}
			}
		}
	}
	if !found {
		t.Fatal("no duration histogram")
	}
}

func TestDurationBucketsAscend(t *testing.T) {
	b := DurationBuckets()
	if len(b) == 0 || b[0] <= 0 {
		t.Fatalf("DurationBuckets %v: want positive bounds", b)
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			t.Errorf("DurationBuckets %v: %v after %v, want strictly ascending", b, b[i], b[i-1])
		}
	}
	b[0] = -1
	if DurationBuckets()[0] <= 0 {
		t.Error("DurationBuckets returns shared storage")
	}
}
