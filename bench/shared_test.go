package bench

import (
	"context"
	"errors"
	"github.com/flujo/flujo"
	"github.com/flujo/flujo/bench/internal/genexec/defaults"
	"github.com/flujo/flujo/internal/sharedtest"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/sony/gobreaker/v2"

	"github.com/flujo/flujo/contrib/redis"
	"github.com/flujo/flujo/contrib/redis/redistest"
	"github.com/flujo/flujo/runtime"
)

// The shared-state benchmarks run against a real redis-server on
// 127.0.0.1 (redistest skips them when it is missing).

func newSharedStore(b *testing.B, srv *redistest.Server) *redis.Store {
	cfg := runtime.DefaultDistributedConfig()
	cfg.Address = srv.Addr
	cfg.KeyPrefix = "bench:"
	s, err := redis.New(context.Background(), cfg, redis.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	if !s.Stats().Healthy {
		b.Fatalf("store unhealthy: %s", s.Stats().LastError)
	}
	return s
}

// BenchmarkSharedCacheGet compares a second-level cache hit on Redis
// (flujo: the store's Get, bounded by the command timeout and counted)
// with the same GET and PTTL on a bare rueidis client, and with the 1 ms
// step a hit saves.
func BenchmarkSharedCacheGet(b *testing.B) {
	srv := redistest.Start(b)
	store := newSharedStore(b, srv)
	cache := store.Shared().Cache
	ctx := context.Background()
	val := make([]byte, 256)
	if err := cache.Set(ctx, "bench:c:hit", val, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.Run("flujo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, ok, err := cache.Get(ctx, "bench:c:hit"); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("rueidis", func(b *testing.B) {
		cl, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		b.ReportAllocs()
		for b.Loop() {
			cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			res := cl.DoMulti(cctx, cl.B().Get().Key("bench:c:hit").Build(), cl.B().Pttl().Key("bench:c:hit").Build())
			_, err := res[0].AsBytes()
			cancel()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("step-1ms", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			time.Sleep(time.Millisecond)
		}
	})
	// 64 goroutines a processor: auto-pipelining batches their commands.
	b.Run("parallel/flujo", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(64)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, ok, err := cache.Get(ctx, "bench:c:hit"); !ok || err != nil {
					b.Error(ok, err)
					return
				}
			}
		})
	})
}

// rueidisBreakerStore is gobreaker's SharedDataStore on Redis: a lock
// (SET NX PX), its release, and the breaker's state as a string.
type rueidisBreakerStore struct{ cl rueidis.Client }

var errLocked = errors.New("gobreaker lock held")

func (s rueidisBreakerStore) Lock(name string) error {
	err := s.cl.Do(context.Background(), s.cl.B().Set().Key(name).Value("1").Nx().PxMilliseconds(5000).Build()).Error()
	if rueidis.IsRedisNil(err) {
		return errLocked
	}
	return err
}

func (s rueidisBreakerStore) Unlock(name string) error {
	return s.cl.Do(context.Background(), s.cl.B().Del().Key(name).Build()).Error()
}

func (s rueidisBreakerStore) GetData(name string) ([]byte, error) {
	v, err := s.cl.Do(context.Background(), s.cl.B().Get().Key(name).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	return v, err
}

func (s rueidisBreakerStore) SetData(name string, data []byte) error {
	return s.cl.Do(context.Background(), s.cl.B().Set().Key(name).Value(rueidis.BinaryString(data)).Build()).Error()
}

// BenchmarkSharedBreaker compares the closed path of a breaker whose state
// the replicas share. off, memory and redis run the generated one-step
// executor (bench/internal/genexec/defaults) with breaker sharing off, on an
// in-memory store, and on Redis through contrib/redis: a closed breaker
// never calls the store (transitions are published on state changes
// only), so the three should cost the same. gobreaker-distributed:
// gobreaker v2's DistributedCircuitBreaker on Redis, which reads, locks,
// writes and unlocks the shared state around every call. gobreaker: the
// same breaker unshared, for scale.
func BenchmarkSharedBreaker(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	for _, v := range []struct {
		name   string
		shared func(b *testing.B) []flujo.CoreOption
	}{
		{"off", func(*testing.B) []flujo.CoreOption { return nil }},
		{"memory", func(*testing.B) []flujo.CoreOption {
			return []flujo.CoreOption{flujo.WithShared(sharedtest.New().Replica())}
		}},
		{"redis", func(b *testing.B) []flujo.CoreOption {
			return []flujo.CoreOption{flujo.WithShared(newSharedStore(b, srv).Shared())}
		}},
	} {
		b.Run("closed/flujo-"+v.name, func(b *testing.B) {
			e, err := defaults.NewOneExecutor(v.shared(b)...)
			if err != nil {
				b.Fatal(err)
			}
			genExecClose(b, e)
			if st := e.OptimizationStats(); !st.Config.EnableCircuitBreaker {
				b.Fatal("the executor has no breaker")
			}
			b.ReportAllocs()
			x := 0
			for b.Loop() {
				if x, err = e.Execute(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("closed/gobreaker-distributed", func(b *testing.B) {
		cl, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		cb, err := gobreaker.NewDistributedCircuitBreaker[int](rueidisBreakerStore{cl}, gobreakerSettings())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		x := 0
		for b.Loop() {
			if x, err = cb.Execute(func() (int, error) { return benchStep(ctx, x) }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("closed/gobreaker", func(b *testing.B) {
		cb := gobreaker.NewCircuitBreaker[int](gobreakerSettings())
		b.ReportAllocs()
		x := 0
		var err error
		for b.Loop() {
			if x, err = cb.Execute(func() (int, error) { return benchStep(ctx, x) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}
