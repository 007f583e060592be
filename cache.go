package flujo

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo/runtime"
)

// resultCache is a size-bounded LRU of step outputs with per-entry expiry.
type resultCache struct {
	mu    sync.Mutex
	max   int
	clock runtime.Clock
	ll    *list.List
	m     map[string]*list.Element

	hits, misses, evictions, expiries uint64 // guarded by mu

	// paused stops admission of new results (the auto-tuner's response to
	// memory pressure); lookups still serve what the cache holds.
	paused atomic.Bool
}

type cacheEntry struct {
	key     string
	value   any
	expires int64
}

func newResultCache(max int, clock runtime.Clock) *resultCache {
	return &resultCache{max: max, clock: clock, ll: list.New(), m: map[string]*list.Element{}}
}

func (c *resultCache) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[key]
	if !ok {
		c.misses++
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if c.clock.Nanotime() >= e.expires {
		c.ll.Remove(el)
		delete(c.m, key)
		c.misses++
		c.expiries++
		return nil, false
	}
	c.ll.MoveToFront(el)
	c.hits++
	return e.value, true
}

func (c *resultCache) set(key string, v any, ttl time.Duration) {
	if c.paused.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.clock.Nanotime() + int64(ttl)
	if el, ok := c.m[key]; ok {
		e := el.Value.(*cacheEntry)
		e.value, e.expires = v, exp
		c.ll.MoveToFront(el)
		return
	}
	c.m[key] = c.ll.PushFront(&cacheEntry{key: key, value: v, expires: exp})
	for c.ll.Len() > c.max {
		el := c.ll.Back()
		c.ll.Remove(el)
		delete(c.m, el.Value.(*cacheEntry).key)
		c.evictions++
	}
}

// shrink reacts to memory pressure: from high pressure on, the cache stops
// admitting results and drops its older half; below, it admits again.
func (c *resultCache) shrink(level runtime.PressureLevel) {
	if level < runtime.PressureHigh {
		c.paused.Store(false)
		return
	}
	c.paused.Store(true)
	c.mu.Lock()
	defer c.mu.Unlock()
	for n := c.ll.Len() / 2; n > 0; n-- {
		el := c.ll.Back()
		c.ll.Remove(el)
		delete(c.m, el.Value.(*cacheEntry).key)
		c.evictions++
	}
}

// cacheCounters are a result cache's counters at one moment.
type cacheCounters struct {
	hits, misses, evictions, expiries uint64
	size, capacity                    int
}

func (c *resultCache) counters() cacheCounters {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cacheCounters{c.hits, c.misses, c.evictions, c.expiries, c.ll.Len(), c.max}
}

// cacheKey returns the key of a step's input: the step's fingerprint and a
// sha256 over the canonical JSON of the fingerprint and the input. ok is
// false when the input cannot be encoded; the step then runs uncached.
func cacheKey(fingerprint string, in any) (key string, ok bool) {
	data, err := json.Marshal(struct {
		Step  string `json:"step"`
		Input any    `json:"input"`
	}{fingerprint, in})
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), true
}
