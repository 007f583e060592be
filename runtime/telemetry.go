package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Outcome is how one step execution ended, as recorded in an Event.
type Outcome uint8

// The outcomes of a step execution.
const (
	// OutcomeSuccess: the step returned a result.
	OutcomeSuccess Outcome = iota
	// OutcomeFailure: the step failed after its last attempt.
	OutcomeFailure
	// OutcomeRejected: the circuit breaker refused the last attempt, which
	// did not run. Earlier attempts may have run and failed, the last of
	// them opening the breaker: Event.Attempts counts them, and the latency
	// includes them.
	OutcomeRejected
	// OutcomeTimeout: the step's deadline passed.
	OutcomeTimeout
	// OutcomeCanceled: the caller's context was canceled.
	OutcomeCanceled
)

var telemetryOutcomeNames = [...]string{
	OutcomeSuccess:  "success",
	OutcomeFailure:  "failure",
	OutcomeRejected: "rejected",
	OutcomeTimeout:  "timeout",
	OutcomeCanceled: "canceled",
}

// String returns the outcome's lower-case name, such as "success".
func (o Outcome) String() string {
	if int(o) < len(telemetryOutcomeNames) {
		return telemetryOutcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Failed reports whether the outcome counts as a failed execution. A step
// whose fallback succeeded records its own failure; the fallback records
// its success as a step of its own.
func (o Outcome) Failed() bool {
	return o != OutcomeSuccess
}

// MarshalText encodes the outcome as its name.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText decodes an outcome from its name.
func (o *Outcome) UnmarshalText(b []byte) error {
	for i, name := range telemetryOutcomeNames {
		if string(b) == name {
			*o = Outcome(i)
			return nil
		}
	}
	return fmt.Errorf("runtime: unknown outcome %q; want one of %s", b, strings.Join(telemetryOutcomeNames[:], ", "))
}

// Event is one step execution as telemetry records it. It is plain data:
// recording copies it into a preallocated slot and allocates nothing.
//
// Start and End are the Clock readings the caller took at the step's
// boundaries; telemetry never reads the clock itself. BreakerFrom and
// BreakerTo carry the circuit breaker's state (its numeric value) before and
// after the execution; they are equal when the state did not change.
type Event struct {
	// Step is the step's name.
	Step string `json:"step"`
	// Start is the Clock reading when the step began, in nanoseconds.
	Start int64 `json:"start_ns"`
	// End is the Clock reading when the step finished, in nanoseconds.
	End int64 `json:"end_ns"`
	// Attempts is how many times the step function ran.
	Attempts int32 `json:"attempts"`
	// Outcome is how the execution ended.
	Outcome Outcome `json:"outcome"`
	// CacheHit is true when the result came from the cache.
	CacheHit bool `json:"cache_hit"`
	// BreakerFrom is the breaker state before the execution.
	BreakerFrom uint8 `json:"breaker_from"`
	// BreakerTo is the breaker state after the execution.
	BreakerTo uint8 `json:"breaker_to"`
}

// Latency is End minus Start.
func (e *Event) Latency() time.Duration { return time.Duration(e.End - e.Start) }

// BreakerChanged reports whether the execution moved the circuit breaker to
// another state.
func (e *Event) BreakerChanged() bool { return e.BreakerFrom != e.BreakerTo }

// Sink receives batches of events from a Telemetry exporter. Export is called
// from one goroutine at a time. The batch is reused after Export returns, so
// a Sink that keeps events must copy them. An error or a panic drops the
// batch; it is counted and logged, and exporting goes on.
type Sink interface {
	Export(ctx context.Context, batch []Event) error
}

// DefaultTelemetryBufferSize is the ring size used when
// TelemetryOptions.BufferSize is 0.
const DefaultTelemetryBufferSize = 4096

// TelemetryOptions configures NewTelemetry.
type TelemetryOptions struct {
	// BatchSize is telemetry_batch_size: the exporter sends a batch as soon
	// as this many events are waiting. At least 1, at most BufferSize.
	BatchSize int
	// FlushInterval is telemetry_flush_interval_seconds: waiting events are
	// exported at least this often. Must be positive.
	FlushInterval time.Duration
	// BufferSize is the capacity of the event ring, a power of two of at
	// least 2; 0 means DefaultTelemetryBufferSize. Events recorded while
	// the ring is full are dropped and counted.
	BufferSize int
	// Sink receives the batches. Required.
	Sink Sink
	// Logger reports sink errors and panics; nil discards them (they are
	// still counted).
	Logger *slog.Logger
}

// ErrTelemetryClosed is returned by Flush and Close once Close has been
// called.
var ErrTelemetryClosed = errors.New("runtime: telemetry is closed")

// TelemetryCounters are the exporter's running totals. Once Close has
// returned nil, Exported + Dropped == Recorded exactly.
type TelemetryCounters struct {
	// Recorded counts every call of Record, dropped or not.
	Recorded uint64 `json:"recorded"`
	// Exported counts events that a Sink accepted.
	Exported uint64 `json:"exported"`
	// Dropped counts events lost: ring full, recorded after Close, or in a
	// batch the Sink failed or panicked on.
	Dropped uint64 `json:"dropped"`
	// SinkErrors counts Export calls that returned an error.
	SinkErrors uint64 `json:"sink_errors"`
	// SinkPanics counts Export calls that panicked.
	SinkPanics uint64 `json:"sink_panics"`
	// Batches counts Export calls, whether the Sink accepted the batch or
	// not; a batch abandoned by Close without reaching the Sink is not one.
	Batches uint64 `json:"batches"`
}

// telemetryClosedBit is set in the enqueue position by Close. Producers load
// the position anyway, so seeing Close costs them nothing extra, and once it
// is set no producer can claim a slot: the final position is fixed.
const telemetryClosedBit = 1 << 63

// telemetrySlot is one cell of the ring. seq tells its state: equal to a
// position p, the cell is free for the producer of p; equal to p+1, it holds
// that producer's event for the consumer.
type telemetrySlot struct {
	seq atomic.Uint64
	ev  Event
}

// telemetryPad keeps hot words on cache lines of their own.
type telemetryPad [64]byte

// telemetryFlushRequest asks the exporter to drain everything recorded
// before the request, then to reply on done.
type telemetryFlushRequest struct {
	done chan error
}

// Telemetry batches step execution events and exports them to a Sink from
// one background goroutine. Record never blocks: it claims a slot of a
// bounded lock-free ring (a Vyukov-style sequence-numbered array) or drops
// the event and counts the drop.
type Telemetry struct {
	_ telemetryPad
	// enq is the next position to claim, with telemetryClosedBit once
	// closed. It is the only word every producer writes.
	enq atomic.Uint64
	_   telemetryPad
	// wakeAt is the position from which producers wake the exporter, kept
	// by the exporter: a batch past its position when it is parked, half
	// the ring past it when it is active.
	wakeAt atomic.Uint64
	mask   uint64
	slots  []telemetrySlot
	wake   chan struct{}
	_      telemetryPad

	droppedFull   atomic.Uint64
	droppedClosed atomic.Uint64
	droppedSink   atomic.Uint64
	exported      atomic.Uint64
	sinkErrors    atomic.Uint64
	sinkPanics    atomic.Uint64
	batches       atomic.Uint64

	batchSize     atomic.Int64
	flushInterval atomic.Int64

	// deq is the consumer position, owned by the exporter goroutine;
	// others read it atomically only for counters.
	deq atomic.Uint64

	sink    Sink
	logger  *slog.Logger
	retune  chan struct{}
	flushes chan telemetryFlushRequest
	stop    chan struct{}
	done    chan struct{}
	// exportCtx is passed to Sink.Export; Close cancels it when its own
	// context ends before the drain does.
	exportCtx    context.Context
	cancelExport context.CancelFunc
	abandon      atomic.Bool
	closeOnce    sync.Once
}

// telemetryCheckBatchSize validates a batch size against the ring size.
func telemetryCheckBatchSize(n, buffer int) error {
	if n < 1 || n > buffer {
		return fmt.Errorf("runtime: telemetry BatchSize (telemetry_batch_size) is %d; it must be between 1 and the buffer size %d", n, buffer)
	}
	return nil
}

// telemetryCheckFlushInterval validates a flush interval.
func telemetryCheckFlushInterval(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("runtime: telemetry FlushInterval (telemetry_flush_interval_seconds) is %v; it must be positive", d)
	}
	return nil
}

// NewTelemetry validates opts, reporting every invalid field, and starts the
// exporter goroutine. Close stops it.
func NewTelemetry(opts TelemetryOptions) (*Telemetry, error) {
	var errs []error
	size := opts.BufferSize
	if size == 0 {
		size = DefaultTelemetryBufferSize
	}
	if size < 2 || bits.OnesCount(uint(size)) != 1 {
		errs = append(errs, fmt.Errorf("runtime: telemetry BufferSize is %d; it must be a power of two of at least 2, or 0 for %d", opts.BufferSize, DefaultTelemetryBufferSize))
	} else {
		errs = append(errs, telemetryCheckBatchSize(opts.BatchSize, size))
	}
	errs = append(errs, telemetryCheckFlushInterval(opts.FlushInterval))
	if opts.Sink == nil {
		errs = append(errs, errors.New("runtime: telemetry Sink is nil; a Sink is required (MemorySink, SlogSink, JSONLinesSink or your own)"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t := &Telemetry{
		mask:    uint64(size - 1),
		slots:   make([]telemetrySlot, size),
		wake:    make(chan struct{}, 1),
		sink:    opts.Sink,
		logger:  logger,
		retune:  make(chan struct{}, 1),
		flushes: make(chan telemetryFlushRequest),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	for i := range t.slots {
		t.slots[i].seq.Store(uint64(i))
	}
	t.batchSize.Store(int64(opts.BatchSize))
	t.flushInterval.Store(int64(opts.FlushInterval))
	t.wakeAt.Store(uint64(opts.BatchSize))
	t.exportCtx, t.cancelExport = context.WithCancel(context.Background())
	go t.run()
	return t, nil
}

// Record queues e for export. It never blocks and allocates nothing; when
// the ring is full, or after Close, it drops e and counts the drop.
func (t *Telemetry) Record(e Event) {
	// Fast path: the slot at the current position is free and the claim
	// succeeds at the first try. A closed ring never passes the seq test,
	// since telemetryClosedBit is never part of a slot's seq.
	pos := t.enq.Load()
	slot := &t.slots[pos&t.mask]
	if slot.seq.Load() == pos && t.enq.CompareAndSwap(pos, pos+1) {
		slot.ev = e
		slot.seq.Store(pos + 1)
		if pos+1 >= t.wakeAt.Load() {
			t.signal()
		}
		return
	}
	t.recordSlow(e)
}

// recordSlow is Record after a lost race or on a full or closed ring.
func (t *Telemetry) recordSlow(e Event) {
	pos := t.enq.Load()
	for {
		if pos&telemetryClosedBit != 0 {
			t.droppedClosed.Add(1)
			return
		}
		slot := &t.slots[pos&t.mask]
		seq := slot.seq.Load()
		switch {
		case seq == pos:
			if t.enq.CompareAndSwap(pos, pos+1) {
				slot.ev = e
				slot.seq.Store(pos + 1)
				if pos+1 >= t.wakeAt.Load() {
					t.signal()
				}
				return
			}
			pos = t.enq.Load()
		case seq < pos:
			// The slot still holds the event from one lap ago: full.
			t.droppedFull.Add(1)
			return
		default:
			// Another producer claimed pos; catch up.
			pos = t.enq.Load()
		}
	}
}

// signal wakes the exporter without blocking: a wake-up already pending is
// enough.
func (t *Telemetry) signal() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Counters returns the running totals. Read while events are in flight,
// Recorded may exceed Exported + Dropped by the events still queued.
func (t *Telemetry) Counters() TelemetryCounters {
	// Read the consumer side first, so a concurrent export can only make
	// Recorded look larger, never smaller than what was accounted.
	c := TelemetryCounters{
		Exported:   t.exported.Load(),
		SinkErrors: t.sinkErrors.Load(),
		SinkPanics: t.sinkPanics.Load(),
		Batches:    t.batches.Load(),
	}
	dropSink := t.droppedSink.Load()
	full, closed := t.droppedFull.Load(), t.droppedClosed.Load()
	enq := t.enq.Load() &^ telemetryClosedBit
	c.Recorded = enq + full + closed
	c.Dropped = dropSink + full + closed
	return c
}

// BatchSize returns the current batch size.
func (t *Telemetry) BatchSize() int { return int(t.batchSize.Load()) }

// FlushInterval returns the current flush interval.
func (t *Telemetry) FlushInterval() time.Duration { return time.Duration(t.flushInterval.Load()) }

// CheckRetune returns the error Retune(n, d) would return, changing
// nothing: an executor checks every change of an import before it applies
// any.
func (t *Telemetry) CheckRetune(n int, d time.Duration) error {
	return errors.Join(telemetryCheckBatchSize(n, len(t.slots)), telemetryCheckFlushInterval(d))
}

// Retune sets telemetry_batch_size and telemetry_flush_interval_seconds
// together: when either is invalid it changes neither and says why.
func (t *Telemetry) Retune(n int, d time.Duration) error {
	if err := t.CheckRetune(n, d); err != nil {
		return err
	}
	t.batchSize.Store(int64(n))
	t.flushInterval.Store(int64(d))
	t.poke()
	return nil
}

// poke tells the exporter that a setting changed.
func (t *Telemetry) poke() {
	select {
	case t.retune <- struct{}{}:
	default:
	}
}

// Flush exports every event recorded before the call and waits for the
// exports to finish or ctx to end. It returns the first Sink error met while
// draining, ctx's error, or ErrTelemetryClosed.
func (t *Telemetry) Flush(ctx context.Context) error {
	req := telemetryFlushRequest{done: make(chan error, 1)}
	select {
	case t.flushes <- req:
	case <-t.stop:
		return ErrTelemetryClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops recording, exports every event already recorded and stops the
// exporter goroutine. If ctx ends first, Close cancels the context of the
// Sink's current Export, drops what is left (counted), and returns ctx's
// error without waiting for a Sink that ignores cancellation. A second Close
// returns ErrTelemetryClosed once the exporter has stopped.
func (t *Telemetry) Close(ctx context.Context) error {
	first := false
	t.closeOnce.Do(func() {
		first = true
		t.enq.Or(telemetryClosedBit)
		close(t.stop)
	})
	select {
	case <-t.done:
	default:
		select {
		case <-t.done:
		case <-ctx.Done():
			t.abandon.Store(true)
			t.cancelExport()
			return ctx.Err()
		}
	}
	t.cancelExport()
	if !first {
		return ErrTelemetryClosed
	}
	return nil
}

// The exporter has two modes. Parked, it sleeps until the flush timer or a
// producer's wake-up, which comes when a full batch is waiting. Active (it
// exported something recently), it polls for full batches every
// telemetryLinger instead, and producers wake it only when the ring is half
// full. A wake-up costs the producer a channel send that may start a thread,
// about a microsecond; polling keeps that cost off the hot path under steady
// load, while batches keep their size. The exporter parks again after
// telemetryIdleLingers polls that found no full batch.
const (
	telemetryLinger      = time.Millisecond
	telemetryIdleLingers = 3
)

// run is the exporter goroutine.
func (t *Telemetry) run() {
	defer close(t.done)
	batch := make([]Event, 0, t.batchSize.Load())
	flush := time.NewTimer(t.FlushInterval())
	defer flush.Stop()
	linger := time.NewTimer(telemetryLinger)
	linger.Stop()
	defer linger.Stop()
	active, idle := false, 0
	for {
		var lingerC <-chan time.Time
		if active {
			lingerC = linger.C
		}
		var n int
		select {
		case <-t.wake:
			batch, n, _ = t.drain(batch, telemetryDrainFull)
		case <-lingerC:
			batch, n, _ = t.drain(batch, telemetryDrainFull)
		case <-flush.C:
			batch, n, _ = t.drain(batch, telemetryDrainPublished)
			flush.Reset(t.FlushInterval())
		case <-t.retune:
			flush.Reset(t.FlushInterval())
			batch, n, _ = t.drain(batch, telemetryDrainFull)
		case req := <-t.flushes:
			var err error
			batch, n, err = t.drain(batch, telemetryDrainAll)
			req.done <- err
		case <-t.stop:
			// Close set the closed bit before closing stop, so the limit
			// drain reads is final.
			t.drain(batch, telemetryDrainAll)
			return
		}
		switch {
		case n > 0:
			active, idle = true, 0
		case active:
			idle++
			active = idle < telemetryIdleLingers
		}
		deq := t.deq.Load()
		size := uint64(t.batchSize.Load())
		if active {
			t.wakeAt.Store(deq + max(size, t.mask/2+1))
			linger.Reset(telemetryLinger)
			continue
		}
		t.wakeAt.Store(deq + size)
		// A producer that crossed the threshold before it saw the store
		// above did not wake us; its claim is visible now.
		if t.enq.Load()&^telemetryClosedBit-deq >= size {
			t.signal()
		}
	}
}

// telemetryDrainMode says how much drain exports.
type telemetryDrainMode uint8

const (
	// telemetryDrainFull exports full batches only and leaves a partial
	// one for the flush timer.
	telemetryDrainFull telemetryDrainMode = iota
	// telemetryDrainPublished exports every event already published below
	// the position current when drain starts.
	telemetryDrainPublished
	// telemetryDrainAll exports every event below the position current
	// when drain starts, waiting for producers that claimed a slot but
	// have not filled it yet.
	telemetryDrainAll
)

// drain exports queued events in batches of the current batch size. Its
// limit is fixed when it starts, so a steady stream of new events cannot keep
// a Flush from returning. It returns the batch buffer for reuse, the number of
// events taken from the ring and the first Sink error.
func (t *Telemetry) drain(batch []Event, mode telemetryDrainMode) ([]Event, int, error) {
	var firstErr error
	taken := 0
	limit := t.enq.Load() &^ telemetryClosedBit
	for {
		size := uint64(t.batchSize.Load())
		if uint64(cap(batch)) < size {
			batch = make([]Event, 0, size)
		}
		batch = batch[:0]
		deq := t.deq.Load()
		if mode == telemetryDrainFull {
			limit = t.enq.Load() &^ telemetryClosedBit
			if limit-deq < size {
				return batch, taken, firstErr
			}
		}
		n := min(size, limit-deq)
		for uint64(len(batch)) < n {
			slot := &t.slots[deq&t.mask]
			if slot.seq.Load() != deq+1 {
				if mode == telemetryDrainAll {
					// The producer of deq is between claiming the slot
					// and publishing it: a few instructions.
					goruntime.Gosched()
					continue
				}
				break
			}
			batch = append(batch, slot.ev)
			slot.ev = Event{} // release the step name for the GC
			slot.seq.Store(deq + t.mask + 1)
			deq++
		}
		t.deq.Store(deq)
		if len(batch) == 0 {
			return batch, taken, firstErr
		}
		taken += len(batch)
		if err := t.export(batch); err != nil && firstErr == nil {
			firstErr = err
		}
	}
}

// export hands one batch to the Sink, turning a panic into a counted drop.
func (t *Telemetry) export(batch []Event) (err error) {
	n := uint64(len(batch))
	if t.abandon.Load() {
		t.droppedSink.Add(n)
		return context.Canceled
	}
	t.batches.Add(1)
	defer func() {
		if r := recover(); r != nil {
			t.sinkPanics.Add(1)
			t.droppedSink.Add(n)
			err = fmt.Errorf("runtime: telemetry sink panicked: %v", r)
			t.logger.Error("telemetry sink panicked; batch dropped",
				slog.Any("panic", r), slog.Int("events", len(batch)))
		}
	}()
	if err := t.sink.Export(t.exportCtx, batch); err != nil {
		t.sinkErrors.Add(1)
		t.droppedSink.Add(n)
		t.logger.Error("telemetry sink failed; batch dropped",
			slog.Any("error", err), slog.Int("events", len(batch)))
		return err
	}
	t.exported.Add(n)
	return nil
}
