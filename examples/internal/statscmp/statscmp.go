// Package statscmp prints the counters of two executors' OptimizationStats
// side by side: the examples run their pipeline on the ExecutorCore and on
// the executor flujogen generated from the same declaration.
package statscmp

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/flujo/flujo/runtime"
)

// Row is one counter of both executors.
type Row struct {
	Name        string
	Left, Right string
}

// Rows returns the counters of a and b that both executors keep: runs,
// step executions and failures, retries, cache, breakers, concurrency and
// telemetry, then each step's executions and failures.
func Rows(a, b runtime.Stats) []Row {
	var rows []Row
	add := func(name string, x, y any) {
		rows = append(rows, Row{name, fmt.Sprint(x), fmt.Sprint(y)})
	}
	add("runs", a.Execution.Count, b.Execution.Count)
	add("slow runs", a.Execution.Slow, b.Execution.Slow)
	add("step executions", a.Errors.Executions, b.Errors.Executions)
	add("step failures", a.Errors.Failures, b.Errors.Failures)
	add("retries", a.Errors.Retries, b.Errors.Retries)
	add("recoveries", fmt.Sprintf("%d/%d", a.Errors.Recoveries, a.Errors.RecoveryAttempts), fmt.Sprintf("%d/%d", b.Errors.Recoveries, b.Errors.RecoveryAttempts))
	add("skipped retries", a.Errors.SkippedRetries, b.Errors.SkippedRetries)
	add("cache hits/misses", fmt.Sprintf("%d/%d", a.Cache.Hits, a.Cache.Misses), fmt.Sprintf("%d/%d", b.Cache.Hits, b.Cache.Misses))
	opens := func(s runtime.Stats) (n uint64) {
		for _, st := range s.Steps {
			n += st.CircuitBreaker.Opens
		}
		return n
	}
	rejections := func(s runtime.Stats) (n uint64) {
		for _, st := range s.Steps {
			n += st.CircuitBreaker.Rejections
		}
		return n
	}
	add("breaker opens", opens(a), opens(b))
	add("breaker rejections", rejections(a), rejections(b))
	add("concurrency limit/max", fmt.Sprintf("%d/%d", a.Concurrency.Limit, a.Concurrency.Max), fmt.Sprintf("%d/%d", b.Concurrency.Limit, b.Concurrency.Max))
	add("telemetry events", a.Telemetry.Recorded, b.Telemetry.Recorded)
	names := map[string]bool{}
	for n := range a.Steps {
		names[n] = true
	}
	for n := range b.Steps {
		names[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		x, y := a.Steps[n], b.Steps[n]
		add("  "+n, fmt.Sprintf("%d runs, %d failed", x.Errors.Executions, x.Errors.Failures),
			fmt.Sprintf("%d runs, %d failed", y.Errors.Executions, y.Errors.Failures))
	}
	return rows
}

// Print writes Rows(a, b) as a table headed by the executors' names.
func Print(w io.Writer, left, right string, a, b runtime.Stats) {
	rows := Rows(a, b)
	width, lw := len("counter"), len(left)
	for _, r := range rows {
		width, lw = max(width, len(r.Name)), max(lw, len(r.Left))
	}
	fmt.Fprintf(w, "%-*s  %-*s  %s\n", width, "counter", lw, left, right)
	for _, r := range rows {
		mark := ""
		if r.Left != r.Right {
			mark = "  *"
		}
		fmt.Fprintf(w, "%-*s  %-*s  %s%s\n", width, r.Name, lw, r.Left, r.Right, mark)
	}
}
