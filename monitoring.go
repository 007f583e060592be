package flujo

import (
	"context"
	"runtime/metrics"
)

// Metrics describes one monitored run; its JSON names are those of the
// feature guide.
type Metrics struct {
	// ExecutionTimeMs is the run's wall time on the executor's clock.
	ExecutionTimeMs float64 `json:"execution_time_ms"`
	// MemoryUsageMb is the live heap, in MiB, when the run ended.
	MemoryUsageMb float64 `json:"memory_usage_mb"`
	// CacheHit reports that at least one step's output came from the cache.
	CacheHit bool `json:"cache_hit"`
	// Attempts counts the step function calls of the run.
	Attempts int `json:"attempts"`
}

// ExecuteWithMonitoring runs like Execute and also returns the run's Metrics.
func (c *ExecutorCore) ExecuteWithMonitoring(ctx context.Context, node Node, input any, opts ...ExecOption) (*PipelineResult, Metrics, error) {
	res, err := c.Execute(ctx, node, input, opts...)
	if res == nil {
		var m Metrics
		return nil, m, err
	}
	return res, RunMetrics(res), err
}

// leafAttempts adds up the attempts of leaf results; a result with a
// fallback already includes its fallback's attempts.
func leafAttempts(steps []StepResult) int {
	n := 0
	for i := range steps {
		s := &steps[i]
		switch {
		case s.FallbackTriggered:
			primary, fb := s.Steps[:len(s.Steps)-1], s.Steps[len(s.Steps)-1:]
			if len(primary) == 0 { // a leaf: its own attempts are the rest
				n += s.Attempts - fb[0].Attempts
			} else {
				n += leafAttempts(primary)
			}
			n += leafAttempts(fb)
		case len(s.Steps) == 0:
			n += s.Attempts
		default:
			n += leafAttempts(s.Steps)
		}
	}
	return n
}

func walkResults(steps []StepResult, f func(*StepResult)) {
	for i := range steps {
		f(&steps[i])
		walkResults(steps[i].Steps, f)
	}
}

// heapBytes reads the bytes of live and not yet swept heap objects.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
