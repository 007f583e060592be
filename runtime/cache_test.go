package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func cacheTestOpts(clock Clock) ResultCacheOptions {
	return ResultCacheOptions{MaxSize: 1000, TTL: 10 * time.Second, Clock: clock}
}

func TestNewResultCacheValidates(t *testing.T) {
	good := ResultCacheOptions{MaxSize: 10, TTL: time.Second}
	cases := []struct {
		name string
		mod  func(o *ResultCacheOptions)
		ok   bool
	}{
		{"valid", func(o *ResultCacheOptions) {}, true},
		{"valid with codec and compression", func(o *ResultCacheOptions) { o.Codec, o.CompressAbove = JSONCodec{}, 100 }, true},
		{"zero size", func(o *ResultCacheOptions) { o.MaxSize = 0 }, false},
		{"negative size", func(o *ResultCacheOptions) { o.MaxSize = -1 }, false},
		{"zero TTL", func(o *ResultCacheOptions) { o.TTL = 0 }, false},
		{"negative TTL", func(o *ResultCacheOptions) { o.TTL = -time.Second }, false},
		{"negative threshold", func(o *ResultCacheOptions) { o.Codec, o.CompressAbove = JSONCodec{}, -1 }, false},
		{"compression without codec", func(o *ResultCacheOptions) { o.CompressAbove = 100 }, false},
	}
	for _, c := range cases {
		o := good
		c.mod(&o)
		r, err := NewResultCache[int](o)
		if (err == nil) != c.ok {
			t.Errorf("%s: NewResultCache err = %v, want ok=%v", c.name, err, c.ok)
		}
		if r != nil {
			r.Close()
		}
		rk, err := NewResultCacheK[string, int](o)
		if (err == nil) != c.ok {
			t.Errorf("%s: NewResultCacheK err = %v, want ok=%v", c.name, err, c.ok)
		}
		if rk != nil {
			rk.Close()
		}
	}
}

func TestResultCacheGetSet(t *testing.T) {
	for _, codec := range []Codec{nil, JSONCodec{}} {
		t.Run(fmt.Sprintf("%T", codec), func(t *testing.T) {
			o := cacheTestOpts(NewFakeClock(0))
			o.Codec = codec
			c, err := NewResultCache[[]string](o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, ok := c.Get(1); ok {
				t.Fatal("hit in an empty cache")
			}
			if err := c.Set(1, []string{"a", "b"}); err != nil {
				t.Fatal(err)
			}
			if err := c.Set(2, []string{"c"}); err != nil {
				t.Fatal(err)
			}
			if err := c.Set(1, []string{"a2"}); err != nil {
				t.Fatal(err)
			}
			v, ok := c.Get(1)
			if !ok || len(v) != 1 || v[0] != "a2" {
				t.Fatalf("Get(1) = %v, %v; want [a2]", v, ok)
			}
			if v, ok := c.Get(2); !ok || v[0] != "c" {
				t.Fatalf("Get(2) = %v, %v", v, ok)
			}
			if _, ok := c.Get(3); ok {
				t.Fatal("hit on a key never set")
			}
			s := c.Stats()
			if s.Hits != 2 || s.Misses != 2 || s.Size != 2 || s.Capacity != 1000 || s.HitRate != 0.5 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// TestResultCacheHitIsACopyWithCodec: with a Codec, mutating a hit must not
// change what the next hit returns (the original's cache returned its first
// snapshot after later mutations).
func TestResultCacheHitIsACopyWithCodec(t *testing.T) {
	o := cacheTestOpts(NewFakeClock(0))
	o.Codec = JSONCodec{}
	c, err := NewResultCache[map[string][]int](o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in := map[string][]int{"a": {1, 2}}
	if err := c.Set(7, in); err != nil {
		t.Fatal(err)
	}
	in["a"][0] = 100 // the caller's value changes after Set
	v, _ := c.Get(7)
	v["a"][1] = 200
	v["b"] = nil
	w, ok := c.Get(7)
	if !ok || len(w) != 1 || w["a"][0] != 1 || w["a"][1] != 2 {
		t.Fatalf("second hit %v, want map[a:[1 2]]", w)
	}
}

// TestResultCacheNeverReturnsExpired drives random sets, gets and clock
// advances and checks every answer against a model: an entry stored at t is
// served while now < t+TTL and never after.
func TestResultCacheNeverReturnsExpired(t *testing.T) {
	for _, codec := range []Codec{nil, JSONCodec{}} {
		t.Run(fmt.Sprintf("%T", codec), func(t *testing.T) {
			clock := NewFakeClock(time.Hour)
			const ttl = 100 * time.Millisecond
			o := ResultCacheOptions{MaxSize: 10000, TTL: ttl, Clock: clock, Codec: codec}
			c, err := NewResultCache[int](o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			type stored struct {
				v  int
				at int64
			}
			model := map[uint64]stored{}
			r := rand.New(rand.NewPCG(7, 8))
			for i := range 20000 {
				key := uint64(r.IntN(64))
				switch r.IntN(4) {
				case 0:
					if err := c.Set(key, i); err != nil {
						t.Fatal(err)
					}
					model[key] = stored{i, clock.Nanotime()}
				case 1:
					clock.Advance(time.Duration(r.Int64N(int64(ttl) / 8)))
				default:
					v, ok := c.Get(key)
					m, inModel := model[key]
					live := inModel && clock.Nanotime() < m.at+int64(ttl)
					if ok && !live {
						t.Fatalf("step %d: key %d served %v at +%v after it was stored", i, key, v, time.Duration(clock.Nanotime()-m.at))
					}
					if !ok && live {
						t.Fatalf("step %d: key %d missing %v after it was stored", i, key, time.Duration(clock.Nanotime()-m.at))
					}
					if ok && v != m.v {
						t.Fatalf("step %d: key %d = %d, want %d", i, key, v, m.v)
					}
				}
			}
			c.either().cleanUp()
			if c.Stats().Expiries == 0 {
				t.Error("no expiry counted")
			}
		})
	}
}

func TestResultCacheExpiresExactlyAtTTL(t *testing.T) {
	clock := NewFakeClock(0)
	c, err := NewResultCache[string](ResultCacheOptions{MaxSize: 10, TTL: time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.Set(1, "x")
	clock.Advance(time.Second - 1)
	if _, ok := c.Get(1); !ok {
		t.Fatal("entry gone before its TTL")
	}
	clock.Advance(1)
	if _, ok := c.Get(1); ok {
		t.Fatal("entry served at its TTL")
	}
	// Expired entries leave at maintenance, which a later write brings.
	clock.Advance(5 * time.Second)
	_ = c.Set(2, "y")
	c.either().cleanUp()
	if s := c.Stats(); s.Expiries != 1 || s.Size != 1 {
		t.Fatalf("stats after expiry %+v, want 1 expiry and one entry left", s)
	}
}

// TestResultCacheSetFor: an entry stored with SetFor lives the shorter of
// its own time and the cache's TTL; a time of 0 or less stores nothing.
func TestResultCacheSetFor(t *testing.T) {
	for _, codec := range []Codec{nil, JSONCodec{}} {
		t.Run(fmt.Sprintf("%T", codec), func(t *testing.T) {
			clock := NewFakeClock(0)
			o := cacheTestOpts(clock) // TTL 10 s
			o.Codec = codec
			c, err := NewResultCache[string](o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			k, err := NewResultCacheK[string, string](o)
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			_ = c.SetFor(1, "short", 2*time.Second)
			_ = c.SetFor(2, "long", time.Hour)
			_ = c.SetFor(3, "none", 0)
			_ = k.SetFor(1, "in", "short", 2*time.Second)
			_ = k.SetFor(2, "in", "long", time.Hour)
			_ = k.SetFor(3, "in", "none", -time.Second)
			if _, ok := c.Get(3); ok {
				t.Error("ResultCache: SetFor with no time left stored the entry")
			}
			if _, ok := k.Get(3, "in"); ok {
				t.Error("ResultCacheK: SetFor with no time left stored the entry")
			}
			clock.Advance(2*time.Second - 1)
			if _, ok := c.Get(1); !ok {
				t.Error("ResultCache: entry gone before its own time")
			}
			if _, ok := k.Get(1, "in"); !ok {
				t.Error("ResultCacheK: entry gone before its own time")
			}
			clock.Advance(1)
			if v, ok := c.Get(1); ok {
				t.Errorf("ResultCache: %q served after its own time", v)
			}
			if v, ok := k.Get(1, "in"); ok {
				t.Errorf("ResultCacheK: %q served after its own time", v)
			}
			clock.Advance(8 * time.Second) // the cache's TTL
			if v, ok := c.Get(2); ok {
				t.Errorf("ResultCache: %q served past the cache's TTL", v)
			}
			if v, ok := k.Get(2, "in"); ok {
				t.Errorf("ResultCacheK: %q served past the cache's TTL", v)
			}
		})
	}
}

// cacheZeroHash is the worst hash function: every input collides.
func cacheZeroHash(string) uint64 { return 0 }

func TestResultCacheKNeverReturnsACollision(t *testing.T) {
	for _, codec := range []Codec{nil, JSONCodec{}} {
		t.Run(fmt.Sprintf("%T", codec), func(t *testing.T) {
			o := cacheTestOpts(NewFakeClock(0))
			o.Codec = codec
			c, err := NewResultCacheK[string, string](o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			set := func(in string) {
				if err := c.Set(cacheZeroHash(in), in, "out:"+in); err != nil {
					t.Fatal(err)
				}
			}
			set("a")
			if v, ok := c.Get(cacheZeroHash("b"), "b"); ok {
				t.Fatalf("input b got a's result %q", v)
			}
			if v, ok := c.Get(cacheZeroHash("a"), "a"); !ok || v != "out:a" {
				t.Fatalf("Get(a) = %q, %v", v, ok)
			}
			set("b")
			if v, ok := c.Get(cacheZeroHash("a"), "a"); ok {
				t.Fatalf("input a got %q after b replaced it", v)
			}
			s := c.Stats()
			if s.Collisions != 2 || s.Hits != 1 || s.Misses != 2 {
				t.Fatalf("stats %+v, want 2 collisions, 1 hit, 2 misses", s)
			}
		})
	}
}

func TestResultCacheKCollisionsConcurrent(t *testing.T) {
	c, err := NewResultCacheK[string, string](cacheTestOpts(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 500 {
				in := strconv.Itoa((w*31 + i) % 40)
				if v, ok := c.Get(cacheZeroHash(in), in); ok && v != "out:"+in {
					t.Errorf("input %s got %q", in, v)
					return
				}
				if err := c.Set(cacheZeroHash(in), in, "out:"+in); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if c.Stats().Collisions == 0 {
		t.Error("no collision counted")
	}
}

func TestResultCacheBoundsSize(t *testing.T) {
	c, err := NewResultCache[int](ResultCacheOptions{MaxSize: 100, TTL: time.Hour, Clock: NewFakeClock(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 1000 {
		_ = c.Set(uint64(i)*0x9e3779b97f4a7c15, i)
	}
	// Maintenance runs in the background; the bound holds once it has run.
	c.either().cleanUp()
	s := c.Stats()
	if s.Size > 100 {
		t.Fatalf("size %d above MaxSize 100", s.Size)
	}
	if s.Evictions != uint64(1000-s.Size) {
		t.Fatalf("evictions %d, want %d", s.Evictions, 1000-s.Size)
	}
}

func TestResultCacheShrink(t *testing.T) {
	c, err := NewResultCache[int](ResultCacheOptions{MaxSize: 100, TTL: time.Hour, Clock: NewFakeClock(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 100 {
		_ = c.Set(uint64(i), i)
	}
	if got := c.Shrink(0.5); got != 50 {
		t.Fatalf("Shrink(0.5) = %d, want 50", got)
	}
	if n := c.Stats().Size; n > 50 {
		t.Fatalf("size after Shrink = %d, want at most 50", n)
	}
	for _, f := range []float64{0, -1, 1.5, math.NaN()} {
		if got := c.Shrink(f); got != 50 {
			t.Errorf("Shrink(%v) = %d, want no change (50)", f, got)
		}
	}
	if got := c.Shrink(1); got != 1 {
		t.Fatalf("Shrink(1) = %d, want 1", got)
	}
	c.RestoreCapacity()
	if s := c.Stats(); s.Capacity != 100 {
		t.Fatalf("capacity after RestoreCapacity = %d", s.Capacity)
	}
	for i := range 100 {
		_ = c.Set(uint64(1000+i), i)
	}
	if n := c.Stats().Size; n < 90 {
		t.Fatalf("size after RestoreCapacity and refill = %d", n)
	}
}

func TestResultCacheCodecErrors(t *testing.T) {
	o := cacheTestOpts(NewFakeClock(0))
	o.Codec = JSONCodec{}
	c, err := NewResultCache[any](o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(1, make(chan int)); err == nil {
		t.Fatal("Set of an unencodable value returned no error")
	}
	if _, ok := c.Get(1); ok {
		t.Fatal("unencodable value was stored")
	}
	// A value that decodes into V fails: stored as a JSON string, read as int.
	ci, err := NewResultCache[int](o)
	if err != nil {
		t.Fatal(err)
	}
	defer ci.Close()
	ci.core.Load().set(5, codecPack(nil, []byte(`"text"`), 0))
	if _, ok := ci.Get(5); ok {
		t.Fatal("undecodable entry returned as a hit")
	}
	if s := ci.Stats(); s.CodecErrors != 1 || s.Hits != 0 || s.Misses != 1 || s.Size != 0 {
		t.Fatalf("stats %+v, want one codec error, a miss, the entry dropped", s)
	}
	if s := c.Stats(); s.CodecErrors != 1 {
		t.Fatalf("encoding errors %d, want 1", s.CodecErrors)
	}
}

func TestResultCacheConcurrent(t *testing.T) {
	for _, codec := range []Codec{nil, JSONCodec{}} {
		t.Run(fmt.Sprintf("%T", codec), func(t *testing.T) {
			o := ResultCacheOptions{MaxSize: 64, TTL: time.Minute, Codec: codec}
			c, err := NewResultCache[[2]uint64](o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var wg sync.WaitGroup
			for w := range 16 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for range 1000 {
						key := r.Uint64N(200)
						if v, ok := c.Get(key); ok && v != [2]uint64{key, key * 3} {
							t.Errorf("key %d: %v", key, v)
							return
						}
						if err := c.Set(key, [2]uint64{key, key * 3}); err != nil {
							t.Error(err)
							return
						}
						if r.IntN(200) == 0 {
							c.Shrink(0.1)
						}
					}
				})
			}
			wg.Wait()
			s := c.Stats()
			if s.Hits+s.Misses != 16*1000 {
				t.Fatalf("hits+misses = %d, want %d", s.Hits+s.Misses, 16*1000)
			}
		})
	}
}

func TestResultCacheAllocatesNothing(t *testing.T) {
	c, err := NewResultCache[string](cacheTestOpts(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	type in struct {
		Name string
		N    int
	}
	ck, err := NewResultCacheK[in, string](cacheTestOpts(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	_ = c.Set(1, "v")
	_ = ck.Set(1, in{"a", 1}, "v")
	key := in{"a", 1}
	other := in{"b", 1}
	checks := map[string]func(){
		"hit":             func() { c.Get(1) },
		"miss":            func() { c.Get(2) },
		"keyed hit":       func() { ck.Get(1, key) },
		"keyed miss":      func() { ck.Get(2, key) },
		"keyed collision": func() { ck.Get(1, other) },
	}
	for name, f := range checks {
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocs, want 0", name, n)
		}
	}
}

func TestResultCacheCloseStopsGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for range 3 {
		c, err := NewResultCache[int](ResultCacheOptions{MaxSize: 10, TTL: time.Minute, Codec: JSONCodec{}, CompressAbove: 10})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Set(1, 1)
		c.Get(1)
		c.Close()
	}
}

func BenchmarkResultCacheHit(b *testing.B) {
	c, err := NewResultCache[int](ResultCacheOptions{MaxSize: 1000, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := cacheBenchKeys(512)
	for i, k := range keys {
		_ = c.Set(k, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Get(keys[i&511])
		i++
	}
}

func BenchmarkResultCacheHitParallel(b *testing.B) {
	c, err := NewResultCache[int](ResultCacheOptions{MaxSize: 1000, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := cacheBenchKeys(512)
	for i, k := range keys {
		_ = c.Set(k, i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(512)
		for pb.Next() {
			c.Get(keys[i&511])
			i++
		}
	})
}

func BenchmarkResultCacheHitCoarseClock(b *testing.B) {
	// A FakeClock stands for a clock read as a plain atomic load, which is
	// what a coarse clock costs.
	c, err := NewResultCache[int](ResultCacheOptions{MaxSize: 1000, TTL: time.Hour, Clock: NewFakeClock(0)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := cacheBenchKeys(512)
	for i, k := range keys {
		_ = c.Set(k, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Get(keys[i&511])
		i++
	}
}

func BenchmarkResultCacheKHit(b *testing.B) {
	c, err := NewResultCacheK[benchAddress, int](ResultCacheOptions{MaxSize: 1000, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := cacheBenchKeys(512)
	ins := make([]benchAddress, len(keys))
	for i, k := range keys {
		ins[i] = benchAddress{Street: "street " + strconv.Itoa(i), Zip: i}
		_ = c.Set(k, ins[i], i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Get(keys[i&511], ins[i&511])
		i++
	}
}

func BenchmarkResultCacheMiss(b *testing.B) {
	c, err := NewResultCache[int](ResultCacheOptions{MaxSize: 1000, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := cacheBenchKeys(1024)
	for i, k := range keys[:512] {
		_ = c.Set(k, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Get(keys[512+i&511])
		i++
	}
}

func BenchmarkResultCacheSet(b *testing.B) {
	c, err := NewResultCache[int](ResultCacheOptions{MaxSize: 1000, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := cacheBenchKeys(4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = c.Set(keys[i&4095], i)
		i++
	}
}

func cacheBenchKeys(n int) []uint64 {
	h := NewStableHash(1)
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = h.AddInt(int64(i)).Sum64()
	}
	return keys
}
