package bench

import (
	"context"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/bench/internal/genexec/defaults"
	"github.com/flujo/flujo/internal/sharedtest"
)

// BenchmarkSharedBreaker measures the closed breaker path of a generated
// one-step executor with breaker sharing on (an in-memory store standing
// in for Redis) against sharing off: a closed breaker never calls the
// store, so the two should cost the same.
func BenchmarkSharedBreaker(b *testing.B) {
	ctx := context.Background()
	for _, v := range []struct {
		name string
		opts []flujo.CoreOption
	}{
		{"off", nil},
		{"on", []flujo.CoreOption{flujo.WithShared(sharedtest.New().Replica())}},
	} {
		b.Run("closed/"+v.name, func(b *testing.B) {
			e, err := defaults.NewOneExecutor(v.opts...)
			if err != nil {
				b.Fatal(err)
			}
			genExecClose(b, e)
			if st := e.OptimizationStats(); st.Config.EnableCircuitBreaker != true {
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
}
