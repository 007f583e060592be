package flujo

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo/internal/kernel"
	"github.com/flujo/flujo/runtime"
)

// stepCache is one step's result cache: a runtime.ResultCache of the step's
// output type, built by the step's constructor (leafNode.newCache), so that
// a Codec decodes hits into the right type.
type stepCache interface {
	get(key uint64) (any, bool)
	set(key uint64, v any) error
	setFor(key uint64, v any, ttl time.Duration) error
	// encoded reports that the cache stores values encoded: every hit is
	// then a fresh decoded copy.
	encoded() bool
	stats() runtime.ResultCacheStats
	shrink(fraction float64)
	restore()
	close()
}

type typedCache[V any] struct {
	c   *runtime.ResultCache[V]
	enc bool
}

func newTypedCache[V any](opts runtime.ResultCacheOptions) (stepCache, error) {
	c, err := runtime.NewResultCache[V](opts)
	if err != nil {
		return nil, err
	}
	return typedCache[V]{c, opts.Codec != nil}, nil
}

func (t typedCache[V]) get(key uint64) (any, bool) {
	v, ok := t.c.Get(key)
	if !ok {
		return nil, false
	}
	return v, true
}

func (t typedCache[V]) set(key uint64, v any) error { return t.c.Set(key, as[V](v)) }
func (t typedCache[V]) setFor(key uint64, v any, ttl time.Duration) error {
	return t.c.SetFor(key, as[V](v), ttl)
}
func (t typedCache[V]) encoded() bool                   { return t.enc }
func (t typedCache[V]) stats() runtime.ResultCacheStats { return t.c.Stats() }
func (t typedCache[V]) shrink(fraction float64)         { t.c.Shrink(fraction) }
func (t typedCache[V]) restore()                        { t.c.RestoreCapacity() }
func (t typedCache[V]) close()                          { t.c.Close() }

// cacheSet is the result caching of one configuration: the options every
// step cache is built with, the key hashing, and the caches themselves,
// one per cached step, created on first use.
type cacheSet struct {
	opts runtime.ResultCacheOptions
	// seed and hasher make keys with enable_algorithm_optimization; hasher
	// is nil without it, and keys are then a sha256 of canonical JSON.
	seed   runtime.Hash
	hasher *runtime.ReflectHasher
	caches sync.Map // cacheKey -> stepCache
	// paused stops admission of new results (memory pressure, or the
	// auto-tuner); lookups still serve what the caches hold.
	paused     atomic.Bool
	compressor *runtime.Compressor
	// coarse is the clock the caches check expiry against (the executor's
	// SystemClock read coarsely, runtime.NewCacheClock); nil with another
	// clock.
	coarse *runtime.CoarseClock
	mu     sync.Mutex // serialises cache creation
	closed bool
}

func newCacheSet(cfg runtime.OptimizationConfig, clock runtime.Clock) (*cacheSet, error) {
	cacheClock, coarse := runtime.NewCacheClock(clock)
	s := &cacheSet{opts: runtime.ResultCacheOptions{
		MaxSize: cfg.CacheMaxSize,
		TTL:     time.Duration(cfg.CacheTTLSeconds) * time.Second,
		Clock:   cacheClock,
	}, coarse: coarse}
	if cfg.CacheCompression {
		comp, err := runtime.NewCompressor()
		if err != nil {
			return nil, err
		}
		s.compressor = comp
		s.opts.Codec, s.opts.CompressAbove, s.opts.Compressor = runtime.JSONCodec{}, runtime.DefaultCompressAbove, comp
	}
	if cfg.EnableAlgorithmOptimization {
		s.seed = runtime.NewHash()
		h, err := runtime.NewReflectHasher(s.seed)
		if err != nil {
			return nil, err
		}
		s.hasher = h
	}
	return s, nil
}

// cacheKey identifies a step cache: the step and its entries' time to
// live, which a step override may set per pipeline.
type cacheKey struct {
	b   *nodeBase
	ttl time.Duration
}

// forStep returns n's cache for entries living ttl, building it on first
// use; nil when it cannot be built, and the step then runs uncached.
func (s *cacheSet) forStep(n *leafNode, ttl time.Duration) stepCache {
	k := cacheKey{&n.nodeBase, ttl}
	if c, ok := s.caches.Load(k); ok {
		return c.(stepCache)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.caches.Load(k); ok {
		return c.(stepCache)
	}
	if s.closed || n.newCache == nil {
		return nil
	}
	opts := s.opts
	opts.TTL = ttl
	if opts.Codec != nil && runtime.CheckCodecType(n.out) != nil {
		// JSON would not give the output back as it was: store it as a
		// value, deep-copied as without cache_compression.
		opts.Codec, opts.CompressAbove, opts.Compressor = nil, 0, nil
	}
	c, err := n.newCache(opts)
	if err != nil {
		return nil
	}
	s.coarse.Need(opts.TTL)
	s.caches.Store(k, c)
	return c
}

// key returns the cache key of a step's input: the step's fingerprint and
// the input's hash. It fails when the input cannot be hashed (or, without
// enable_algorithm_optimization, encoded as JSON), and the step then runs
// uncached; a panic of the input's own Hash64 (or MarshalJSON, MarshalText)
// method is a *PanicError, which fails the step (see kernel.Leaf.Key).
func (s *cacheSet) key(fingerprint string, in any) (uint64, error) {
	if s.hasher != nil {
		h, err := s.hasher.Hash(in)
		if err != nil {
			if p := (*runtime.UnhashableError)(nil); errors.As(err, &p) && p.Panic != nil {
				return 0, p.Panic
			}
			return 0, err
		}
		return s.seed.AddString(fingerprint).AddUint(h).Sum64(), nil
	}
	return kernel.JSONKey(fingerprint, in)
}

func (s *cacheSet) each(f func(*nodeBase, stepCache)) {
	s.caches.Range(func(k, v any) bool {
		f(k.(cacheKey).b, v.(stepCache))
		return true
	})
}

// shrink reacts to memory pressure: from high pressure on, caches stop
// admitting results and give back half their capacity; below, they admit
// again at full capacity.
func (s *cacheSet) shrink(level runtime.PressureLevel) {
	if level < runtime.PressureHigh {
		s.paused.Store(false)
		s.each(func(_ *nodeBase, c stepCache) { c.restore() })
		return
	}
	s.paused.Store(true)
	s.each(func(_ *nodeBase, c stepCache) { c.shrink(0.5) })
}

// stats sums the counters of every step cache.
func (s *cacheSet) stats() runtime.StatsCache {
	var out runtime.StatsCache
	s.each(func(_ *nodeBase, c stepCache) {
		st := c.stats()
		out.Hits += st.Hits
		out.Misses += st.Misses
		out.Evictions += st.Evictions
		out.Expiries += st.Expiries
		out.Size += st.Size
		out.Capacity += st.Capacity
	})
	out.AdmissionPaused = s.paused.Load()
	return out
}

func (s *cacheSet) close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.each(func(_ *nodeBase, c stepCache) { c.close() })
	s.coarse.Close()
	if s.compressor != nil {
		s.compressor.Close()
	}
	return nil
}
