// Package report prints what the examples show of an executor: its live
// counters and its recommendations.
package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/flujo/flujo/runtime"
)

// Source is what the printers read: the ExecutorCore, or any executor with
// the same reporting methods.
type Source interface {
	OptimizationStats() runtime.Stats
	PerformanceRecommendations() []runtime.Recommendation
}

// none is printed when no rule fires.
const none = "none: every counter is within the configured thresholds"

// Stats prints an executor's counters as indented JSON and its
// recommendations, one line each.
func Stats(w io.Writer, src Source) error {
	data, err := json.MarshalIndent(src.OptimizationStats(), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding stats: %w", err)
	}
	fmt.Fprintf(w, "== optimization stats\n%s\n", data)
	fmt.Fprintln(w, "\n== performance recommendations")
	recs := src.PerformanceRecommendations()
	if len(recs) == 0 {
		fmt.Fprintln(w, none)
	}
	for _, r := range recs {
		fmt.Fprintf(w, "[%s] %s: %s (%s)\n", r.Priority, r.ID, r.Description, r.Impact)
	}
	return nil
}

// Recommendations prints each recommendation with the exact configuration
// change it makes.
func Recommendations(w io.Writer, recs []runtime.Recommendation) {
	if len(recs) == 0 {
		fmt.Fprintln(w, none)
	}
	for _, r := range recs {
		fmt.Fprintf(w, "[%s] %s: %s\n", r.Priority, r.ID, r.Description)
		c := r.Change
		if c.Field == "" {
			fmt.Fprintf(w, "    no configuration change: %s\n", r.Impact)
			continue
		}
		how := "apply with ImportConfig; compiled into generated executors"
		if r.Automatic {
			how = "run-time field: the auto-tuner may apply it"
		}
		fmt.Fprintf(w, "    change %s: %s -> %s (%s). %s\n", c.Field, value(c.Current), value(c.Recommended), how, r.Impact)
	}
}

// value renders a configuration value; nil is an unset field.
func value(v any) string {
	if v == nil {
		return "unset"
	}
	return fmt.Sprint(v)
}
