package prometheus_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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
	checkQueryTypes(t, all)
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

// metricTypes returns the type of every family a collector of an
// executor that ran the scenario (a cache, an open breaker, retries)
// exports, by metric name; a histogram's series are named too.
func metricTypes(t *testing.T) map[string]dto.MetricType {
	t.Helper()
	core, clock := newCore(t, scenarioConfig)
	runScenario(t, core, clock)
	reg := prom.NewRegistry()
	reg.MustRegister(flujoprom.MustNewCollector("p", core))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]dto.MetricType{}
	for _, f := range families {
		types[f.GetName()] = f.GetType()
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				types[f.GetName()+s] = dto.MetricType_COUNTER // each series only grows
			}
		}
	}
	return types
}

// checkQueryTypes checks that the dashboard's queries use each metric as
// its type allows: rate() and increase() of counters and histogram series
// only, histogram_quantile() of _bucket series summed by le, and gauges,
// never counters, as they are.
func checkQueryTypes(t *testing.T, queries []string) {
	t.Helper()
	types := metricTypes(t)
	metric := regexp.MustCompile(`\bflujo_[a-z0-9_]+`)
	overTime := regexp.MustCompile(`\b(rate|irate|increase)\(\s*(flujo_[a-z0-9_]+)[^\[]*\[`)
	quantile := regexp.MustCompile(`histogram_quantile\(\s*[0-9.]+\s*,\s*sum by \(([^)]*)\)\s*\(\s*rate\(\s*(flujo_[a-z0-9_]+)`)
	for _, q := range queries {
		if strings.HasPrefix(q, "label_values(") {
			continue
		}
		inRange := map[string]bool{}
		for _, m := range overTime.FindAllStringSubmatch(q, -1) {
			inRange[m[2]] = true
			if typ, ok := types[m[2]]; ok && typ != dto.MetricType_COUNTER {
				t.Errorf("%s(%s) in %q: %s is a %s; rate and increase take counters", m[1], m[2], q, m[2], typ)
			}
		}
		if n := strings.Count(q, "histogram_quantile("); n > 0 {
			ms := quantile.FindAllStringSubmatch(q, -1)
			if len(ms) != n {
				t.Errorf("%q: histogram_quantile must take sum by (..., le) (rate(flujo_..._bucket[...]))", q)
			}
			for _, m := range ms {
				if !strings.HasSuffix(m[2], "_bucket") || !slices.Contains(strings.Fields(strings.ReplaceAll(m[1], ",", " ")), "le") {
					t.Errorf("%q: histogram_quantile of %s summed by (%s); want a _bucket series summed by le", q, m[2], m[1])
				}
			}
		}
		for _, name := range metric.FindAllString(q, -1) {
			if types[name] == dto.MetricType_COUNTER && !inRange[name] {
				t.Errorf("%q uses the counter %s outside rate() or increase()", q, name)
			}
		}
	}
}
