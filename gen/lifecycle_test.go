package gen

import (
	"context"
	"errors"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/flujotest"
	"github.com/flujo/flujo/gen/testdata/equiv/breaker"
	"go.uber.org/goleak"
)

// TestGeneratedLifecycleOptions: a generated executor takes WithLogger(nil)
// and nil options as the ExecutorCore does, and refuses ImportConfig after
// Close with flujo.ErrClosed, changing nothing.
func TestGeneratedLifecycleOptions(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	var none flujo.CoreOption
	e, err := breaker.NewBreakerFailExecutor(flujo.WithLogger(nil), none)
	if err != nil {
		t.Fatal(err)
	}
	job := flujotest.Job{Name: "j", Calls: flujotest.NewCalls()}
	threshold := e.OptimizationConfig().CircuitBreakerFailureThreshold
	for range threshold + 1 {
		if _, err := e.ExecuteResult(ctx, job, nil); err == nil {
			t.Fatal("a failing step succeeded")
		}
	}
	if s := e.OptimizationStats().Steps["fail"].CircuitBreaker; s.Opens != 1 || s.Rejections != 1 {
		t.Errorf("breaker: %+v, want one open and one rejection", s)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	before := e.OptimizationConfig()
	if err := e.ImportConfig([]byte(`{"slow_execution_threshold_ms": 5}`), "json"); !errors.Is(err, flujo.ErrClosed) {
		t.Fatalf("ImportConfig after Close: %v, want flujo.ErrClosed", err)
	}
	if !e.OptimizationConfig().Equal(before) {
		t.Error("a refused ImportConfig changed the configuration")
	}
	if _, err := e.Execute(ctx, job); !errors.Is(err, flujo.ErrClosed) {
		t.Errorf("Execute after Close: %v", err)
	}
}
