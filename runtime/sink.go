package runtime

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"sync"
)

// MemorySink keeps every exported event in memory. It is meant for tests.
// It is safe for concurrent use.
type MemorySink struct {
	mu      sync.Mutex
	events  []Event
	batches int
}

// NewMemorySink returns an empty MemorySink.
func NewMemorySink() *MemorySink { return &MemorySink{} }

// Export appends a copy of batch.
func (s *MemorySink) Export(_ context.Context, batch []Event) error {
	s.mu.Lock()
	s.events = append(s.events, batch...)
	s.batches++
	s.mu.Unlock()
	return nil
}

// Events returns a copy of the events exported so far, in export order.
func (s *MemorySink) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Len returns how many events were exported so far.
func (s *MemorySink) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// Batches returns how many Export calls were made so far.
func (s *MemorySink) Batches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batches
}

// Reset forgets the events and batches seen so far.
func (s *MemorySink) Reset() {
	s.mu.Lock()
	s.events, s.batches = nil, 0
	s.mu.Unlock()
}

// SlogSink writes one log record per event to a slog.Logger.
type SlogSink struct {
	logger *slog.Logger
	level  slog.Level
}

// NewSlogSink returns a sink that logs each event at level; a nil logger
// means slog.Default().
func NewSlogSink(logger *slog.Logger, level slog.Level) *SlogSink {
	if logger == nil {
		logger = slog.Default()
	}
	return &SlogSink{logger: logger, level: level}
}

// Export logs the batch, one record per event, until ctx is done, with the attributes step,
// outcome, attempts, latency, cache_hit and, when the breaker moved,
// breaker_from and breaker_to.
func (s *SlogSink) Export(ctx context.Context, batch []Event) error {
	if !s.logger.Enabled(ctx, s.level) {
		return nil
	}
	for i := range batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := &batch[i]
		attrs := [7]slog.Attr{
			slog.String("step", e.Step),
			slog.String("outcome", e.Outcome.String()),
			slog.Int("attempts", int(e.Attempts)),
			slog.Duration("latency", e.Latency()),
			slog.Bool("cache_hit", e.CacheHit),
		}
		n := 5
		if e.BreakerChanged() {
			attrs[5] = slog.Int("breaker_from", int(e.BreakerFrom))
			attrs[6] = slog.Int("breaker_to", int(e.BreakerTo))
			n = 7
		}
		s.logger.LogAttrs(ctx, s.level, "step executed", attrs[:n]...)
	}
	return nil
}

// JSONLinesSink writes one JSON object per event, one per line, to an
// io.Writer. The object's fields are the Event's JSON names plus latency_ns.
// It is safe for concurrent use.
type JSONLinesSink struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewJSONLinesSink returns a sink that writes to w.
func NewJSONLinesSink(w io.Writer) *JSONLinesSink {
	return &JSONLinesSink{w: w}
}

// Export encodes the batch and writes it with one Write call, so a batch
// reaches the writer whole or, on error, is dropped whole.
func (s *JSONLinesSink) Export(_ context.Context, batch []Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buf[:0]
	for i := range batch {
		b = sinkAppendEventJSON(b, &batch[i])
		b = append(b, '\n')
	}
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

// sinkAppendEventJSON appends e as a JSON object. It is written by hand so
// exporting a batch costs no reflection and one buffer for the whole run.
func sinkAppendEventJSON(b []byte, e *Event) []byte {
	b = append(b, `{"step":`...)
	b = sinkAppendJSONString(b, e.Step)
	b = append(b, `,"outcome":"`...)
	b = append(b, e.Outcome.String()...)
	b = append(b, `","attempts":`...)
	b = strconv.AppendInt(b, int64(e.Attempts), 10)
	b = append(b, `,"start_ns":`...)
	b = strconv.AppendInt(b, e.Start, 10)
	b = append(b, `,"end_ns":`...)
	b = strconv.AppendInt(b, e.End, 10)
	b = append(b, `,"latency_ns":`...)
	b = strconv.AppendInt(b, e.End-e.Start, 10)
	b = append(b, `,"cache_hit":`...)
	b = strconv.AppendBool(b, e.CacheHit)
	b = append(b, `,"breaker_from":`...)
	b = strconv.AppendUint(b, uint64(e.BreakerFrom), 10)
	b = append(b, `,"breaker_to":`...)
	b = strconv.AppendUint(b, uint64(e.BreakerTo), 10)
	return append(b, '}')
}

// sinkAppendJSONString appends s as a JSON string. Step names are nearly always
// plain ASCII, which is copied as is; anything else goes through
// encoding/json for correct escaping.
func sinkAppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
