package runtime

import (
	"testing"
	"time"
)

func TestResultCacheRebuild(t *testing.T) {
	c, err := NewResultCache[int](ResultCacheOptions{MaxSize: 10, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.Set(1, 1)
	if _, ok := c.Get(1); !ok {
		t.Fatal("miss before Rebuild")
	}
	if err := c.Rebuild(0, time.Minute); err == nil {
		t.Fatal("Rebuild accepted cache_max_size 0")
	}
	if err := c.Rebuild(5, 0); err == nil {
		t.Fatal("Rebuild accepted ttl 0")
	}
	if _, ok := c.Get(1); !ok {
		t.Fatal("a refused Rebuild emptied the cache")
	}
	if err := c.Rebuild(5, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(1); ok {
		t.Fatal("hit after Rebuild; want an empty cache")
	}
	if s := c.Stats(); s.Capacity != 5 || s.Hits != 0 || s.Misses != 1 {
		t.Fatalf("stats after Rebuild = %+v; want capacity 5, counters anew", s)
	}
	k, err := NewResultCacheK[int, int](ResultCacheOptions{MaxSize: 10, TTL: time.Hour, Codec: JSONCodec{}})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	_ = k.Set(1, 1, 2)
	if err := k.Rebuild(3, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Get(1, 1); ok {
		t.Fatal("ResultCacheK hit after Rebuild")
	}
	_ = k.Set(1, 1, 2)
	if v, ok := k.Get(1, 1); !ok || v != 2 {
		t.Fatalf("Get after Rebuild = %v, %v", v, ok)
	}
}

func TestResultCacheRebuildConcurrent(t *testing.T) {
	c, _ := NewResultCache[int](ResultCacheOptions{MaxSize: 10, TTL: time.Hour})
	defer c.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ {
			_ = c.Set(uint64(i%7), i)
			c.Get(uint64(i % 5))
		}
	}()
	for i := 0; i < 20; i++ {
		_ = c.Rebuild(5+i, time.Minute)
	}
	<-done
}
