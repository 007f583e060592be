package bench

import (
	"context"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/flujo/flujo/runtime"
)

// The breakers under test all open after 5 consecutive failures and stay
// open for an hour, so the open benchmarks never see a half-open probe.
const (
	breakerThreshold = 5
	breakerRecovery  = time.Hour
)

func newFlujoBreaker(b *testing.B) *runtime.Breaker {
	br, err := runtime.NewBreaker("step", runtime.BreakerSettings{
		FailureThreshold: breakerThreshold,
		RecoveryTimeout:  breakerRecovery,
	})
	if err != nil {
		b.Fatal(err)
	}
	return br
}

func gobreakerSettings() gobreaker.Settings {
	return gobreaker.Settings{
		Name:    "step",
		Timeout: breakerRecovery,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= breakerThreshold
		},
	}
}

func newFailsafeBreaker() circuitbreaker.CircuitBreaker[int] {
	return circuitbreaker.NewBuilder[int]().
		WithFailureThreshold(breakerThreshold).
		WithDelay(breakerRecovery).
		Build()
}

// BenchmarkBreaker compares circuit breakers guarding a trivial step: the
// closed path sequentially and under RunParallel, and the open path (a
// rejected call). Breaker/closed/direct is the unguarded call.
func BenchmarkBreaker(b *testing.B) {
	ctx := context.Background()

	b.Run("closed/direct", func(b *testing.B) {
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			x, _ = benchStep(ctx, x)
		}
	})
	b.Run("closed/flujo", func(b *testing.B) {
		br := newFlujoBreaker(b)
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			// The sequence generated code emits around a step.
			p := br.Allow()
			if !p.Admitted() {
				b.Fatal(br.Rejection(p))
			}
			var err error
			if x, err = benchStep(ctx, x); err != nil {
				br.RecordFailure(p)
			} else {
				br.RecordSuccess(p)
			}
		}
	})
	b.Run("closed/gobreaker", func(b *testing.B) {
		cb := gobreaker.NewCircuitBreaker[int](gobreakerSettings())
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			x, _ = cb.Execute(func() (int, error) { return benchStep(ctx, x) })
		}
	})
	b.Run("closed/gobreaker-twostep", func(b *testing.B) {
		cb := gobreaker.NewTwoStepCircuitBreaker[int](gobreakerSettings())
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			done, err := cb.Allow()
			if err != nil {
				b.Fatal(err)
			}
			x, err = benchStep(ctx, x)
			done(err)
		}
	})
	b.Run("closed/failsafe", func(b *testing.B) {
		exec := failsafe.With[int](newFailsafeBreaker())
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			x, _ = exec.Get(func() (int, error) { return benchStep(ctx, x) })
		}
	})
	b.Run("closed/failsafe-permit", func(b *testing.B) {
		cb := newFailsafeBreaker()
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			if !cb.TryAcquirePermit() {
				b.Fatal("closed breaker refused a permit")
			}
			var err error
			if x, err = benchStep(ctx, x); err != nil {
				cb.RecordFailure()
			} else {
				cb.RecordSuccess()
			}
		}
	})

	b.Run("closed-parallel/flujo", func(b *testing.B) {
		br := newFlujoBreaker(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			x := 0
			for pb.Next() {
				p := br.Allow()
				if !p.Admitted() {
					panic(br.Rejection(p))
				}
				var err error
				if x, err = benchStep(ctx, x); err != nil {
					br.RecordFailure(p)
				} else {
					br.RecordSuccess(p)
				}
			}
		})
	})
	b.Run("closed-parallel/gobreaker", func(b *testing.B) {
		cb := gobreaker.NewCircuitBreaker[int](gobreakerSettings())
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			x := 0
			for pb.Next() {
				x, _ = cb.Execute(func() (int, error) { return benchStep(ctx, x) })
			}
		})
	})
	b.Run("closed-parallel/failsafe", func(b *testing.B) {
		exec := failsafe.With[int](newFailsafeBreaker())
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			x := 0
			for pb.Next() {
				x, _ = exec.Get(func() (int, error) { return benchStep(ctx, x) })
			}
		})
	})

	// The open path: every call is rejected with an error that reaches the
	// heap, as one returned to a caller does. flujo-noerr only counts the
	// rejection, which is what a caller that needs no error value pays.
	b.Run("open/flujo", func(b *testing.B) {
		br := newFlujoBreaker(b)
		for range breakerThreshold {
			br.RecordFailure(br.Allow())
		}
		b.ReportAllocs()
		for b.Loop() {
			p := br.Allow()
			if p.Admitted() {
				b.Fatal("open breaker admitted a call")
			}
			if benchErrSink = br.Rejection(p); benchErrSink == nil {
				b.Fatal("no rejection error")
			}
		}
	})
	b.Run("open/flujo-noerr", func(b *testing.B) {
		br := newFlujoBreaker(b)
		for range breakerThreshold {
			br.RecordFailure(br.Allow())
		}
		b.ReportAllocs()
		for b.Loop() {
			if br.Allow().Admitted() {
				b.Fatal("open breaker admitted a call")
			}
		}
	})
	b.Run("open/gobreaker", func(b *testing.B) {
		cb := gobreaker.NewCircuitBreaker[int](gobreakerSettings())
		for range breakerThreshold {
			_, _ = cb.Execute(func() (int, error) { return benchFailingStep(ctx, 0) })
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, benchErrSink = cb.Execute(func() (int, error) { return benchStep(ctx, 0) }); benchErrSink == nil {
				b.Fatal("open breaker admitted a call")
			}
		}
	})
	b.Run("open/failsafe", func(b *testing.B) {
		cb := newFailsafeBreaker()
		exec := failsafe.With[int](cb)
		for range breakerThreshold {
			_, _ = exec.Get(func() (int, error) { return benchFailingStep(ctx, 0) })
		}
		if !cb.IsOpen() {
			b.Fatal("failsafe breaker did not open")
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, benchErrSink = exec.Get(func() (int, error) { return benchStep(ctx, 0) }); benchErrSink == nil {
				b.Fatal("open breaker admitted a call")
			}
		}
	})
}
