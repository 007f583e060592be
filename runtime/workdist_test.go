package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestForEachIndexVisitsEveryIndexOnce(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tests := []struct{ n, workers, chunk int }{
		{1, 1, 0}, {1, 8, 0}, {7, 3, 0}, {100, 4, 0}, {100, 4, 1}, {100, 4, 7},
		{100, 4, 100}, {100, 4, 1000}, {1000, 0, 0}, {10007, 5, 0}, {10007, 16, 3},
		{5, 64, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n%d_w%d_c%d", tt.n, tt.workers, tt.chunk), func(t *testing.T) {
			counts := make([]atomic.Int32, tt.n)
			err := ForEachIndex(context.Background(), tt.n, tt.workers, tt.chunk, func(_ context.Context, i int) {
				counts[i].Add(1)
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("index %d ran %d times", i, c)
				}
			}
		})
	}
}

func TestForEachIndexRejectsInvalidArguments(t *testing.T) {
	noop := func(context.Context, int) {}
	tests := []struct {
		name              string
		n, workers, chunk int
		fn                func(context.Context, int)
		mention           string
	}{
		{"negative n", -1, 1, 0, noop, "n is -1"},
		{"negative workers", 1, -2, 0, noop, "workers is -2"},
		{"negative chunk", 1, 1, -3, noop, "chunk is -3"},
		{"nil fn", 1, 1, 0, nil, "fn is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ForEachIndex(context.Background(), tt.n, tt.workers, tt.chunk, tt.fn)
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("error %v; want one mentioning %q", err, tt.mention)
			}
		})
	}
	called := false
	if err := ForEachIndex(context.Background(), 0, 4, 0, func(context.Context, int) { called = true }); err != nil || called {
		t.Fatalf("n = 0: err %v, called %v; want nil, false", err, called)
	}
}

func TestWorkGroupPanicIsReported(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const workers = 4
	g, err := NewWorkGroup(workers, 1)
	if err != nil {
		t.Fatal(err)
	}
	sentinel := errors.New("boom")
	var ran atomic.Int32
	err = g.Run(context.Background(), 10000, func(_ context.Context, i int) {
		ran.Add(1)
		if i == 0 {
			panicWorkItem(sentinel)
		}
		// Every other item holds its worker until the panic has stopped the
		// group, so the count of items run is exact.
		for !g.stop.Load() {
			goruntime.Gosched()
		}
	})
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Run = %v; want a *PanicError", err)
	}
	if pe.Index != 0 || pe.Value != sentinel || !errors.Is(err, sentinel) {
		t.Fatalf("PanicError %+v; want index 0 and the sentinel value", pe)
	}
	if !bytes.Contains(pe.Stack, []byte("panicWorkItem")) {
		t.Fatalf("stack does not show the panicking function:\n%s", pe.Stack)
	}
	if !strings.Contains(pe.Error(), "work item 0 panicked: boom") {
		t.Fatalf("Error() = %q", pe.Error())
	}
	if n := ran.Load(); n > workers {
		t.Fatalf("%d items ran after a panic with %d workers; want at most one per worker", n, workers)
	}
	// The group is reusable after a panic.
	var count atomic.Int32
	if err := g.Run(context.Background(), 100, func(context.Context, int) { count.Add(1) }); err != nil || count.Load() != 100 {
		t.Fatalf("reuse after panic: err %v, ran %d of 100", err, count.Load())
	}
}

//go:noinline
func panicWorkItem(v any) { panic(v) }

func TestWorkGroupPanicNonError(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	err := ForEachIndex(context.Background(), 50, 1, 0, func(_ context.Context, i int) {
		if i == 17 {
			panic("plain string")
		}
	})
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Index != 17 || pe.Value != "plain string" || pe.Unwrap() != nil {
		t.Fatalf("Run = %#v; want a PanicError for item 17 without an unwrapped error", err)
	}
}

func TestWorkGroupStopsOnCancel(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("single worker", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var maxIndex atomic.Int64
		maxIndex.Store(-1)
		err := ForEachIndex(ctx, 1000, 1, 0, func(_ context.Context, i int) {
			maxIndex.Store(int64(i))
			if i == 5 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) || maxIndex.Load() != 5 {
			t.Fatalf("err %v, last index %d; want context.Canceled after index 5", err, maxIndex.Load())
		}
	})
	t.Run("many workers", func(t *testing.T) {
		const workers = 4
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var ran atomic.Int32
		err := ForEachIndex(ctx, 100000, workers, 1, func(ctx context.Context, i int) {
			ran.Add(1)
			if i == 0 {
				cancel()
			}
			<-ctx.Done()
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v; want context.Canceled", err)
		}
		if n := ran.Load(); n > workers {
			t.Fatalf("%d items ran with %d workers after cancellation", n, workers)
		}
	})
	t.Run("already done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		called := false
		if err := ForEachIndex(ctx, 10, 2, 0, func(context.Context, int) { called = true }); !errors.Is(err, context.Canceled) || called {
			t.Fatalf("err %v, called %v; want context.Canceled and no call", err, called)
		}
	})
	t.Run("panic outranks cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err := ForEachIndex(ctx, 10, 1, 0, func(_ context.Context, i int) {
			if i == 2 {
				cancel()
				// The next item sees the cancellation; this one panics first
				// and wins.
				panic("after cancel")
			}
		})
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Index != 2 {
			t.Fatalf("Run = %v; want the panic of item 2", err)
		}
	})
}

func TestWorkGroupGoexitJoinsWorkers(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	g, err := NewWorkGroup(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		_ = g.Run(context.Background(), 10, func(_ context.Context, i int) {
			if i == 3 {
				goruntime.Goexit()
			}
		})
		t.Error("Run returned although its caller called runtime.Goexit")
	}()
	<-exited
	var count atomic.Int32
	if err := g.Run(context.Background(), 10, func(context.Context, int) { count.Add(1) }); err != nil || count.Load() != 10 {
		t.Fatalf("reuse after Goexit: err %v, ran %d", err, count.Load())
	}

	// On a spawned worker, Goexit is reported and the rest stop.
	g2, err := NewWorkGroup(2, 1)
	if err != nil {
		t.Fatal(err)
	}
	var goexited atomic.Bool
	err = g2.Run(context.Background(), 1000, func(_ context.Context, i int) {
		if isSpawnedWorker() {
			goexited.Store(true)
			goruntime.Goexit()
		}
		// The caller holds its item until the spawned worker has exited,
		// so the spawned worker is sure to claim one.
		for !goexited.Load() {
			goruntime.Gosched()
		}
	})
	if !errors.Is(err, errWorkGoexit) {
		t.Fatalf("Run after a worker's Goexit = %v; want errWorkGoexit", err)
	}
}

// isSpawnedWorker reports whether the caller runs on a goroutine started by
// a WorkGroup rather than on Run's caller.
func isSpawnedWorker() bool {
	buf := make([]byte, 4096)
	buf = buf[:goruntime.Stack(buf, false)]
	return bytes.Contains(buf, []byte("(*WorkGroup).work("))
}

func TestWorkGroupConcurrentRunsAreSerialised(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	g, err := NewWorkGroup(3, 0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for r := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 500 + r
			seen := make([]atomic.Int32, n)
			if err := g.Run(context.Background(), n, func(_ context.Context, i int) { seen[i].Add(1) }); err != nil {
				t.Error(err)
				return
			}
			for i := range seen {
				if seen[i].Load() != 1 {
					t.Errorf("run %d: index %d ran %d times", r, i, seen[i].Load())
					return
				}
			}
		}()
	}
	wg.Wait()
}

var workdistSink [1 << 17]uint64

func workdistTiny(_ context.Context, i int) { workdistSink[i] = uint64(i) * 3 }

func TestWorkGroupRunDoesNotAllocate(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, workers := range []int{1, 2} {
		g, err := NewWorkGroup(workers, 0)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		allocs := testing.AllocsPerRun(200, func() {
			if err := g.Run(ctx, 1000, workdistTiny); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("WorkGroup.Run with %d workers allocates %v times per run", workers, allocs)
		}
	}
}

func BenchmarkForEachIndexTiny(b *testing.B) {
	const n = 100_000
	for _, workers := range []int{1, 0} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := ForEachIndex(ctx, n, workers, 0, workdistTiny); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
		})
	}
}

func BenchmarkWorkGroupTiny(b *testing.B) {
	const n = 100_000
	g, err := NewWorkGroup(0, 0)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := g.Run(ctx, n, workdistTiny); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
}

// BenchmarkLoopTiny is the plain loop the tiny-item figures compare with.
func BenchmarkLoopTiny(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	for b.Loop() {
		for i := range n {
			workdistTiny(ctx, i)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/item")
}

func workdistBusy(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// BenchmarkForEachIndexBusy50us runs 1e3 items of 50 us each; "efficiency"
// is the ideal time (items × 50 us / workers) over the measured time. The
// busy wait counts wall time, so CPU taken by other processes shows up as
// lost efficiency; workers=1 is the reference for that.
func BenchmarkForEachIndexBusy50us(b *testing.B) {
	const n, item = 1000, 50 * time.Microsecond
	for _, workers := range []int{1, goruntime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			ctx := context.Background()
			fn := func(context.Context, int) { workdistBusy(item) }
			b.ReportAllocs()
			for b.Loop() {
				if err := ForEachIndex(ctx, n, workers, 0, fn); err != nil {
					b.Fatal(err)
				}
			}
			ideal := float64(n) * float64(item) / float64(workers)
			b.ReportMetric(ideal/(float64(b.Elapsed().Nanoseconds())/float64(b.N)), "efficiency")
		})
	}
}

func ExampleForEachIndex() {
	in := []int{1, 2, 3, 4, 5, 6, 7, 8}
	out := make([]int, len(in))
	err := ForEachIndex(context.Background(), len(in), 4, 0, func(_ context.Context, i int) {
		out[i] = in[i] * in[i] // each index is written by exactly one worker
	})
	fmt.Println(out, err)
	// Output: [1 4 9 16 25 36 49 64] <nil>
}

func ExampleForEachIndex_stopOnFailure() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var failed atomic.Int64
	failed.Store(-1)
	err := ForEachIndex(ctx, 1000, 1, 0, func(_ context.Context, i int) {
		if i == 3 {
			failed.Store(int64(i))
			cancel() // stops the items not yet started
		}
	})
	fmt.Println(err, failed.Load())
	// Output: context canceled 3
}
