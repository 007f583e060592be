package prometheus_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"

	flujoprom "github.com/flujo/flujo/contrib/prometheus"
)

// exportedNames returns the metric names c describes, and the names of
// the series its histograms expose.
func exportedNames(t *testing.T, c prom.Collector) map[string]bool {
	t.Helper()
	ch := make(chan *prom.Desc)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		names[m[1]] = true
		if strings.HasSuffix(m[1], "_seconds") {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+s] = true
			}
		}
	}
	return names
}

// exprs returns every "expr" and "query"/"definition" string of the
// dashboard, wherever it is nested.
func exprs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "definition") {
				*out = append(*out, s)
			}
			exprs(x, out)
		}
	case []any:
		for _, x := range v {
			exprs(x, out)
		}
	}
}

func TestDashboardUsesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile("grafana/flujo-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana/flujo-dashboard.json is not JSON: %v", err)
	}
	core, _ := newCore(t, nil)
	names := exportedNames(t, flujoprom.MustNewCollector("p", core))

	var all []string
	exprs(dash, &all)
	if len(all) < 20 {
		t.Fatalf("found %d queries in the dashboard, want at least 20", len(all))
	}
	metric := regexp.MustCompile(`\bflujo_[a-z0-9_]+`)
	used := map[string]bool{}
	for _, e := range all {
		for _, m := range metric.FindAllString(e, -1) {
			used[m] = true
			if !names[m] {
				t.Errorf("the dashboard queries %s, which the collector does not export (in %q)", m, e)
			}
		}
	}
	for _, must := range []string{"flujo_runs_total", "flujo_step_duration_seconds_bucket", "flujo_run_duration_seconds_bucket",
		"flujo_cache_hits_total", "flujo_breaker_state", "flujo_limiter_limit", "flujo_limiter_in_flight"} {
		if !used[must] {
			t.Errorf("the dashboard has no panel on %s", must)
		}
	}
	panels, _ := dash["panels"].([]any)
	for _, p := range panels {
		p := p.(map[string]any)
		if p["type"] == "row" {
			continue
		}
		if targets, _ := p["targets"].([]any); len(targets) == 0 {
			t.Errorf("panel %q has no query", p["title"])
		}
	}
}

func TestMetricsDocListsEveryMetric(t *testing.T) {
	b, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	core, _ := newCore(t, nil)
	for name := range exportedNames(t, flujoprom.MustNewCollector("p", core)) {
		if strings.HasSuffix(name, "_bucket") || strings.HasSuffix(name, "_sum") || strings.HasSuffix(name, "_count") {
			continue
		}
		if !strings.Contains(string(b), "| `"+name+"` |") {
			t.Errorf("docs/metrics.md does not list %s", name)
		}
	}
}
