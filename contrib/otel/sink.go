// Package otel exports flujo's step telemetry to OpenTelemetry: a span per
// step execution and metrics per step. It lives in a module of its own so the
// main flujo module never depends on OpenTelemetry.
//
// Plug it into the runtime's batcher:
//
//	sink, err := otel.NewSink(tracerProvider, meterProvider)
//	tel, err := runtime.NewTelemetry(runtime.TelemetryOptions{Sink: sink, ...})
package otel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/flujo/flujo/runtime"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/flujo/flujo/contrib/otel"

// Attribute keys set on spans and metric points.
const (
	AttrStep        = attribute.Key("flujo.step")
	AttrOutcome     = attribute.Key("flujo.outcome")
	AttrAttempts    = attribute.Key("flujo.attempts")
	AttrCacheHit    = attribute.Key("flujo.cache_hit")
	AttrBreakerFrom = attribute.Key("flujo.breaker.from")
	AttrBreakerTo   = attribute.Key("flujo.breaker.to")
)

// Metric instrument names.
const (
	MetricExecutions = "flujo.step.executions"
	MetricFailures   = "flujo.step.failures"
	MetricCacheHits  = "flujo.step.cache_hits"
	MetricDuration   = "flujo.step.duration"
)

// DurationBuckets returns the bucket boundaries, in seconds, that the
// duration histogram advises: from 5 us to 30 s, about three per decade.
// The SDK's default boundaries (0, 5, 10, 25, ... 10000) are meant for
// milliseconds; in seconds they put every execution under 5 s in one
// bucket. A View configured on the MeterProvider still takes precedence.
func DurationBuckets() []float64 {
	return []float64{
		0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
		0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
		1, 2.5, 5, 10, 30,
	}
}

// Option configures NewSink.
type Option func(*config)

type config struct {
	anchor    time.Time
	hasAnchor bool
}

// WithTimeAnchor sets the wall-clock time that a runtime.Clock reading of 0
// stands for; span timestamps are the anchor plus the event's readings. The
// default matches runtime.SystemClock. Set it when events come from another
// Clock, such as a runtime.FakeClock in tests.
func WithTimeAnchor(t time.Time) Option {
	return func(c *config) { c.anchor, c.hasAnchor = t, true }
}

// Sink is a runtime.Sink that turns each event into a span and into metric
// points: executions, failures and cache hits counters, and a duration
// histogram in seconds, all carrying the step's name. The attribute set of
// each step is built once, on the step's first event, and reused.
type Sink struct {
	tracer     trace.Tracer
	executions metric.Int64Counter
	failures   metric.Int64Counter
	cacheHits  metric.Int64Counter
	duration   metric.Float64Histogram
	anchor     time.Time

	mu    sync.RWMutex
	steps map[string]*sinkStep
}

// sinkStep is what a Sink caches per step name.
type sinkStep struct {
	attr    attribute.KeyValue
	measure metric.MeasurementOption
}

var _ runtime.Sink = (*Sink)(nil)

// NewSink returns a Sink that records spans through tp and metrics through
// mp.
func NewSink(tp trace.TracerProvider, mp metric.MeterProvider, opts ...Option) (*Sink, error) {
	if tp == nil {
		return nil, errors.New("otel: TracerProvider is nil; pass one, or a no-op provider to record metrics only")
	}
	if mp == nil {
		return nil, errors.New("otel: MeterProvider is nil; pass one, or a no-op provider to record spans only")
	}
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.hasAnchor {
		cfg.anchor = time.Now().Add(-time.Duration(runtime.SystemClock{}.Nanotime()))
	}
	meter := mp.Meter(ScopeName)
	s := &Sink{
		tracer: tp.Tracer(ScopeName),
		anchor: cfg.anchor,
		steps:  make(map[string]*sinkStep),
	}
	var errs []error
	var err error
	s.executions, err = meter.Int64Counter(MetricExecutions,
		metric.WithDescription("Step executions."), metric.WithUnit("{execution}"))
	errs = append(errs, err)
	s.failures, err = meter.Int64Counter(MetricFailures,
		metric.WithDescription("Step executions that failed, timed out, were canceled or rejected."), metric.WithUnit("{execution}"))
	errs = append(errs, err)
	s.cacheHits, err = meter.Int64Counter(MetricCacheHits,
		metric.WithDescription("Step executions answered from the cache."), metric.WithUnit("{execution}"))
	errs = append(errs, err)
	s.duration, err = meter.Float64Histogram(MetricDuration,
		metric.WithDescription("Step execution latency."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(DurationBuckets()...))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("otel: creating instruments: %w", err)
	}
	return s, nil
}

// step returns the cached attributes of the named step, building them on
// first use.
func (s *Sink) step(name string) *sinkStep {
	s.mu.RLock()
	st, ok := s.steps[name]
	s.mu.RUnlock()
	if ok {
		return st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.steps[name]; ok {
		return st
	}
	attr := AttrStep.String(name)
	st = &sinkStep{attr: attr, measure: metric.WithAttributeSet(attribute.NewSet(attr))}
	s.steps[name] = st
	return st
}

// Export records the batch. It stops early, returning ctx's error, when ctx
// is done.
func (s *Sink) Export(ctx context.Context, batch []runtime.Event) error {
	for i := range batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.record(ctx, &batch[i])
	}
	return nil
}

// record emits the span and metric points of one event.
func (s *Sink) record(ctx context.Context, e *runtime.Event) {
	st := s.step(e.Step)
	failed := e.Outcome.Failed()

	attrs := [6]attribute.KeyValue{
		st.attr,
		AttrOutcome.String(e.Outcome.String()),
		AttrAttempts.Int(int(e.Attempts)),
		AttrCacheHit.Bool(e.CacheHit),
	}
	n := 4
	if e.BreakerChanged() {
		attrs[4] = AttrBreakerFrom.Int(int(e.BreakerFrom))
		attrs[5] = AttrBreakerTo.Int(int(e.BreakerTo))
		n = 6
	}
	_, span := s.tracer.Start(ctx, e.Step,
		trace.WithTimestamp(s.anchor.Add(time.Duration(e.Start))),
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attrs[:n]...))
	if failed {
		span.SetStatus(codes.Error, e.Outcome.String())
	}
	span.End(trace.WithTimestamp(s.anchor.Add(time.Duration(e.End))))

	s.executions.Add(ctx, 1, st.measure)
	if failed {
		s.failures.Add(ctx, 1, st.measure)
	}
	if e.CacheHit {
		s.cacheHits.Add(ctx, 1, st.measure)
	}
	s.duration.Record(ctx, e.Latency().Seconds(), st.measure)
}
