package bench

import (
	"context"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc/iter"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// spin busy-waits for d: a CPU-bound item, unlike a sleep, which would let
// any scheduler look good by parking goroutines.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// workdistCase is one batch shape: n items of the given work.
type workdistCase struct {
	name string
	n    int
	item func(in, out []int64, i int)
}

func workdistCases() []workdistCase {
	return []workdistCase{
		{"tiny-1e5", 100_000, func(in, out []int64, i int) { out[i] = in[i]*3 + 1 }},
		{"spin50us-1e3", 1_000, func(in, out []int64, i int) { spin(50 * time.Microsecond); out[i] = in[i] }},
	}
}

// BenchmarkForEach runs one batch per op over GOMAXPROCS workers, each
// distributor used the way its documentation suggests. ns/item is the wall
// time per item; for the tiny items, whose work is a multiply-add, it is the
// distribution overhead per item. serial is a plain loop on one goroutine.
func BenchmarkForEach(b *testing.B) {
	ctx := context.Background()
	workers := goruntime.GOMAXPROCS(0)
	for _, tc := range workdistCases() {
		in := make([]int64, tc.n)
		for i := range in {
			in[i] = int64(i)
		}
		out := make([]int64, tc.n)
		item := tc.item
		perItem := func(b *testing.B) {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(tc.n), "ns/item")
		}

		b.Run(tc.name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for i := range tc.n {
					item(in, out, i)
				}
			}
			perItem(b)
		})
		b.Run(tc.name+"/flujo", func(b *testing.B) {
			b.ReportAllocs()
			fn := func(_ context.Context, i int) { item(in, out, i) }
			for b.Loop() {
				if err := ForEachIndex(ctx, tc.n, workers, 0, fn); err != nil {
					b.Fatal(err)
				}
			}
			perItem(b)
		})
		b.Run(tc.name+"/flujo-reused", func(b *testing.B) {
			g, err := NewWorkGroup(workers, 0)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			fn := func(_ context.Context, i int) { item(in, out, i) }
			for b.Loop() {
				if err := g.Run(ctx, tc.n, fn); err != nil {
					b.Fatal(err)
				}
			}
			perItem(b)
		})
		b.Run(tc.name+"/errgroup", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var g errgroup.Group
				g.SetLimit(workers)
				for i := range tc.n {
					g.Go(func() error { item(in, out, i); return nil })
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
			}
			perItem(b)
		})
		b.Run(tc.name+"/ants", func(b *testing.B) {
			// A long-lived pool, as ants intends; only submission and the
			// wait are measured.
			var wg sync.WaitGroup
			p, err := ants.NewPoolWithFuncGeneric(workers, func(i int) {
				item(in, out, i)
				wg.Done()
			})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Release()
			b.ReportAllocs()
			for b.Loop() {
				wg.Add(tc.n)
				for i := range tc.n {
					if err := p.Invoke(i); err != nil {
						b.Fatal(err)
					}
				}
				wg.Wait()
			}
			perItem(b)
		})
		b.Run(tc.name+"/conc", func(b *testing.B) {
			// conc's iterator: GOMAXPROCS workers over an atomic index,
			// the closest peer to ours.
			b.ReportAllocs()
			for b.Loop() {
				iter.ForEachIdx(out, func(i int, _ *int64) { item(in, out, i) })
			}
			perItem(b)
		})
		b.Run(tc.name+"/conc-pool", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := pool.New().WithMaxGoroutines(workers)
				for i := range tc.n {
					p.Go(func() { item(in, out, i) })
				}
				p.Wait()
			}
			perItem(b)
		})
	}
}
