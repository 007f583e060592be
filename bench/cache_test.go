package bench

import (
	"sync/atomic"
	"testing"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/maypok86/otter/v2"

	"github.com/flujo/flujo/runtime"
)

// cacheShape is the size of a cache under test: it holds entries results
// under 64-bit keys, below its bound maxSize, so a hit never evicts.
type cacheShape struct {
	entries, maxSize int
	ttl              time.Duration
}

// defaultCacheShape uses the default configuration's cache_max_size and
// cache_ttl_seconds, half full; largeCacheShape holds far more than the CPU
// caches, so every hit pays for memory.
func defaultCacheShape() cacheShape {
	cfg := runtime.DefaultOptimizationConfig()
	return cacheShape{
		entries: 256,
		maxSize: cfg.CacheMaxSize,
		ttl:     time.Duration(cfg.CacheTTLSeconds) * time.Second,
	}
}

func largeCacheShape() cacheShape {
	s := defaultCacheShape()
	s.entries, s.maxSize = 1<<16, 1<<17
	return s
}

// cacheValue stands for a step's output.
type cacheValue struct {
	ID    int64
	Score float64
	Label string
}

// cacheKeys returns n stored keys, spread over the 64-bit space as hashes
// are, and n keys that are not stored. n is a power of two.
func cacheKeys(n int) (hit, miss []uint64) {
	hit = make([]uint64, n)
	miss = make([]uint64, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range hit {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		hit[i] = x &^ 1 // even keys are stored
		miss[i] = x | 1
	}
	return hit, miss
}

// cacheImpl is one cache under test, reduced to the two calls measured.
type cacheImpl struct {
	name string
	new  func(b *testing.B, s cacheShape) (get func(uint64) (cacheValue, bool), set func(uint64, cacheValue))
}

func cacheImpls() []cacheImpl {
	return []cacheImpl{
		{"flujo", func(b *testing.B, s cacheShape) (func(uint64) (cacheValue, bool), func(uint64, cacheValue)) {
			c, err := runtime.NewResultCache[cacheValue](runtime.ResultCacheOptions{MaxSize: s.maxSize, TTL: s.ttl})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(c.Close)
			return c.Get, func(k uint64, v cacheValue) {
				if err := c.Set(k, v); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"flujo-k", func(b *testing.B, s cacheShape) (func(uint64) (cacheValue, bool), func(uint64, cacheValue)) {
			// ResultCacheK also compares the stored input; here the input is
			// the key itself.
			c, err := runtime.NewResultCacheK[uint64, cacheValue](runtime.ResultCacheOptions{MaxSize: s.maxSize, TTL: s.ttl})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(c.Close)
			return func(k uint64) (cacheValue, bool) { return c.Get(k, k) }, func(k uint64, v cacheValue) {
				if err := c.Set(k, k, v); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"otter", func(b *testing.B, s cacheShape) (func(uint64) (cacheValue, bool), func(uint64, cacheValue)) {
			// Plain otter with the same bound and time to live.
			c, err := otter.New(&otter.Options[uint64, cacheValue]{
				MaximumSize:      s.maxSize,
				ExpiryCalculator: otter.ExpiryWriting[uint64, cacheValue](s.ttl),
			})
			if err != nil {
				b.Fatal(err)
			}
			return c.GetIfPresent, func(k uint64, v cacheValue) { c.Set(k, v) }
		}},
		{"golang-lru", func(b *testing.B, s cacheShape) (func(uint64) (cacheValue, bool), func(uint64, cacheValue)) {
			// golang-lru's plain LRU has no time to live, which only helps it.
			c, err := lru.New[uint64, cacheValue](s.maxSize)
			if err != nil {
				b.Fatal(err)
			}
			return c.Get, func(k uint64, v cacheValue) { c.Add(k, v) }
		}},
	}
}

// BenchmarkCache measures a hit and a miss on a cache of step results sized
// by the default configuration, hits from all CPUs at once, and hits on a
// cache too large for the CPU caches.
func BenchmarkCache(b *testing.B) {
	fill := func(b *testing.B, ci cacheImpl, s cacheShape, keys []uint64) func(uint64) (cacheValue, bool) {
		get, set := ci.new(b, s)
		for i, k := range keys {
			set(k, cacheValue{ID: int64(i), Score: float64(i) / 3, Label: "label"})
		}
		return get
	}
	seq := func(name string, s cacheShape, wantHit bool) {
		hit, miss := cacheKeys(s.entries)
		probe := hit
		if !wantHit {
			probe = miss
		}
		mask := s.entries - 1
		for _, ci := range cacheImpls() {
			b.Run(name+"/"+ci.name, func(b *testing.B) {
				get := fill(b, ci, s, hit)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, ok := get(probe[i&mask]); ok != wantHit {
						b.Fatalf("lookup of key %d: found %v, want %v", i&mask, ok, wantHit)
					}
					i++
				}
			})
		}
	}
	seq("hit", defaultCacheShape(), true)
	seq("miss", defaultCacheShape(), false)

	s := defaultCacheShape()
	hit, _ := cacheKeys(s.entries)
	mask := s.entries - 1
	for _, ci := range cacheImpls() {
		b.Run("hit-parallel/"+ci.name, func(b *testing.B) {
			get := fill(b, ci, s, hit)
			// Each goroutine starts at its own place in the key sequence,
			// so they read different keys at any moment, as independent
			// callers do.
			var goroutines atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := int(goroutines.Add(1)) * 97
				for pb.Next() {
					if _, ok := get(hit[i&mask]); !ok {
						panic("miss on a stored key")
					}
					i++
				}
			})
		})
	}

	seq("hit-64k", largeCacheShape(), true)
}
