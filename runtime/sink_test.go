package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMemorySinkReturnsCopies(t *testing.T) {
	s := NewMemorySink()
	batch := []Event{{Step: "a"}, {Step: "b"}}
	if err := s.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	batch[0].Step = "changed by the exporter"
	got := s.Events()
	got[1].Step = "changed by the reader"
	if again := s.Events(); again[0].Step != "a" || again[1].Step != "b" {
		t.Fatalf("events = %+v, want a copy unaffected by later writes", again)
	}
	if s.Len() != 2 || s.Batches() != 1 {
		t.Fatalf("Len %d Batches %d, want 2 and 1", s.Len(), s.Batches())
	}
	s.Reset()
	if s.Len() != 0 || s.Batches() != 0 || len(s.Events()) != 0 {
		t.Fatal("Reset kept events")
	}
}

func TestMemorySinkConcurrent(t *testing.T) {
	s := NewMemorySink()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				s.Export(context.Background(), []Event{{Step: "x"}, {Step: "y"}})
				_ = s.Events()
			}
		})
	}
	wg.Wait()
	if s.Len() != 1600 || s.Batches() != 800 {
		t.Fatalf("Len %d Batches %d, want 1600 and 800", s.Len(), s.Batches())
	}
}

func TestSlogSink(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	batch := []Event{
		{Step: "classify", Start: 100, End: 1600, Attempts: 2, Outcome: OutcomeFailure, BreakerFrom: 0, BreakerTo: 1},
		{Step: "route", Start: 0, End: 10, Attempts: 1, CacheHit: true},
	}
	if err := NewSlogSink(logger, slog.LevelInfo).Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad log line %q: %v", line, err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 2 {
		t.Fatalf("%d log records, want 2:\n%s", len(recs), buf.String())
	}
	first, second := recs[0], recs[1]
	if first["step"] != "classify" || first["outcome"] != "failure" || first["attempts"] != 2.0 ||
		first["latency"] != 1500.0 || first["cache_hit"] != false || first["breaker_from"] != 0.0 || first["breaker_to"] != 1.0 {
		t.Errorf("first record = %v", first)
	}
	if second["step"] != "route" || second["cache_hit"] != true || second["outcome"] != "success" {
		t.Errorf("second record = %v", second)
	}
	if _, ok := second["breaker_from"]; ok {
		t.Errorf("second record reports a breaker change that did not happen: %v", second)
	}

	buf.Reset()
	if err := NewSlogSink(logger, slog.LevelDebug).Export(context.Background(), batch); err != nil || buf.Len() != 0 {
		t.Fatalf("a disabled level logged %q (err %v)", buf.String(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewSlogSink(logger, slog.LevelInfo).Export(ctx, batch); !errors.Is(err, context.Canceled) {
		t.Fatalf("Export with a canceled context = %v", err)
	}
}

// sinkFailingWriter fails every write.
type sinkFailingWriter struct{}

func (sinkFailingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestJSONLinesSink(t *testing.T) {
	var buf bytes.Buffer
	sink := NewJSONLinesSink(&buf)
	steps := []string{"plain", `quote " and \ back`, "line\nbreak", "<html> & co", "unicode é ✓", "ctl\x01"}
	var batch []Event
	for i, name := range steps {
		batch = append(batch, Event{Step: name, Start: int64(i * 1000), End: int64(i*1000 + 250), Attempts: int32(i + 1),
			Outcome: Outcome(i % 3), CacheHit: i%2 == 0, BreakerFrom: uint8(i % 2), BreakerTo: 2})
	}
	if err := sink.Export(context.Background(), batch[:2]); err != nil {
		t.Fatal(err)
	}
	if err := sink.Export(context.Background(), batch[2:]); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	i := 0
	for sc.Scan() {
		var got struct {
			Event
			Latency int64 `json:"latency_ns"`
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("line %d %q: %v", i, sc.Text(), err)
		}
		if want := batch[i]; got.Event != want || got.Latency != 250 {
			t.Errorf("line %d decodes to %+v (latency %d), want %+v", i, got.Event, got.Latency, want)
		}
		i++
	}
	if i != len(batch) {
		t.Fatalf("%d lines, want %d", i, len(batch))
	}
	if err := NewJSONLinesSink(sinkFailingWriter{}).Export(context.Background(), batch); err == nil {
		t.Fatal("a failing writer's error was not returned")
	}
}

func TestSinksThroughTelemetry(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var jsonBuf, logBuf bytes.Buffer
	sinks := []Sink{
		NewJSONLinesSink(&jsonBuf),
		NewSlogSink(slog.New(slog.NewTextHandler(&logBuf, nil)), slog.LevelInfo),
		NewJSONLinesSink(sinkFailingWriter{}),
	}
	for i, sink := range sinks {
		tel := telemetryNewTest(t, TelemetryOptions{BatchSize: 3, FlushInterval: time.Hour, Sink: sink})
		for range 10 {
			tel.Record(Event{Step: "s", Attempts: 1})
		}
		telemetryClose(t, tel)
		c := tel.Counters()
		if i < 2 && c.Exported != 10 {
			t.Errorf("sink %d: counters %+v, want 10 exported", i, c)
		}
		if i == 2 && (c.Dropped != 10 || c.SinkErrors != 4) {
			t.Errorf("failing sink: counters %+v, want 10 dropped in 4 failed batches", c)
		}
	}
	if n := strings.Count(jsonBuf.String(), "\n"); n != 10 {
		t.Errorf("JSON lines sink wrote %d lines, want 10", n)
	}
	if n := strings.Count(logBuf.String(), "step executed"); n != 10 {
		t.Errorf("slog sink wrote %d records, want 10", n)
	}
}
