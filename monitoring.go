package flujo

import (
	"context"

	"github.com/flujo/flujo/internal/kernel"
	"github.com/flujo/flujo/runtime"
)

// Metrics describes one monitored run; its JSON names are those of the
// feature guide.
type Metrics = runtime.Metrics

// ExecuteWithMonitoring runs like Execute and also returns the run's Metrics.
func (c *ExecutorCore) ExecuteWithMonitoring(ctx context.Context, node Node, input any, opts ...ExecOption) (*PipelineResult, Metrics, error) {
	res, err := c.Execute(ctx, node, input, opts...)
	if res == nil {
		var m Metrics
		return nil, m, err
	}
	return res, kernel.RunMetrics(res), err
}
