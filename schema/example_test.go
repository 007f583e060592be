package schema_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/flujo/flujo/schema"
)

func ExampleParse() {
	doc := `{
  "optimization": {
    "telemetry_batch_size": 0,
    "enable_objectpool": true
  },
  "steps": {"triage.classify": {"retries": 2, "timeout": "200ms"}}
}`
	_, err := schema.Parse("flujo.json", []byte(doc))
	var se *schema.Error
	if errors.As(err, &se) {
		for _, p := range se.Problems {
			fmt.Println(p)
		}
	}

	cfg, err := schema.Parse("flujo.json", []byte(`{"steps": {"triage.classify": {"retries": 2, "timeout": "200ms"}}}`))
	if err != nil {
		panic(err)
	}
	o, _ := cfg.Step("triage", "classify")
	fmt.Println(*o.Retries, time.Duration(*o.Timeout))
	fmt.Println(cfg.Optimization.TelemetryBatchSize, cfg.Output)
	// Output:
	// flujo.json:3:29: /optimization/telemetry_batch_size: must be >= 1, got 0
	// flujo.json:4:5: /optimization/enable_objectpool: unknown field (did you mean enable_object_pool?)
	// 2 200ms
	// 10 flujo_gen.go
}
