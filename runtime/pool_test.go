package runtime

import (
	"bytes"
	"math"
	"sync"
	"sync/atomic"
	"testing"
)

func TestNewPoolValidates(t *testing.T) {
	cases := []struct {
		name      string
		capacity  int
		threshold float64
		ok        bool
	}{
		{"defaults", 50, 0.9, true},
		{"capacity 1", 1, 0.5, true},
		{"threshold 0", 10, 0, true},
		{"threshold 1", 10, 1, true},
		{"zero capacity", 0, 0.9, false},
		{"negative capacity", -3, 0.9, false},
		{"huge capacity", PoolMaxCapacity + 1, 0.9, false},
		{"negative threshold", 10, -0.1, false},
		{"threshold above 1", 10, 1.5, false},
		{"NaN threshold", 10, math.NaN(), false},
	}
	for _, c := range cases {
		p, err := NewPool[int](c.capacity, c.threshold, nil, nil)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
		if err == nil && p.Capacity() != c.capacity {
			t.Errorf("%s: capacity %d", c.name, p.Capacity())
		}
	}
}

func TestPoolReusesAndResets(t *testing.T) {
	made := 0
	p, err := NewPool(4, 1, func() bytes.Buffer { made++; return bytes.Buffer{} }, func(b *bytes.Buffer) { b.Reset() })
	if err != nil {
		t.Fatal(err)
	}
	b := p.Get()
	b.WriteString("dirty")
	p.Put(b)
	b2 := p.Get()
	if b2 != b {
		t.Error("Get after Put did not reuse the object")
	}
	if b2.Len() != 0 {
		t.Errorf("reused object not reset: %q", b2.String())
	}
	p.Put(b2)
	p.Put(nil) // ignored
	s := p.Stats()
	want := PoolStats{Capacity: 4, Gets: 2, Hits: 1, Misses: 1, Puts: 2, Idle: 1, Utilization: 0.25, HitRate: 0.5}
	if s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}
	if made != 1 {
		t.Errorf("newFn called %d times, want 1", made)
	}
}

func TestPoolZeroValueWithoutNewFn(t *testing.T) {
	p, err := NewPool[[4]int](2, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := p.Get(); v == nil || *v != [4]int{} {
		t.Fatalf("Get = %v, want a pointer to the zero value", v)
	}
}

func TestPoolCapacityAndDrops(t *testing.T) {
	// A capacity that is not a power of two: the ring is larger.
	p, err := NewPool[int](5, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	objs := make([]*int, 8)
	for i := range objs {
		objs[i] = p.Get()
	}
	for _, o := range objs {
		p.Put(o)
	}
	s := p.Stats()
	if s.Idle != 5 || s.Drops != 3 || s.Puts != 8 || s.Misses != 8 || s.Utilization != 1 {
		t.Fatalf("stats %+v, want 5 idle, 3 drops", s)
	}
	seen := map[*int]bool{}
	for range 5 {
		v := p.Get()
		if seen[v] {
			t.Fatal("one object returned twice")
		}
		seen[v] = true
	}
	if p.Stats().Misses != 8 {
		t.Fatal("Get made a new object while the pool held some")
	}
	if p.Get(); p.Stats().Misses != 9 {
		t.Fatal("Get on an empty pool did not make an object")
	}
}

func TestPoolTrimsAboveThreshold(t *testing.T) {
	cases := []struct {
		capacity  int
		threshold float64
		puts      int
		wantIdle  int
		trimmed   uint64
	}{
		// 10 × 0.8 = 8: the 9th idle object trims to 5.
		{10, 0.8, 9, 5, 4},
		{10, 0.8, 8, 8, 0},
		// Threshold 1: never trims; the capacity still bounds.
		{10, 1, 12, 10, 0},
		// Threshold 0: every Put trims to half.
		{4, 0, 1, 1, 0},
		{4, 0, 3, 2, 1},
		{50, 0.9, 46, 25, 21},
	}
	for _, c := range cases {
		p, err := NewPool[int](c.capacity, c.threshold, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		objs := make([]*int, c.puts)
		for i := range objs {
			objs[i] = p.Get()
		}
		for _, o := range objs {
			p.Put(o)
		}
		s := p.Stats()
		if s.Idle != c.wantIdle || s.Trimmed != c.trimmed {
			t.Errorf("cap %d threshold %v after %d puts: idle %d trimmed %d, want %d and %d",
				c.capacity, c.threshold, c.puts, s.Idle, s.Trimmed, c.wantIdle, c.trimmed)
		}
		if s.Hits != 0 {
			t.Errorf("trimming counted as hits: %+v", s)
		}
	}
}

func TestPoolShrink(t *testing.T) {
	p, err := NewPool[int](8, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 6 {
		p.Put(new(int))
	}
	if n := p.Shrink(); n != 6 {
		t.Fatalf("Shrink released %d, want 6", n)
	}
	if s := p.Stats(); s.Idle != 0 || s.Trimmed != 6 || s.Utilization != 0 {
		t.Fatalf("after Shrink: %+v", s)
	}
	if n := p.Shrink(); n != 0 {
		t.Fatalf("Shrink of an empty pool released %d", n)
	}
}

// TestPoolConcurrent checks under -race that no object is ever handed to two
// holders at once, that the counters add up, and that capacity holds.
func TestPoolConcurrent(t *testing.T) {
	type obj struct {
		inUse atomic.Bool
		n     int
	}
	const capacity, workers, rounds = 16, 32, 2000
	p, err := NewPool(capacity, 0.75, nil, func(o *obj) { o.n = 0 })
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var held []*obj
			for i := range rounds {
				o := p.Get()
				if !o.inUse.CompareAndSwap(false, true) {
					t.Error("object handed out twice")
					return
				}
				if o.n != 0 {
					t.Error("object not reset")
					return
				}
				o.n = i + 1
				held = append(held, o)
				if len(held) > i%3 {
					for _, h := range held {
						h.inUse.Store(false)
						p.Put(h)
					}
					held = held[:0]
				}
			}
			for _, h := range held {
				h.inUse.Store(false)
				p.Put(h)
			}
		})
	}
	wg.Wait()
	s := p.Stats()
	if s.Gets != workers*rounds || s.Puts != workers*rounds {
		t.Errorf("gets %d puts %d, want %d each", s.Gets, s.Puts, workers*rounds)
	}
	if s.Idle > capacity {
		t.Errorf("idle %d above capacity %d", s.Idle, capacity)
	}
	stored := s.Puts - s.Drops
	if stored != s.Hits+s.Trimmed+uint64(s.Idle) {
		t.Errorf("stored %d != hits %d + trimmed %d + idle %d", stored, s.Hits, s.Trimmed, s.Idle)
	}
	if s.Hits == 0 {
		t.Error("no Get reused an object")
	}
}

func TestPoolAllocatesNothingWhenWarm(t *testing.T) {
	p, err := NewPool(8, 1, func() []byte { return make([]byte, 0, 64) }, func(b *[]byte) { *b = (*b)[:0] })
	if err != nil {
		t.Fatal(err)
	}
	p.Put(p.Get())
	if n := testing.AllocsPerRun(1000, func() { p.Put(p.Get()) }); n != 0 {
		t.Fatalf("Get+Put: %v allocs, want 0", n)
	}
}

func BenchmarkPoolGetPut(b *testing.B) {
	p, err := NewPool(50, 0.9, func() bytes.Buffer { return bytes.Buffer{} }, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Put(p.Get())
	}
}

func BenchmarkPoolGetPutReset(b *testing.B) {
	p, err := NewPool(50, 0.9, func() bytes.Buffer { return bytes.Buffer{} }, func(b *bytes.Buffer) { b.Reset() })
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Put(p.Get())
	}
}

func BenchmarkPoolGetPutParallel(b *testing.B) {
	p, err := NewPool(50, 0.9, func() bytes.Buffer { return bytes.Buffer{} }, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Put(p.Get())
		}
	})
}

// TestPoolCountersNeverGoBack: Stats read while Gets, Puts and trims race
// never shows fewer gets, hits or puts than a Stats before it, and the
// counters are exact once the pool is quiet.
func TestPoolCountersNeverGoBack(t *testing.T) {
	p, err := NewPool[[8]byte](4, 0.5, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 2
	var calls [workers]atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				a, b, c := p.Get(), p.Get(), p.Get()
				p.Put(a)
				p.Put(b)
				p.Put(c)
				calls[w].Add(3)
			}
		})
	}
	prev := p.Stats()
	for range 20000 {
		s := p.Stats()
		if s.Gets < prev.Gets || s.Hits < prev.Hits || s.Misses < prev.Misses || s.Puts < prev.Puts || s.Drops < prev.Drops {
			close(stop)
			wg.Wait()
			t.Fatalf("stats went back: %+v after %+v", s, prev)
		}
		prev = s
	}
	close(stop)
	wg.Wait()
	want := calls[0].Load() + calls[1].Load()
	s := p.Stats()
	if s.Gets != want || s.Puts != want || s.Hits+s.Misses != s.Gets {
		t.Errorf("quiet pool: %+v; want %d gets and puts, hits + misses = gets", s, want)
	}
	if stored := s.Puts - s.Drops; stored != s.Hits+s.Trimmed+uint64(s.Idle) {
		t.Errorf("stored %d != hits %d + trimmed %d + idle %d", stored, s.Hits, s.Trimmed, s.Idle)
	}
}
