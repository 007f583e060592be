package realtime

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flujo/flujo/statuspage"
)

// Both executors can be shown.
var (
	_ statuspage.Source = (*AnswerExecutor)(nil)
	_ statuspage.Source = Executor(nil)
)

// TestStatusPage: /debug/flujo shows the steps of Answer after a success
// and an upstream failure, as HTML and as JSON, on both executors.
func TestStatusPage(t *testing.T) {
	s := newTestServer(t)
	gen, err := NewAnswerExecutor()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gen.Close(context.Background()) })
	genHandler, err := NewHandlerFor(generatedExecutor{gen}, s.upstream)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"core", s.h}, {"generated", genHandler}} {
		t.Run(tc.name, func(t *testing.T) {
			do := func(method, target, body string) *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				tc.h.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
				return rec
			}
			s.upstream.SetMode(Healthy)
			if rec := do(http.MethodPost, "/v1/answer", `{"question":"How long does a cached result live?"}`); rec.Code != http.StatusOK {
				t.Fatalf("success: %d %s", rec.Code, rec.Body)
			}
			s.upstream.SetMode(Failing)
			if rec := do(http.MethodPost, "/v1/answer", `{"question":"What is cache_max_size?"}`); rec.Code != http.StatusBadGateway {
				t.Fatalf("failure: %d %s", rec.Code, rec.Body)
			}
			s.upstream.SetMode(Healthy)

			rec := do(http.MethodGet, StatusPagePath+"?format=json", "")
			var st statuspage.Status
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &st) != nil {
				t.Fatalf("GET %s?format=json: %d %s", StatusPagePath, rec.Code, rec.Body)
			}
			var names []string
			steps := map[string]statuspage.Step{}
			for _, step := range st.Steps {
				names = append(names, step.Name)
				steps[step.Name] = step
			}
			if got := strings.Join(names, " "); got != "generate parse retrieve" {
				t.Errorf("steps %q, want generate parse retrieve, sorted", got)
			}
			// generate failed both attempts of the second request: one
			// failed execution of two, with one retry.
			if g := steps["generate"]; g.Executions != 2 || g.Failures != 1 || g.Retries != 1 || g.Breaker.State != "closed" {
				t.Errorf("generate %+v, want 2 executions, 1 failure, 1 retry, breaker closed", g)
			}
			if p := steps["parse"]; p.Executions != 2 || p.Failures != 0 || p.SuccessRate != 1 {
				t.Errorf("parse %+v, want 2 successful executions", p)
			}
			if st.Totals.Runs != 2 || st.Limiter.Limit == 0 {
				t.Errorf("totals %+v, limiter %+v; want 2 runs and a limit", st.Totals, st.Limiter)
			}

			rec = do(http.MethodGet, StatusPagePath, "")
			body := rec.Body.String()
			if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("GET %s: %d %q", StatusPagePath, rec.Code, rec.Header().Get("Content-Type"))
			}
			for _, name := range []string{"parse", "retrieve", "generate"} {
				if !strings.Contains(body, `<tr data-step="`+name+`">`) {
					t.Errorf("page lacks a row for %s:\n%s", name, body)
				}
			}
			if rec := do(http.MethodPost, StatusPagePath, ""); rec.Code != http.StatusMethodNotAllowed {
				t.Errorf("POST %s: %d, want 405", StatusPagePath, rec.Code)
			}
		})
	}
}
