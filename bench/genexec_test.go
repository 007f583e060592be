package bench

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/fallback"
	"github.com/failsafe-go/failsafe-go/retrypolicy"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/bench/internal/genexec/cached"
	"github.com/flujo/flujo/bench/internal/genexec/defaults"
	"github.com/flujo/flujo/bench/internal/genexec/fan"
	"github.com/flujo/flujo/bench/internal/genexec/quiet"
	"github.com/flujo/flujo/flujoimpl"
	"github.com/flujo/flujo/runtime"
)

// handStep is what a Go programmer writes by hand to give a step the
// guarantees of the default configuration: a circuit breaker, a retry loop
// of the same two attempts, a per-step monitor and a telemetry event, timed
// by the same two clock reads. It is the yardstick of the generated
// executor: the executor does this work and a little more.
type handStep struct {
	clock runtime.Clock
	brk   *runtime.Breaker
	mon   *runtime.StepMonitor
	tel   *runtime.Telemetry
}

// errHandRejected is returned when the breaker refuses every attempt.
var errHandRejected = errors.New("breaker open")

func newHandStep(tb testing.TB) *handStep {
	tb.Helper()
	cfg := runtime.DefaultOptimizationConfig()
	set := flujoimpl.CoreOptionsOf(nil)
	brk, err := runtime.NewBreaker("inc", runtime.BreakerSettings{
		FailureThreshold: cfg.CircuitBreakerFailureThreshold,
		RecoveryTimeout:  time.Duration(cfg.CircuitBreakerRecoveryTimeoutSeconds) * time.Second,
		Clock:            set.Clock,
	})
	if err != nil {
		tb.Fatal(err)
	}
	mon, err := runtime.NewMonitor(runtime.MonitorOptions{SlowThreshold: time.Second, DegradationThreshold: 0.2, WindowInterval: time.Minute})
	if err != nil {
		tb.Fatal(err)
	}
	tel, err := runtime.NewTelemetry(runtime.TelemetryOptions{BatchSize: 10, FlushInterval: 30 * time.Second, Sink: set.Sink, Logger: set.Logger})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = tel.Close(context.Background())
		_ = mon.Close(context.Background())
	})
	return &handStep{clock: set.Clock, brk: brk, mon: mon.Step("inc"), tel: tel}
}

// run calls defaults.Inc on x with the breaker, the retries, the monitor
// and the telemetry.
func (h *handStep) run(ctx context.Context, x int) (int, error) {
	start := h.clock.Nanotime()
	var out int
	err := errHandRejected
	attempts := 0
	for attempt := 1; attempt <= 2; attempt++ {
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
			break
		}
		permit := h.brk.Allow()
		if !permit.Admitted() {
			break
		}
		attempts = attempt
		out, err = defaults.Inc(ctx, x)
		if err == nil {
			h.brk.RecordSuccess(permit)
			break
		}
		h.brk.RecordFailure(permit)
	}
	end := h.clock.Nanotime()
	h.mon.Record(end-start, err == nil)
	outcome := runtime.OutcomeSuccess
	if err != nil {
		outcome = runtime.OutcomeFailure
	}
	h.tel.Record(runtime.Event{Step: "inc", Start: start, End: end, Attempts: int32(attempts), Outcome: outcome})
	return out, err
}

// genExecCore returns an ExecutorCore on the default configuration that the
// benchmark closes.
func genExecCore(b *testing.B) *flujo.ExecutorCore {
	b.Helper()
	c, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// closer is what every generated executor offers to end its goroutines.
type closer interface{ Close(context.Context) error }

func genExecClose(b *testing.B, e closer) {
	b.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			b.Error(err)
		}
	})
}

// BenchmarkGenExec measures the executors flujogen writes (variant
// "flujo") against a direct call, the hand-written equivalent, failsafe-go
// and the dynamic ExecutorCore running the same pipeline.
func BenchmarkGenExec(b *testing.B) {
	ctx := context.Background()

	b.Run("one-step/flujo", func(b *testing.B) {
		e, err := defaults.NewOneExecutor()
		if err != nil {
			b.Fatal(err)
		}
		genExecClose(b, e)
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			if x, err = e.Execute(ctx, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-step/hand", func(b *testing.B) {
		h := newHandStep(b)
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			var err error
			if x, err = h.run(ctx, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-step/failsafe", func(b *testing.B) {
		exec := failsafe.With[int](
			fallback.NewWithResult(0),
			retrypolicy.NewBuilder[int]().WithMaxRetries(1).WithBackoff(10*time.Millisecond, time.Second).Build(),
			circuitbreaker.NewBuilder[int]().WithFailureThreshold(breakerThreshold).WithDelay(breakerRecovery).Build(),
		).WithContext(ctx)
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			var err error
			if x, err = exec.Get(func() (int, error) { return defaults.Inc(ctx, x) }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-step/core", func(b *testing.B) {
		c := genExecCore(b)
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			var err error
			if x, _, err = flujo.Run[int](ctx, c, defaults.One, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-step/direct", func(b *testing.B) {
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			var err error
			if x, err = defaults.Inc(ctx, x); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("quiet/flujo", func(b *testing.B) {
		e, err := quiet.NewOneExecutor()
		if err != nil {
			b.Fatal(err)
		}
		genExecClose(b, e)
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			if x, err = e.Execute(ctx, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("quiet/direct", func(b *testing.B) {
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			var err error
			if x, err = quiet.Inc(ctx, x); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("cache-hit/flujo", func(b *testing.B) {
		e, err := cached.NewOneExecutor()
		if err != nil {
			b.Fatal(err)
		}
		genExecClose(b, e)
		const in = 41
		if _, err := e.Execute(ctx, in); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if out, err := e.Execute(ctx, in); err != nil || out != in+1 {
				b.Fatal(out, err)
			}
		}
	})

	b.Run("parallel-4/flujo", func(b *testing.B) {
		e, err := fan.NewFanExecutor()
		if err != nil {
			b.Fatal(err)
		}
		genExecClose(b, e)
		var st fan.State
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.Execute(ctx, 1, &st); err != nil {
				b.Fatal(err)
			}
		}
		if st != (fan.State{A: 1, B: 1, C: 1, D: 1}) {
			b.Fatalf("state after the merge: %+v", st)
		}
	})
	b.Run("parallel-4/hand", func(b *testing.B) {
		var st fan.State
		b.ReportAllocs()
		for b.Loop() {
			if _, err := handFan(ctx, 1, &st); err != nil {
				b.Fatal(err)
			}
		}
		if st != (fan.State{A: 1, B: 1, C: 1, D: 1}) {
			b.Fatalf("state after the merge: %+v", st)
		}
	})
	b.Run("parallel-4/core", func(b *testing.B) {
		c := genExecCore(b)
		var st fan.State
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := flujo.Run[int](ctx, c, fan.Fan, 1, flujo.WithState(&st)); err != nil {
				b.Fatal(err)
			}
		}
		if st != (fan.State{A: 1, B: 1, C: 1, D: 1}) {
			b.Fatalf("state after the merge: %+v", st)
		}
	})
}

// handFan is what a Go programmer writes by hand to run fan.Fan's four
// writers in parallel: a goroutine per writer on a private copy of the
// state, a sync.WaitGroup, the first error cancelling the others, and the
// writes merged back field by field. It is the yardstick of the generated
// Parallel.
func handFan(ctx context.Context, x int, st *fan.State) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	writers := [4]func(context.Context, int, *fan.State) (int, error){fan.WriteA, fan.WriteB, fan.WriteC, fan.WriteD}
	var (
		wg     sync.WaitGroup
		outs   [4]int
		errs   [4]error
		states [4]fan.State
	)
	for i, w := range writers {
		states[i] = *st
		wg.Go(func() {
			if outs[i], errs[i] = w(ctx, x, &states[i]); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	st.A, st.B, st.C, st.D = states[0].A, states[1].B, states[2].C, states[3].D
	return fan.Sum(outs[0], outs[1], outs[2], outs[3]), nil
}

// TestGenExecHandMatchesExecutor checks that the hand-written baseline and
// the generated executor compute the same thing and that the generated
// fan-out merges every branch's state write.
func TestGenExecHandMatchesExecutor(t *testing.T) {
	ctx := context.Background()
	h := newHandStep(t)
	e, err := defaults.NewOneExecutor()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Close(ctx) }()
	for _, in := range []int{-1, 0, 41} {
		got, err := e.Execute(ctx, in)
		want, herr := h.run(ctx, in)
		if err != nil || herr != nil || got != want {
			t.Errorf("in %d: executor %d, %v; by hand %d, %v", in, got, err, want, herr)
		}
	}
	f, err := fan.NewFanExecutor()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close(ctx) }()
	var st fan.State
	out, err := f.Execute(ctx, 5, &st)
	if err != nil || out != 4*5+10 || st != (fan.State{A: 5, B: 5, C: 5, D: 5}) {
		t.Errorf("fan: out %d, err %v, state %+v", out, err, st)
	}
}
