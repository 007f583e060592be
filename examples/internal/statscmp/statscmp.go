// Package statscmp prints the key figures of two executors side by side:
// the examples run their pipeline on the ExecutorCore and on the executor
// flujogen generated from the same declaration. The table is also the
// examples' key statistics, so it stays short: runs and their success rate,
// latency percentiles, step executions, retries, cache and breakers. Every
// mark it prints is explained in a legend line under it.
package statscmp

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/flujo/flujo/examples/internal/report"
	"github.com/flujo/flujo/runtime"
)

// Engine is one executor's figures.
type Engine struct {
	// Name heads the executor's column.
	Name string
	// Stats is the executor's OptimizationStats after the example's runs.
	Stats runtime.Stats
	// Succeeded counts the runs that returned a result, as the example
	// counted them; Stats.Execution.Count is the number of runs.
	Succeeded int
}

// Marks a row may carry in its last column, each with the legend line that
// explains it.
const (
	// Measured marks a latency that differs: it is measured, not counted.
	Measured = "~"
	// Scheduled marks cache figures that differ: concurrent executions of
	// a cached step race for its entries.
	Scheduled = "*"
	// Unexpected marks any other figure that differs, which the engines
	// must agree on.
	Unexpected = "!"
)

// legends explains each mark; Print writes the lines of the marks used.
var legends = map[string]string{
	Measured:   Measured + " measured latency: it varies from run to run on either engine.",
	Scheduled:  Scheduled + " cached steps ran concurrently: two executions that look up the same uncached key at once both miss, so the split of hits and misses depends on scheduling, on either engine (docs/semantics.md, \"Where the engines may differ\").",
	Unexpected: Unexpected + " a counted figure that differs: the engines must agree on it (docs/semantics.md), so this is a bug to report.",
}

// Row is one figure of both executors and its mark, empty when they agree.
type Row struct {
	Name        string
	Left, Right string
	Mark        string
}

// Rows returns the key figures of a and b, the rows Print shows.
func Rows(a, b Engine) []Row {
	var rows []Row
	add := func(name, x, y, ifDiffer string) {
		r := Row{Name: name, Left: x, Right: y}
		if x != y {
			r.Mark = ifDiffer
		}
		rows = append(rows, r)
	}
	f := func(fn func(Engine) string) (string, string) { return fn(a), fn(b) }
	x, y := f(func(e Engine) string {
		n := e.Stats.Execution.Count
		return fmt.Sprintf("%d, %d succeeded (%s)", n, e.Succeeded, percent(uint64(e.Succeeded), n))
	})
	add("runs", x, y, Unexpected)
	x, y = f(func(e Engine) string {
		ex := e.Stats.Execution
		return fmt.Sprintf("%s / %s", ms(ex.P50Ms), ms(ex.P99Ms))
	})
	add("run latency p50 / p99", x, y, Measured)
	x, y = f(func(e Engine) string {
		er := e.Stats.Errors
		return fmt.Sprintf("%d, %d failed; %d retries", er.Executions, er.Failures, er.Retries)
	})
	add("step executions", x, y, Unexpected)
	x, y = f(func(e Engine) string {
		c := e.Stats.Cache
		if c.Lookups() == 0 {
			return "no lookups"
		}
		return fmt.Sprintf("%d hits / %d misses (%s)", c.Hits, c.Misses, percent(c.Hits, c.Lookups()))
	})
	add("cache", x, y, Scheduled)
	x, y = f(func(e Engine) string { return breakers(e.Stats) })
	add("circuit breakers", x, y, Unexpected)
	return rows
}

// Counters returns every counter both executors keep, the figures the
// engines must agree on run by run: runs, step executions and failures,
// retries and recoveries, cache, breakers, concurrency and telemetry, then
// each step's executions and failures. Rows whose values differ carry the
// mark Print would give them: Scheduled for the cache, Unexpected for the
// rest.
func Counters(a, b runtime.Stats) []Row {
	var rows []Row
	add := func(name string, x, y any) {
		r := Row{Name: name, Left: fmt.Sprint(x), Right: fmt.Sprint(y)}
		if r.Left != r.Right {
			r.Mark = Unexpected
			if name == "cache hits/misses" {
				r.Mark = Scheduled
			}
		}
		rows = append(rows, r)
	}
	add("runs", a.Execution.Count, b.Execution.Count)
	add("step executions", a.Errors.Executions, b.Errors.Executions)
	add("step failures", a.Errors.Failures, b.Errors.Failures)
	add("retries", a.Errors.Retries, b.Errors.Retries)
	add("recoveries", fmt.Sprintf("%d/%d", a.Errors.Recoveries, a.Errors.RecoveryAttempts), fmt.Sprintf("%d/%d", b.Errors.Recoveries, b.Errors.RecoveryAttempts))
	add("skipped retries", a.Errors.SkippedRetries, b.Errors.SkippedRetries)
	add("cache hits/misses", fmt.Sprintf("%d/%d", a.Cache.Hits, a.Cache.Misses), fmt.Sprintf("%d/%d", b.Cache.Hits, b.Cache.Misses))
	ba, bb := a.BreakerSummary(), b.BreakerSummary()
	add("breaker opens", ba.Opens, bb.Opens)
	add("breaker rejections", ba.Rejections, bb.Rejections)
	add("breaker states", breakers(a), breakers(b))
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
		add("step "+n, fmt.Sprintf("%d runs, %d failed", x.Errors.Executions, x.Errors.Failures),
			fmt.Sprintf("%d runs, %d failed", y.Errors.Executions, y.Errors.Failures))
	}
	return rows
}

// Print writes Rows(a, b) as a table, then one legend line for each mark
// the table shows.
func Print(w io.Writer, a, b Engine) {
	rows := Rows(a, b)
	table := [][]string{{"", a.Name, b.Name, ""}}
	var marks []string
	for _, r := range rows {
		table = append(table, []string{r.Name, r.Left, r.Right, r.Mark})
		if r.Mark != "" && !slices.Contains(marks, r.Mark) {
			marks = append(marks, r.Mark)
		}
	}
	report.Table(w, table)
	for _, m := range marks {
		fmt.Fprintln(w, legends[m])
	}
}

// breakers summarises the steps' circuit breakers: how many are in each
// state, then how often they opened and rejected a call.
func breakers(s runtime.Stats) string {
	b := s.BreakerSummary()
	var states []string
	for _, st := range []struct {
		n    int
		name string
	}{{b.Open, "open"}, {b.HalfOpen, "half-open"}, {b.Closed, "closed"}} {
		if st.n > 0 {
			states = append(states, fmt.Sprintf("%d %s", st.n, st.name))
		}
	}
	if len(states) == 0 {
		return "none"
	}
	if b.Opens == 0 && b.Rejections == 0 {
		return strings.Join(states, ", ") + ", never opened"
	}
	return fmt.Sprintf("%s; %s, %s rejected", strings.Join(states, ", "),
		report.Count(int(b.Opens), "opening", "openings"), report.Count(int(b.Rejections), "call", "calls"))
}

// percent renders n of total as a whole percentage.
func percent(n, total uint64) string {
	if total == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(total))
}

// ms renders milliseconds with a precision that suits their size.
func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}
