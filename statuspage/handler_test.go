package statuspage_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/statuspage"
)

var _ statuspage.Source = (*flujo.ExecutorCore)(nil)

// fixed is a Source with a fixed snapshot.
type fixed struct {
	stats runtime.Stats
	recs  []runtime.Recommendation
}

func (f fixed) OptimizationStats() runtime.Stats                     { return f.stats }
func (f fixed) PerformanceRecommendations() []runtime.Recommendation { return f.recs }

func sample() fixed {
	s := runtime.Stats{
		Execution:   runtime.StatsExecution{Count: 12, P50Ms: 1.5, P95Ms: 4.25, P99Ms: 130, MaxMs: 1500},
		Cache:       runtime.StatsCache{Hits: 3, Misses: 1},
		Concurrency: runtime.StatsConcurrency{Level: 2, Limit: 8, Max: 64, Waiting: 1, Rejected: 5},
		Memory:      runtime.StatsMemory{UsageMB: 42.5, PressureLevel: runtime.StatsPressureHigh},
		CPU:         runtime.StatsCPU{UsagePercent: 12.5},
		Errors:      runtime.StatsErrors{Executions: 30, Failures: 3, Retries: 2},
		Steps: map[string]runtime.StatsStep{
			"retrieve": {
				Execution: runtime.StatsExecution{Count: 10, P50Ms: 0.5, P95Ms: 0.75, P99Ms: 0.9},
				Errors:    runtime.StatsErrors{Executions: 10},
				Cache:     runtime.StatsCache{Hits: 3, Misses: 1},
			},
			"generate": {
				Execution:      runtime.StatsExecution{Count: 10, P50Ms: 12, P95Ms: 250.25, P99Ms: 2500},
				Errors:         runtime.StatsErrors{Executions: 10, Failures: 3, Retries: 2},
				CircuitBreaker: runtime.StatsBreaker{State: runtime.StatsBreakerOpen, Opens: 1, Rejections: 2},
			},
			"parse": {Errors: runtime.StatsErrors{Executions: 10}},
		},
	}
	recs := []runtime.Recommendation{
		{ID: "cache-low-hit-rate", Priority: runtime.PriorityMedium, Description: "The cache hit rate is 20%.", Impact: "Fewer misses.",
			Automatic: true, Change: runtime.ConfigChange{Field: "cache_max_size", Current: 100, Recommended: 200}},
		{ID: "advice", Priority: runtime.PriorityLow, Description: "Something was seen.", Impact: "Something improves."},
	}
	return fixed{s, recs}
}

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

var (
	cellEnd = regexp.MustCompile(`</t[dh]>`)
	tag     = regexp.MustCompile(`<[^>]*>`)
)

// text strips the tags of an HTML fragment and collapses white space, to
// compare what a reader sees.
func text(html string) string {
	return strings.Join(strings.Fields(tag.ReplaceAllString(cellEnd.ReplaceAllString(html, " "), "")), " ")
}

func TestHTML(t *testing.T) {
	rec := get(t, statuspage.Handler(sample()), http.MethodGet, "/debug/flujo")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	body := rec.Body.String()
	rows := regexp.MustCompile(`(?s)<tr data-step="([^"]*)">(.*?)</tr>`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, r := range rows {
		got = append(got, r[1]+": "+text(r[2]))
	}
	want := []string{
		"generate: generate 10 3 70% 12.0 ms 250.2 ms 2500 ms – open",
		"parse: parse 10 0 100% 0 ms 0 ms 0 ms – closed",
		"retrieve: retrieve 10 0 100% 0.50 ms 0.75 ms 0.90 ms 75% closed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("step rows (-want +got):\n%s", diff)
	}
	seen := text(body)
	for _, s := range []string{
		"flujo status",
		"Runs 12",
		"Run latency p50 / p95 / p99 1.50 ms / 4.25 ms / 130.0 ms",
		"Step failures 3",
		"Success rate 90%",
		"Cache hit rate 75% (3 hits, 1 misses)",
		"Circuit breakers open: 2 closed, 0 half-open, 1 open; 1 opens, 2 rejections",
		"In flight / limit 2 / 8",
		"Cap 64", "Waiting 1", "Rejected 5",
		"Pressure high", "Usage 42.5 MB", "CPU 12.5%",
		"medium The cache hit rate is 20%. Fewer misses. Change cache_max_size from 100 to 200. The auto-tuner may apply this change.",
		"low Something was seen. Something improves.",
	} {
		if !strings.Contains(seen, s) {
			t.Errorf("page lacks %q:\n%s", s, seen)
		}
	}
	if strings.Contains(seen, "Something improves. Change") || strings.Contains(body, "<script") {
		t.Errorf("page has a change for advice, or a script:\n%s", body)
	}
}

func TestJSON(t *testing.T) {
	src := sample()
	rec := get(t, statuspage.Handler(src), http.MethodGet, "/debug/flujo?format=json")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	var got statuspage.Status
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := statuspage.Status{
		Totals: statuspage.Totals{
			Runs:       12,
			RunLatency: statuspage.Latency{P50Ms: 1.5, P95Ms: 4.25, P99Ms: 130, MaxMs: 1500},
			Executions: 30, Failures: 3, SuccessRate: 0.9, Retries: 2,
			Cache:    statuspage.Cache{Hits: 3, Misses: 1, HitRate: 0.75},
			Breakers: statuspage.Breakers{State: "open", Closed: 2, Open: 1, Opens: 1, Rejections: 2},
		},
		Steps: []statuspage.Step{
			{Name: "generate", Executions: 10, Failures: 3, SuccessRate: 0.7, Retries: 2,
				Latency: statuspage.Latency{P50Ms: 12, P95Ms: 250.25, P99Ms: 2500},
				Breaker: statuspage.Breaker{State: "open", Opens: 1, Rejections: 2}},
			{Name: "parse", Executions: 10, SuccessRate: 1, Breaker: statuspage.Breaker{State: "closed"}},
			{Name: "retrieve", Executions: 10, SuccessRate: 1,
				Latency: statuspage.Latency{P50Ms: 0.5, P95Ms: 0.75, P99Ms: 0.9},
				Cache:   statuspage.Cache{Hits: 3, Misses: 1, HitRate: 0.75},
				Breaker: statuspage.Breaker{State: "closed"}},
		},
		Limiter: statuspage.Limiter{InFlight: 2, Limit: 8, Max: 64, Waiting: 1, Rejected: 5, Saturation: 0.25},
		Memory:  statuspage.Memory{UsageMB: 42.5, Pressure: "high", CPUPercent: 12.5},
		Recommendations: []statuspage.Recommendation{
			{ID: "cache-low-hit-rate", Priority: "medium", Description: "The cache hit rate is 20%.", Impact: "Fewer misses.",
				Automatic: true, Change: &statuspage.Change{Field: "cache_max_size", Current: 100.0, Recommended: 200.0}},
			{ID: "advice", Priority: "low", Description: "Something was seen.", Impact: "Something improves."},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	// The JSON names are the documented ones.
	var raw map[string]any
	if err := json.Unmarshal(get(t, statuspage.Handler(src), http.MethodGet, "/?format=json").Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	step := raw["steps"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "executions", "failures", "success_rate", "retries", "latency", "cache", "breaker"} {
		if _, ok := step[k]; !ok {
			t.Errorf("step %v lacks %q", step, k)
		}
	}
	if _, ok := raw["recommendations"].([]any)[1].(map[string]any)["change"]; ok {
		t.Errorf("advice without a change has a change: %v", raw["recommendations"])
	}
}

// TestDeterministic: the same snapshot gives the same bytes, whatever
// the order of the map of steps.
func TestDeterministic(t *testing.T) {
	for _, target := range []string{"/", "/?format=json"} {
		first := get(t, statuspage.Handler(sample()), http.MethodGet, target).Body.String()
		for range 20 {
			if again := get(t, statuspage.Handler(sample()), http.MethodGet, target).Body.String(); again != first {
				t.Fatalf("%s differs between two renderings of one snapshot:\n%s\n%s", target, first, again)
			}
		}
	}
}

func TestEscapesStepNames(t *testing.T) {
	const name = `<script>alert("x")</script>&"'`
	src := fixed{stats: runtime.Stats{Steps: map[string]runtime.StatsStep{name: {Errors: runtime.StatsErrors{Executions: 1}}}},
		recs: []runtime.Recommendation{{ID: "x", Priority: runtime.PriorityHigh, Description: "Step " + name + " is slow.", Impact: "<b>bold</b>"}}}
	body := get(t, statuspage.Handler(src), http.MethodGet, "/").Body.String()
	if strings.Contains(body, "<script") || strings.Contains(body, "<b>") {
		t.Fatalf("page holds unescaped user data:\n%s", body)
	}
	if !strings.Contains(body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&#34;&#39;`) || !strings.Contains(body, "&lt;b&gt;bold&lt;/b&gt;") {
		t.Errorf("page lacks the escaped names:\n%s", body)
	}
	var st statuspage.Status
	if err := json.Unmarshal(get(t, statuspage.Handler(src), http.MethodGet, "/?format=json").Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Steps) != 1 || st.Steps[0].Name != name {
		t.Errorf("JSON steps %+v, want the name %q as it is", st.Steps, name)
	}
}

func TestMethods(t *testing.T) {
	h := statuspage.Handler(sample())
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		rec := get(t, h, m, "/")
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: status %d, Allow %q; want 405 with Allow: GET, HEAD", m, rec.Code, rec.Header().Get("Allow"))
		}
	}
	for _, target := range []string{"/", "/?format=json"} {
		g, hd := get(t, h, http.MethodGet, target), get(t, h, http.MethodHead, target)
		if g.Header().Get("Content-Length") != strconv.Itoa(g.Body.Len()) {
			t.Errorf("GET %s: Content-Length %q for %d bytes", target, g.Header().Get("Content-Length"), g.Body.Len())
		}
		if hd.Code != http.StatusOK || hd.Body.Len() != 0 || hd.Header().Get("Content-Length") != g.Header().Get("Content-Length") ||
			hd.Header().Get("Content-Type") != g.Header().Get("Content-Type") {
			t.Errorf("HEAD %s: status %d, %d body bytes, headers %v; want GET's headers (%v) and no body", target, hd.Code, hd.Body.Len(), hd.Header(), g.Header())
		}
	}
	if rec := get(t, h, http.MethodGet, "/?format=xml"); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "format=json") {
		t.Errorf("format=xml: status %d %q, want 400 naming format=json", rec.Code, rec.Body)
	}
}

func TestIdle(t *testing.T) {
	h := statuspage.Handler(fixed{})
	if body := text(get(t, h, http.MethodGet, "/").Body.String()); !strings.Contains(body, "No step has run yet.") ||
		!strings.Contains(body, "None: every figure is within the configured thresholds.") || !strings.Contains(body, "Success rate –") {
		t.Errorf("idle page:\n%s", body)
	}
	body := get(t, h, http.MethodGet, "/?format=json").Body.String()
	for _, s := range []string{`"steps": []`, `"recommendations": []`, `"state": "closed"`, `"pressure": "none"`} {
		if !strings.Contains(body, s) {
			t.Errorf("idle JSON lacks %s:\n%s", s, body)
		}
	}
}

// TestExecutorCore reads the page of a live ExecutorCore.
func TestExecutorCore(t *testing.T) {
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(context.Background())
	p := flujo.Pipeline("p",
		flujo.Func("double", func(n int) int { return 2 * n }),
		flujo.Step("check", func(_ context.Context, n int) (int, error) {
			if n > 10 {
				return 0, errors.New("too big")
			}
			return n, nil
		}, flujo.Retries(0)),
	)
	for _, n := range []int{1, 2, 3, 40} {
		flujo.Run[int](context.Background(), core, p, n)
	}
	srv := httptest.NewServer(statuspage.Handler(core))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "?format=json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st statuspage.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	steps := map[string]statuspage.Step{}
	for _, s := range st.Steps {
		steps[s.Name] = s
	}
	if d, c := steps["double"], steps["check"]; d.Executions != 4 || d.Failures != 0 || c.Executions != 4 || c.Failures != 1 || c.SuccessRate != 0.75 {
		t.Errorf("steps %+v, want double 4/0 and check 4/1", st.Steps)
	}
	if st.Totals.Runs != 4 || st.Limiter.Limit == 0 {
		t.Errorf("totals %+v, limiter %+v; want 4 runs and a limit", st.Totals, st.Limiter)
	}
}
