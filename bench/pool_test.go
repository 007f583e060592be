package bench

import (
	"sync"
	"testing"

	"github.com/flujo/flujo/runtime"
)

// poolObject stands for a scratch object a step reuses: a buffer and some
// state that the reset clears.
type poolObject struct {
	buf [24]int64
	n   int
}

func resetPoolObject(o *poolObject) { o.n = 0 }

// BenchmarkPool gets an object, uses it and puts it back, from one goroutine
// and from all CPUs; our pool has the default configuration's size and
// cleanup threshold. alloc allocates a fresh object each time and keeps it
// reachable for a moment, as a step would.
func BenchmarkPool(b *testing.B) {
	cfg := runtime.DefaultOptimizationConfig()
	newFlujo := func(b *testing.B) *runtime.Pool[poolObject] {
		p, err := runtime.NewPool(cfg.ObjectPoolMaxSize, cfg.ObjectPoolCleanupThreshold,
			func() poolObject { return poolObject{} }, resetPoolObject)
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	newSync := func() *sync.Pool {
		return &sync.Pool{New: func() any { return new(poolObject) }}
	}

	b.Run("get-put/flujo", func(b *testing.B) {
		p := newFlujo(b)
		b.ReportAllocs()
		for b.Loop() {
			o := p.Get()
			o.n++
			p.Put(o)
		}
	})
	b.Run("get-put/sync.Pool", func(b *testing.B) {
		p := newSync()
		b.ReportAllocs()
		for b.Loop() {
			o := p.Get().(*poolObject)
			o.n++
			resetPoolObject(o)
			p.Put(o)
		}
	})
	b.Run("get-put/alloc", func(b *testing.B) {
		// The ring keeps each object reachable after its op, so it is
		// allocated on the heap as a pooled object would have been.
		var ring [16]*poolObject
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			o := new(poolObject)
			o.n++
			ring[i&15] = o
			i++
		}
	})

	b.Run("get-put-parallel/flujo", func(b *testing.B) {
		p := newFlujo(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				o := p.Get()
				o.n++
				p.Put(o)
			}
		})
	})
	b.Run("get-put-parallel/sync.Pool", func(b *testing.B) {
		p := newSync()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				o := p.Get().(*poolObject)
				o.n++
				resetPoolObject(o)
				p.Put(o)
			}
		})
	})
	b.Run("get-put-parallel/alloc", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var ring [16]*poolObject
			i := 0
			for pb.Next() {
				o := new(poolObject)
				o.n++
				ring[i&15] = o
				i++
			}
		})
	})
}
