package runtime

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// ResultCacheOptions configures a ResultCache or ResultCacheK.
type ResultCacheOptions struct {
	// MaxSize is the most entries the cache keeps (cache_max_size), at least 1.
	MaxSize int
	// TTL is how long an entry lives after it is stored (cache_ttl_seconds);
	// it must be positive.
	TTL time.Duration
	// Codec, if set, stores values encoded. A hit then decodes a fresh copy,
	// and values can be compressed. Nil stores values as they are: a hit
	// returns the stored value itself, so reference-typed values must not be
	// mutated by the caller.
	Codec Codec
	// CompressAbove, when positive, compresses encoded values longer than
	// this many bytes (cache_compression; see DefaultCompressAbove). It needs
	// a Codec. Zero never compresses.
	CompressAbove int
	// Compressor is shared by caches that compress; nil makes the cache
	// create its own when CompressAbove is positive, and Close it on Close.
	Compressor *Compressor
	// Clock decides expiry. Nil reads the system clock on every Get and Set;
	// a cheaper, coarser Clock may be supplied, at the cost of serving an
	// entry up to its resolution past its TTL. With a non-nil Clock expired
	// entries are removed during the cache's maintenance instead of by a
	// background goroutine once a second.
	Clock Clock
}

// ResultCacheStats is a snapshot of a result cache's counters.
type ResultCacheStats struct {
	Hits       uint64
	Misses     uint64 // including Collisions and damaged entries
	Evictions  uint64 // entries removed to respect the size bound
	Expiries   uint64 // entries removed because their TTL passed
	Collisions uint64 // hash hits whose stored input differed (ResultCacheK)
	// CodecErrors counts values that could not be encoded (the Set returned
	// the error) or decoded (the Get missed and dropped the entry).
	CodecErrors uint64
	// EncodedBytes and StoredBytes sum the sizes of the values stored by
	// a cache with a Codec, before and after compression.
	EncodedBytes uint64
	StoredBytes  uint64
	Size         int // entries now, counting expired ones not yet removed
	Capacity     int // current maximum size: MaxSize unless shrunk
	HitRate      float64
}

// ResultCache caches step results under 64-bit input hashes, bounded in size
// and age. It is built on otter (adaptive W-TinyLFU eviction, expiry on a
// timer wheel) and is safe for concurrent use.
//
// A hash collision between two different inputs returns the other input's
// result; use ResultCacheK where the input type is comparable.
//
// Measured on the reference machine (2 vCPU AMD EPYC, shared): a hit costs
// 50-80 ns (ResultCacheK: 75-95 ns) and a miss about 40 ns, neither
// allocating. The precise clock read that the TTL check needs is about a
// third of a hit; a coarse Clock saves most of it.
type ResultCache[V any] struct {
	core    atomic.Pointer[cacheCore[any]] // holds V, or []byte when encoded
	encoded bool
	opts    ResultCacheOptions
	pack    cachePacker
}

// ResultCacheK is a ResultCache for comparable inputs: it stores the input
// with the result and compares it on a hit, so a hash collision is a miss,
// never a wrong result. Inputs compare with ==: one holding a NaN never
// equals itself and always misses.
type ResultCacheK[K comparable, V any] struct {
	core    atomic.Pointer[cacheCore[any]] // holds cacheWithInput[K, V], or cacheWithInput[K, []byte] when encoded
	encoded bool
	opts    ResultCacheOptions
	pack    cachePacker
}

type cacheWithInput[K comparable, V any] struct {
	in K
	v  V
}

// NewResultCache returns an empty ResultCache, or an error naming the first
// invalid option.
func NewResultCache[V any](opts ResultCacheOptions) (*ResultCache[V], error) {
	pk, err := newCachePacker(opts)
	if err != nil {
		return nil, err
	}
	c := &ResultCache[V]{pack: pk, encoded: opts.Codec != nil, opts: opts}
	cc, err := newCacheCore[any](opts)
	if err != nil {
		pk.close()
		return nil, err
	}
	c.core.Store(cc)
	return c, nil
}

// NewResultCacheK returns an empty ResultCacheK, or an error naming the first
// invalid option.
func NewResultCacheK[K comparable, V any](opts ResultCacheOptions) (*ResultCacheK[K, V], error) {
	pk, err := newCachePacker(opts)
	if err != nil {
		return nil, err
	}
	c := &ResultCacheK[K, V]{pack: pk, encoded: opts.Codec != nil, opts: opts}
	cc, err := newCacheCore[any](opts)
	if err != nil {
		pk.close()
		return nil, err
	}
	c.core.Store(cc)
	return c, nil
}

// Get returns the value stored under key, if it is there and has not
// expired.
func (c *ResultCache[V]) Get(key uint64) (V, bool) {
	cc := c.core.Load()
	if !c.encoded {
		e, ok := cc.get(key)
		v, _ := e.(V)
		return v, ok
	}
	return c.getPacked(cc, key)
}

// getPacked is apart from Get so that its decoding target, which escapes,
// costs the plain path no allocation.
func (c *ResultCache[V]) getPacked(cc *cacheCore[any], key uint64) (V, bool) {
	var v V
	e, ok := cc.get(key)
	if !ok {
		return v, false
	}
	b, _ := e.([]byte)
	if err := c.pack.unpack(b, &v); err != nil {
		cc.damaged(key)
		return v, false
	}
	return v, true
}

// Set stores v under key, replacing what was there. With a Codec, it
// returns the encoding error, if any, and stores nothing then.
func (c *ResultCache[V]) Set(key uint64, v V) error { return c.setIn(c.core.Load(), key, v) }

func (c *ResultCache[V]) setIn(cc *cacheCore[any], key uint64, v V) error {
	if !c.encoded {
		cc.set(key, v)
		return nil
	}
	b, err := c.pack.packValue(&cc.cacheCounters, v)
	if err != nil {
		return err
	}
	cc.set(key, b)
	return nil
}

// SetFor is Set for an entry that lives at most ttl: less than the cache's
// TTL when the value is a copy of one that expires sooner elsewhere (a
// shared cache's). A ttl of 0 or less stores nothing.
func (c *ResultCache[V]) SetFor(key uint64, v V, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	cc := c.core.Load()
	if err := c.setIn(cc, key, v); err != nil {
		return err
	}
	cc.expireAfter(key, ttl)
	return nil
}

// Get returns the value stored under key for input in, if it is there, was
// stored for an input equal to in, and has not expired.
func (c *ResultCacheK[K, V]) Get(key uint64, in K) (V, bool) {
	cc := c.core.Load()
	if c.encoded {
		return c.getPacked(cc, key, in)
	}
	a, ok := cc.get(key)
	e, _ := a.(cacheWithInput[K, V])
	if !ok {
		return e.v, false
	}
	if e.in != in {
		cc.collided(key)
		var zero V
		return zero, false
	}
	return e.v, true
}

// getPacked is apart from Get so that its decoding target, which escapes,
// costs the plain path no allocation.
func (c *ResultCacheK[K, V]) getPacked(cc *cacheCore[any], key uint64, in K) (V, bool) {
	var v V
	a, ok := cc.get(key)
	if !ok {
		return v, false
	}
	e, _ := a.(cacheWithInput[K, []byte])
	if e.in != in {
		cc.collided(key)
		return v, false
	}
	if err := c.pack.unpack(e.v, &v); err != nil {
		cc.damaged(key)
		return v, false
	}
	return v, true
}

// Set stores v under key for input in, replacing what was there. With a
// Codec, it returns the encoding error, if any, and stores nothing then.
func (c *ResultCacheK[K, V]) Set(key uint64, in K, v V) error {
	return c.setIn(c.core.Load(), key, in, v)
}

func (c *ResultCacheK[K, V]) setIn(cc *cacheCore[any], key uint64, in K, v V) error {
	if !c.encoded {
		cc.set(key, cacheWithInput[K, V]{in: in, v: v})
		return nil
	}
	b, err := c.pack.packValue(&cc.cacheCounters, v)
	if err != nil {
		return err
	}
	cc.set(key, cacheWithInput[K, []byte]{in: in, v: b})
	return nil
}

// SetFor is Set for an entry that lives at most ttl, as ResultCache.SetFor.
func (c *ResultCacheK[K, V]) SetFor(key uint64, in K, v V, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	cc := c.core.Load()
	if err := c.setIn(cc, key, in, v); err != nil {
		return err
	}
	cc.expireAfter(key, ttl)
	return nil
}

// Stats returns a snapshot of the counters.
func (c *ResultCache[V]) Stats() ResultCacheStats { return c.either().stats() }

// Shrink lowers the capacity by fraction (0 < fraction <= 1) of its current
// value, to no less than one entry, and evicts down to it at once; the
// resource manager calls it under memory pressure. It returns the new
// capacity. A fraction outside that range changes nothing.
func (c *ResultCache[V]) Shrink(fraction float64) int { return c.either().shrink(fraction) }

// RestoreCapacity sets the capacity back to MaxSize after Shrink.
func (c *ResultCache[V]) RestoreCapacity() { c.either().restore() }

// Close stops the cache's background expiry goroutine, if any, and releases
// a Compressor the cache created. The cache must not be used afterwards.
func (c *ResultCache[V]) Close() {
	c.either().close()
	c.pack.close()
}

func (c *ResultCache[V]) either() cacheAdmin { return c.core.Load() }

// TTL returns how long the cache's entries live: the TTL it was built or
// last rebuilt with.
func (c *ResultCache[V]) TTL() time.Duration { return c.core.Load().ttl }

// Rebuild replaces the cache with an empty one of capacity maxSize whose
// entries live ttl, as the ExecutorCore builds a new cache when
// cache_max_size or cache_ttl_seconds change: entries and counters start
// over. It checks the options first and changes nothing when they are
// invalid. Lookups and stores running meanwhile reach the old cache or the
// new one; calls of Rebuild must not overlap.
func (c *ResultCache[V]) Rebuild(maxSize int, ttl time.Duration) error {
	opts := c.opts
	opts.MaxSize, opts.TTL = maxSize, ttl
	switch {
	case maxSize < 1:
		return fmt.Errorf("runtime: Rebuild: cache_max_size is %d; want at least 1", maxSize)
	case ttl <= 0:
		return fmt.Errorf("runtime: Rebuild: cache_ttl_seconds is %v; want a positive duration", ttl.Seconds())
	}
	cc, err := newCacheCore[any](opts)
	if err != nil {
		return err
	}
	old := c.core.Swap(cc)
	c.opts = opts
	old.close()
	return nil
}

// Stats returns a snapshot of the counters.
func (c *ResultCacheK[K, V]) Stats() ResultCacheStats { return c.either().stats() }

// Shrink lowers the capacity as ResultCache.Shrink does.
func (c *ResultCacheK[K, V]) Shrink(fraction float64) int { return c.either().shrink(fraction) }

// RestoreCapacity sets the capacity back to MaxSize after Shrink.
func (c *ResultCacheK[K, V]) RestoreCapacity() { c.either().restore() }

// Close stops the cache's background expiry goroutine, if any, and releases
// a Compressor the cache created. The cache must not be used afterwards.
func (c *ResultCacheK[K, V]) Close() {
	c.either().close()
	c.pack.close()
}

func (c *ResultCacheK[K, V]) either() cacheAdmin { return c.core.Load() }

// TTL returns how long the cache's entries live: the TTL it was built or
// last rebuilt with.
func (c *ResultCacheK[K, V]) TTL() time.Duration { return c.core.Load().ttl }

// Rebuild replaces the cache with an empty one of capacity maxSize whose
// entries live ttl, as the ExecutorCore builds a new cache when
// cache_max_size or cache_ttl_seconds change: entries and counters start
// over. It checks the options first and changes nothing when they are
// invalid. Lookups and stores running meanwhile reach the old cache or the
// new one; calls of Rebuild must not overlap.
func (c *ResultCacheK[K, V]) Rebuild(maxSize int, ttl time.Duration) error {
	opts := c.opts
	opts.MaxSize, opts.TTL = maxSize, ttl
	switch {
	case maxSize < 1:
		return fmt.Errorf("runtime: Rebuild: cache_max_size is %d; want at least 1", maxSize)
	case ttl <= 0:
		return fmt.Errorf("runtime: Rebuild: cache_ttl_seconds is %v; want a positive duration", ttl.Seconds())
	}
	cc, err := newCacheCore[any](opts)
	if err != nil {
		return err
	}
	old := c.core.Swap(cc)
	c.opts = opts
	old.close()
	return nil
}

// cacheAdmin is the part of cacheCore that does not depend on the entry
// type: everything but Get and Set.
type cacheAdmin interface {
	stats() ResultCacheStats
	shrink(fraction float64) int
	restore()
	close()
	cleanUp()
}

// cacheStripes spreads the hit and miss counters over cache lines, chosen by
// the key's low bits: keys are hashes, so concurrent lookups of different
// keys rarely share a line.
const cacheStripes = 8

type cacheStripe struct {
	hits   atomic.Uint64
	misses atomic.Uint64
	_      [48]byte
}

type cacheCounters struct {
	stripes     [cacheStripes]cacheStripe
	evictions   atomic.Uint64
	expiries    atomic.Uint64
	collisions  atomic.Uint64
	codecErrors atomic.Uint64
	encoded     atomic.Uint64
	stored      atomic.Uint64
}

// cacheCore is an otter cache of entries E with the counters. Every cache
// instantiates it with E = any: otter's generic code is large, and one
// instantiation per value type cost about a second of compile time each.
// The typed wrappers assert the entry back, which does not allocate.
type cacheCore[E any] struct {
	cacheCounters
	c       *otter.Cache[uint64, E]
	maxSize int
	ttl     time.Duration
}

func newCacheCore[E any](opts ResultCacheOptions) (*cacheCore[E], error) {
	cc := &cacheCore[E]{maxSize: opts.MaxSize, ttl: opts.TTL}
	o := &otter.Options[uint64, E]{
		MaximumSize:      opts.MaxSize,
		InitialCapacity:  min(opts.MaxSize, 1024),
		ExpiryCalculator: otter.ExpiryWriting[uint64, E](opts.TTL),
		OnAtomicDeletion: func(e otter.DeletionEvent[uint64, E]) {
			switch e.Cause {
			case otter.CauseOverflow:
				cc.evictions.Add(1)
			case otter.CauseExpiration:
				cc.expiries.Add(1)
			}
		},
		// Executor stays otter's default, a goroutine per maintenance pass:
		// running maintenance on the caller's goroutine instead was measured
		// at about 120 against 70 ns per hit.
	}
	if opts.Clock != nil {
		o.Clock = cacheClock{opts.Clock}
	}
	c, err := otter.New(o)
	if err != nil {
		return nil, fmt.Errorf("runtime: NewResultCache: %w", err)
	}
	cc.c = c
	return cc, nil
}

func (cc *cacheCore[E]) get(key uint64) (E, bool) {
	v, ok := cc.c.GetIfPresent(key)
	s := &cc.stripes[key%cacheStripes]
	if ok {
		s.hits.Add(1)
	} else {
		s.misses.Add(1)
	}
	return v, ok
}

func (cc *cacheCore[E]) set(key uint64, e E) { cc.c.Set(key, e) }

// expireAfter makes the entry of key expire within ttl when that is sooner
// than the cache's TTL.
func (cc *cacheCore[E]) expireAfter(key uint64, ttl time.Duration) {
	if ttl < cc.ttl {
		cc.c.SetExpiresAfter(key, ttl)
	}
}

// collided turns the hit just counted for key into a miss.
func (cc *cacheCore[E]) collided(key uint64) {
	cc.collisions.Add(1)
	cc.unhit(key)
}

// damaged drops an entry that would not decode and counts a miss.
func (cc *cacheCore[E]) damaged(key uint64) {
	cc.codecErrors.Add(1)
	cc.unhit(key)
	cc.c.Invalidate(key)
}

func (cc *cacheCore[E]) unhit(key uint64) {
	s := &cc.stripes[key%cacheStripes]
	s.hits.Add(^uint64(0))
	s.misses.Add(1)
}

func (cc *cacheCore[E]) stats() ResultCacheStats {
	// Evictions and the size settle in the cache's maintenance, which runs
	// in the background: run what is pending, so that a snapshot counts
	// every eviction the writes so far have caused.
	cc.c.CleanUp()
	s := ResultCacheStats{
		Evictions:    cc.evictions.Load(),
		Expiries:     cc.expiries.Load(),
		Collisions:   cc.collisions.Load(),
		CodecErrors:  cc.codecErrors.Load(),
		EncodedBytes: cc.encoded.Load(),
		StoredBytes:  cc.stored.Load(),
		Size:         cc.c.EstimatedSize(),
		Capacity:     int(cc.c.GetMaximum()),
	}
	for i := range cc.stripes {
		s.Hits += cc.stripes[i].hits.Load()
		s.Misses += cc.stripes[i].misses.Load()
	}
	if n := s.Hits + s.Misses; n > 0 {
		s.HitRate = float64(s.Hits) / float64(n)
	}
	return s
}

func (cc *cacheCore[E]) shrink(fraction float64) int {
	cur := cc.c.GetMaximum()
	if !(fraction > 0 && fraction <= 1) {
		return int(cur)
	}
	next := uint64(math.Max(1, math.Floor(float64(cur)*(1-fraction))))
	cc.c.SetMaximum(next)
	cc.c.CleanUp()
	return int(next)
}

// cleanUp runs otter's pending maintenance (evictions, expiries) now.
func (cc *cacheCore[E]) cleanUp() { cc.c.CleanUp() }

func (cc *cacheCore[E]) restore() { cc.c.SetMaximum(uint64(cc.maxSize)) }

func (cc *cacheCore[E]) close() { cc.c.StopAllGoroutines() }

// cacheClock adapts a Clock to otter. It gives no ticks, so otter runs no
// periodic clean-up goroutine; expired entries go at maintenance.
type cacheClock struct{ c Clock }

func (cl cacheClock) NowNano() int64                   { return cl.c.Nanotime() }
func (cacheClock) Tick(time.Duration) <-chan time.Time { return nil }

// cachePacker encodes, compresses and decodes the values of a cache with a
// Codec.
type cachePacker struct {
	codec Codec
	comp  *Compressor
	owned bool // comp was made by the cache
	above int
}

func newCachePacker(opts ResultCacheOptions) (cachePacker, error) {
	switch {
	case opts.MaxSize < 1:
		return cachePacker{}, fmt.Errorf("runtime: NewResultCache: cache_max_size is %d; want at least 1", opts.MaxSize)
	case opts.TTL <= 0:
		return cachePacker{}, fmt.Errorf("runtime: NewResultCache: cache_ttl_seconds is %v; want a positive duration", opts.TTL.Seconds())
	case opts.CompressAbove < 0:
		return cachePacker{}, fmt.Errorf("runtime: NewResultCache: CompressAbove is %d; want 0 (no compression) or a positive size in bytes", opts.CompressAbove)
	case opts.CompressAbove > 0 && opts.Codec == nil:
		return cachePacker{}, errors.New("runtime: NewResultCache: compression (CompressAbove > 0) needs a Codec; set Codec, such as JSONCodec{}")
	}
	p := cachePacker{codec: opts.Codec, comp: opts.Compressor, above: opts.CompressAbove}
	if p.above > 0 && p.comp == nil {
		comp, err := NewCompressor()
		if err != nil {
			return cachePacker{}, err
		}
		p.comp, p.owned = comp, true
	}
	return p, nil
}

func (p *cachePacker) packValue(cnt *cacheCounters, v any) ([]byte, error) {
	enc, err := p.codec.Marshal(v)
	if err != nil {
		cnt.codecErrors.Add(1)
		return nil, fmt.Errorf("runtime: result cache: encoding %T: %w", v, err)
	}
	n := len(enc)
	b := codecPack(p.comp, enc, p.above)
	cnt.encoded.Add(uint64(n))
	cnt.stored.Add(uint64(len(b)))
	return b, nil
}

func (p *cachePacker) unpack(b []byte, v any) error {
	enc, err := codecUnpack(p.comp, b)
	if err != nil {
		return err
	}
	return p.codec.Unmarshal(enc, v)
}

func (p *cachePacker) close() {
	if p.owned {
		p.comp.Close()
		p.owned = false
	}
}
