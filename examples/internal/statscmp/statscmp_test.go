package statscmp

import (
	"strings"
	"testing"

	"github.com/flujo/flujo/runtime"
)

func TestPrintMarksAndExplainsDifferences(t *testing.T) {
	a := runtime.Stats{Steps: map[string]runtime.StatsStep{"s": {}}}
	a.Execution.Count, a.Execution.P50Ms, a.Execution.P99Ms = 3, 1, 2
	a.Errors.Executions = 5
	a.Cache.Hits, a.Cache.Misses = 12, 8
	b := a
	b.Execution.P50Ms = 1.5
	b.Cache.Hits, b.Cache.Misses = 13, 7
	var out strings.Builder
	Print(&out, Engine{"left", a, 3}, Engine{"right", b, 3})
	text := out.String()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if h := strings.Fields(lines[0]); len(h) != 2 || h[0] != "left" || h[1] != "right" {
		t.Errorf("header %q, want the two names", lines[0])
	}
	marked := map[string]string{}
	for _, l := range lines[1:6] {
		f := strings.Fields(l)
		if m := f[len(f)-1]; m == Measured || m == Scheduled || m == Unexpected {
			marked[strings.SplitN(l, "  ", 2)[0]] = m
		}
	}
	want := map[string]string{"run latency p50 / p99": Measured, "cache": Scheduled}
	if len(marked) != len(want) || marked["run latency p50 / p99"] != Measured || marked["cache"] != Scheduled {
		t.Errorf("marked rows %v, want %v in\n%s", marked, want, text)
	}
	legend := lines[6:]
	if len(legend) != 2 || !strings.HasPrefix(legend[0], Measured+" ") || !strings.HasPrefix(legend[1], Scheduled+" ") ||
		!strings.Contains(legend[1], "docs/semantics.md") {
		t.Errorf("legend %q, want one line for each mark shown, in order", legend)
	}
}

func TestPrintWithoutDifferencesHasNoLegend(t *testing.T) {
	s := runtime.Stats{Steps: map[string]runtime.StatsStep{"s": {CircuitBreaker: runtime.StatsBreaker{Opens: 1, Rejections: 2, State: runtime.StatsBreakerOpen}}, "t": {}}}
	s.Execution.Count = 4
	var out strings.Builder
	Print(&out, Engine{"left", s, 2}, Engine{"right", s, 2})
	text := out.String()
	if n := strings.Count(text, "\n"); n != 6 {
		t.Errorf("%d lines, want a header and 5 rows:\n%s", n, text)
	}
	for _, want := range []string{"4, 2 succeeded (50%)", "no lookups", "1 open, 1 closed; 1 opening, 2 calls rejected"} {
		if strings.Count(text, want) != 2 {
			t.Errorf("output lacks %q in both columns:\n%s", want, text)
		}
	}
	for _, m := range []string{Measured, Scheduled, Unexpected} {
		if strings.Contains(text, " "+m+"\n") {
			t.Errorf("mark %q without a difference:\n%s", m, text)
		}
	}
}

func TestCountersMarkOnlyTheCacheAsScheduled(t *testing.T) {
	a := runtime.Stats{Steps: map[string]runtime.StatsStep{"s": {Errors: runtime.StatsErrors{Executions: 2}}}}
	a.Execution.Count, a.Execution.P99Ms = 2, 1
	a.Cache.Hits, a.Cache.Misses = 1, 1
	b := a.Clone()
	b.Execution.P99Ms = 9 // measured: not a counter
	b.Cache.Hits, b.Cache.Misses = 0, 2
	b.Steps["s"] = runtime.StatsStep{Errors: runtime.StatsErrors{Executions: 2, Failures: 1}}
	marks := map[string]string{}
	for _, r := range Counters(a, b) {
		if (r.Mark != "") != (r.Left != r.Right) {
			t.Errorf("%s: %q vs %q marked %q", r.Name, r.Left, r.Right, r.Mark)
		}
		if r.Mark != "" {
			marks[r.Name] = r.Mark
		}
	}
	if len(marks) != 2 || marks["cache hits/misses"] != Scheduled || marks["step s"] != Unexpected {
		t.Errorf("marks %v, want the cache scheduled and step s unexpected", marks)
	}
}
