package bench

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/adaptivelimiter"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/bench/internal/genexec/io"
	"github.com/flujo/flujo/runtime"
)

// BenchmarkLimiterBurst runs a burst of 64 concurrent runs of a pipeline of
// three steps that each wait 20 ms (an upstream call) per op: in plain Go,
// through the ExecutorCore and through the generated executor, both on the
// default configuration (adaptive concurrency on). Every op is one burst;
// the executors live across ops, so later bursts see what earlier ones
// taught the limiter.
func BenchmarkLimiterBurst(b *testing.B) {
	const runs = 64
	ctx := context.Background()
	burst := func(b *testing.B, run func(x int) (int, error)) {
		var wg sync.WaitGroup
		var failed atomic.Int64
		for b.Loop() {
			for i := range runs {
				wg.Go(func() {
					if _, err := run(i); err != nil {
						failed.Add(1)
					}
				})
			}
			wg.Wait()
		}
		if failed.Load() > 0 {
			b.Fatalf("%d runs failed", failed.Load())
		}
	}
	b.Run("plain", func(b *testing.B) {
		burst(b, func(x int) (int, error) {
			for range 3 {
				var err error
				if x, err = io.Wait(ctx, x); err != nil {
					return x, err
				}
			}
			return x, nil
		})
	})
	b.Run("core", func(b *testing.B) {
		c, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close(ctx) })
		burst(b, func(x int) (int, error) {
			out, _, err := flujo.Run[int](ctx, c, io.Burst, x)
			return out, err
		})
	})
	b.Run("gen", func(b *testing.B) {
		e, err := io.NewBurstExecutor()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = e.Close(ctx) })
		burst(b, func(x int) (int, error) { return e.Execute(ctx, x) })
	})
}

// The overloaded upstream: capacity overloadC, 20 ms of service time up
// to it, 4 x overloadC closed-loop clients, overloadDeadline per request.
const (
	overloadC        = 8
	overloadBase     = 20 * time.Millisecond
	overloadClients  = 4 * overloadC
	overloadDeadline = 200 * time.Millisecond
	overloadFirst    = time.Second     // the first-second figures
	overloadSteady   = 2 * time.Second // steady state from here
	overloadRun      = 5 * time.Second // to here
	// overloadPause is how long a client waits after a fast rejection
	// before its next request, so rejected clients do not spin.
	overloadPause = 2 * time.Millisecond
)

// overloadCall makes one request; rejected reports a fast refusal by a
// limiter (the request never reached the upstream).
type overloadCall func(ctx context.Context, u *io.Upstream) (rejected bool, err error)

// overloadSample is one finished request.
type overloadSample struct {
	at       time.Duration // since the start, at the end of the request
	latency  time.Duration
	ok       bool
	rejected bool
}

// runOverload drives the upstream with clients closed-loop clients for
// overloadRun and returns every request's outcome.
func runOverload(call overloadCall, clients int, u *io.Upstream) []overloadSample {
	start := time.Now()
	var mu sync.Mutex
	var samples []overloadSample
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var mine []overloadSample
			for time.Since(start) < overloadRun {
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), overloadDeadline)
				rejected, err := call(ctx, u)
				cancel()
				end := time.Now()
				mine = append(mine, overloadSample{at: end.Sub(start), latency: end.Sub(t0), ok: err == nil, rejected: rejected})
				if rejected {
					time.Sleep(overloadPause)
				}
			}
			mu.Lock()
			samples = append(samples, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return samples
}

// overloadFigures returns the goodput (successes per second as a share of
// the upstream's capacity, overloadC / overloadBase) and the p99 latency of
// the successful requests that ended in [from, to).
func overloadFigures(samples []overloadSample, from, to time.Duration) (goodputPct float64, p99 time.Duration, rejectedPct float64) {
	var lat []time.Duration
	var n, rejected int
	for _, s := range samples {
		if s.at < from || s.at >= to {
			continue
		}
		n++
		if s.rejected {
			rejected++
		}
		if s.ok {
			lat = append(lat, s.latency)
		}
	}
	capacity := float64(overloadC) / overloadBase.Seconds() * (to - from).Seconds()
	goodputPct = 100 * float64(len(lat)) / capacity
	if len(lat) > 0 {
		slices.Sort(lat)
		p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	if n > 0 {
		rejectedPct = 100 * float64(rejected) / float64(n)
	}
	return goodputPct, p99, rejectedPct
}

// BenchmarkLimiterOverload offers an overloaded upstream (capacity 8,
// service time growing past it) 32 closed-loop clients with a 200 ms
// deadline each, for 5 s per op, through no limiter, failsafe-go's adaptive
// limiter (its defaults: limits 1..200 from 20, no queue) and the
// ExecutorCore on the default configuration, with max_concurrent_executions
// 200 (far above the capacity) and the generated executor on the defaults.
// It reports goodput as % of capacity and the successful requests' p99 as a
// multiple of the unloaded p99, for the first second and for the steady
// state (the last 3 s), and the share of requests a limiter turned away.
func BenchmarkLimiterOverload(b *testing.B) {
	ctx := context.Background()
	direct := func(ctx context.Context, u *io.Upstream) (bool, error) { return false, u.Call(ctx) }
	unloaded := func() time.Duration {
		u := &io.Upstream{Capacity: overloadC, Base: overloadBase}
		var lat []time.Duration
		for range 30 {
			t0 := time.Now()
			_ = u.Call(ctx)
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		return lat[len(lat)*99/100]
	}()
	report := func(b *testing.B, call overloadCall) {
		for b.Loop() {
			u := &io.Upstream{Capacity: overloadC, Base: overloadBase}
			samples := runOverload(call, overloadClients, u)
			g1, p1, r1 := overloadFigures(samples, 0, overloadFirst)
			g2, p2, r2 := overloadFigures(samples, overloadSteady, overloadRun)
			b.ReportMetric(g1, "goodput-first-%")
			b.ReportMetric(g2, "goodput-steady-%")
			b.ReportMetric(float64(p1)/float64(unloaded), "p99x-first")
			b.ReportMetric(float64(p2)/float64(unloaded), "p99x-steady")
			b.ReportMetric(r1, "rejected-first-%")
			b.ReportMetric(r2, "rejected-steady-%")
		}
	}
	flujoCall := func(run func(ctx context.Context, r io.Request) error) overloadCall {
		return func(ctx context.Context, u *io.Upstream) (bool, error) {
			err := run(ctx, io.Request{U: u})
			return errors.Is(err, runtime.ErrLimiterRejected), err
		}
	}
	core := func(b *testing.B, cfg runtime.OptimizationConfig) overloadCall {
		c, err := flujo.NewExecutorCore(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close(ctx) })
		return flujoCall(func(ctx context.Context, r io.Request) error {
			_, _, err := flujo.Run[io.Request](ctx, c, io.Overload, r)
			return err
		})
	}
	b.Run("none", func(b *testing.B) { report(b, direct) })
	b.Run("failsafe", func(b *testing.B) {
		lim := adaptivelimiter.NewWithDefaults[struct{}]()
		report(b, func(ctx context.Context, u *io.Upstream) (bool, error) {
			_, err := failsafe.With[struct{}](lim).WithContext(ctx).Get(func() (struct{}, error) { return struct{}{}, u.Call(ctx) })
			return errors.Is(err, adaptivelimiter.ErrExceeded), err
		})
	})
	b.Run("core", func(b *testing.B) { report(b, core(b, runtime.DefaultOptimizationConfig())) })
	b.Run("core-cap200", func(b *testing.B) {
		cfg := runtime.DefaultOptimizationConfig()
		high := 200
		cfg.MaxConcurrentExecutions = &high
		report(b, core(b, cfg))
	})
	b.Run("gen", func(b *testing.B) {
		e, err := io.NewOverloadExecutor()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = e.Close(ctx) })
		report(b, flujoCall(func(ctx context.Context, r io.Request) error {
			_, err := e.Execute(ctx, r)
			return err
		}))
	})
}
