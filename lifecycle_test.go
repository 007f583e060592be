package flujo

import (
	"context"
	"errors"
	"testing"

	"github.com/flujo/flujo/runtime"
	"go.uber.org/goleak"
)

// An ImportConfig after Close would build components (a resource manager,
// telemetry) that nothing stops any more.
func TestImportConfigAfterCloseIsRefused(t *testing.T) {
	defer goleak.VerifyNone(t)
	c, err := NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		t.Fatal(err)
	}
	before := c.OptimizationConfig()
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	doc := []byte(`{"memory_pressure_threshold_mb": 100, "telemetry_batch_size": 3, "enable_automatic_optimization": true}`)
	if err := c.ImportConfig(doc, "json"); !errors.Is(err, ErrClosed) {
		t.Fatalf("ImportConfig after Close: %v, want ErrClosed", err)
	}
	if !c.OptimizationConfig().Equal(before) {
		t.Error("a refused ImportConfig changed the configuration")
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// WithLogger(nil) once made the executor panic when it first logged, e.g.
// when a breaker opened in the middle of a run.
func TestNilLoggerAndNilOptions(t *testing.T) {
	defer goleak.VerifyNone(t)
	failing := Step("failing", func(_ context.Context, n int) (int, error) { return 0, errors.New("down") }, Retries(0))
	var none CoreOption
	c, err := NewExecutorCore(runtime.DefaultOptimizationConfig(), WithLogger(nil), none)
	if err != nil {
		t.Fatal(err)
	}
	threshold := c.OptimizationConfig().CircuitBreakerFailureThreshold
	for range threshold + 1 {
		if _, err := c.Execute(context.Background(), failing, 1, nil); err == nil {
			t.Fatal("a failing step succeeded")
		}
	}
	if s := c.OptimizationStats().Steps["failing"].CircuitBreaker; s.Opens != 1 || s.Rejections != 1 {
		t.Errorf("breaker: %+v, want one open and one rejection", s)
	}
	if err := c.ImportConfig([]byte(`{"cache_max_size": 10}`), "json"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
