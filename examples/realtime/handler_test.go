package realtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/report"
	"github.com/flujo/flujo/examples/internal/statscmp"
	"github.com/flujo/flujo/runtime"
)

type testServer struct {
	h        *Handler
	core     *flujo.ExecutorCore
	upstream *Upstream
}

// newTestServer returns a handler on the real-time-api profile with an
// instant upstream; the test closes the executor and checks that no
// goroutine outlives it.
func newTestServer(t *testing.T, opts ...flujo.CoreOption) testServer {
	t.Helper()
	before := goleak.IgnoreCurrent()
	cfg, err := Config()
	if err != nil {
		t.Fatal(err)
	}
	core, err := flujo.NewExecutorCore(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := core.Close(context.Background()); err != nil {
			t.Error(err)
		}
		goleak.VerifyNone(t, before)
	})
	up, err := NewUpstream(0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(core, up)
	if err != nil {
		t.Fatal(err)
	}
	return testServer{h: h, core: core, upstream: up}
}

func (s testServer) do(method, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

func (s testServer) ask(body string) *httptest.ResponseRecorder {
	return s.do(http.MethodPost, "/v1/answer", body)
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) ErrorBody {
	t.Helper()
	var e ErrorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	return e.Error
}

func TestAnswer(t *testing.T) {
	s := newTestServer(t)
	rec := s.ask(`{"question":"How long does a cached result live?"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var a AnswerResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Sources) == 0 || a.Sources[0] != "cache_ttl_seconds" || !strings.HasPrefix(a.Answer, "cache_ttl_seconds: ") {
		t.Errorf("answer %+v, want one about cache_ttl_seconds first", a)
	}
	if !strings.Contains(a.Answer, "the default is 7200") {
		t.Errorf("answer %q lacks the default", a.Answer)
	}
	if a.Model != UpstreamModel || a.Attempts != 1 || a.Usage.PromptTokens <= 0 || a.Usage.CompletionTokens <= 0 || a.Usage.Cost <= 0 {
		t.Errorf("answer %+v, want the upstream's, in one attempt, with its usage", a)
	}
	if got := s.upstream.Calls(); got != 1 {
		t.Errorf("upstream calls %d, want 1", got)
	}
}

func TestErrorStatusCodes(t *testing.T) {
	tests := []struct {
		name, method, body string
		mode               Mode
		status             int
		code, step         string
	}{
		{"not JSON", http.MethodPost, `{"question":`, Healthy, 400, "bad_request", ""},
		{"unknown field", http.MethodPost, `{"question":"x","temperature":1}`, Healthy, 400, "bad_request", ""},
		{"trailing data", http.MethodPost, `{"question":"x"} {}`, Healthy, 400, "bad_request", ""},
		{"negative budget", http.MethodPost, `{"question":"x","max_tokens":-1}`, Healthy, 400, "bad_request", ""},
		{"budget over the cap", http.MethodPost, fmt.Sprintf(`{"question":"x","max_tokens":%d}`, MaxTokensCap+1), Healthy, 400, "bad_request", ""},
		{"empty question", http.MethodPost, `{"question":" "}`, Healthy, 400, "bad_request", "answer/parse"},
		{"long question", http.MethodPost, `{"question":"` + strings.Repeat("a", MaxQuestionLength+1) + `"}`, Healthy, 400, "bad_request", "answer/parse"},
		{"budget spent", http.MethodPost, `{"question":"When does a circuit breaker open?","max_tokens":50}`, Healthy, 429, "usage_limit_exceeded", "answer/generate"},
		{"upstream fails", http.MethodPost, `{"question":"What is cache_max_size?"}`, Failing, 502, "upstream_error", "answer/generate"},
		{"upstream answers nothing", http.MethodPost, `{"question":"What is cache_max_size?"}`, Garbled, 502, "invalid_upstream_reply", "answer/generate"},
		{"upstream hangs", http.MethodPost, `{"question":"What is cache_max_size?"}`, Hanging, 504, "timeout", "answer/generate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t)
			s.upstream.SetMode(tt.mode)
			rec := s.do(tt.method, "/v1/answer", tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			e := decodeError(t, rec)
			if e.Code != tt.code || e.Step != tt.step || e.Message == "" {
				t.Errorf("error %+v, want code %q at step %q with a message", e, tt.code, tt.step)
			}
			if ra := rec.Header().Get("Retry-After"); ra != "" {
				t.Errorf("Retry-After %q on a %d", ra, rec.Code)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s := newTestServer(t)
	if rec := s.do(http.MethodGet, "/v1/answer", ""); rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") == "" {
		t.Errorf("GET /v1/answer: %d, Allow %q; want 405 with Allow", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestBreakerOpensThenRecovers(t *testing.T) {
	clock := runtime.NewFakeClock(0)
	s := newTestServer(t, flujo.WithClock(clock))
	threshold := s.core.OptimizationConfig().CircuitBreakerFailureThreshold
	recovery := time.Duration(s.core.OptimizationConfig().CircuitBreakerRecoveryTimeoutSeconds) * time.Second

	s.upstream.SetMode(Failing)
	const q = `{"question":"When does a circuit breaker open?"}`
	var statuses []int
	for len(statuses) < threshold+2 {
		rec := s.ask(q)
		statuses = append(statuses, rec.Code)
		if rec.Code == http.StatusServiceUnavailable {
			e := decodeError(t, rec)
			if e.Code != "circuit_open" || rec.Header().Get("Retry-After") != fmt.Sprint(int(recovery.Seconds())) || e.RetryAfterSeconds != int(recovery.Seconds()) {
				t.Fatalf("503 %+v with Retry-After %q, want circuit_open and %v", e, rec.Header().Get("Retry-After"), recovery)
			}
			break
		}
	}
	if statuses[0] != http.StatusBadGateway || statuses[len(statuses)-1] != http.StatusServiceUnavailable {
		t.Fatalf("statuses %v, want 502 first and 503 once the breaker opens", statuses)
	}
	calls := s.upstream.Calls()
	if calls != int64(threshold) {
		t.Errorf("upstream called %d times before the breaker opened, want the threshold %d", calls, threshold)
	}

	// Open: rejected at once, the upstream is not called, healthy or not.
	s.upstream.SetMode(Healthy)
	if rec := s.ask(q); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("open breaker: status %d, want 503", rec.Code)
	}
	clock.Advance(recovery / 2)
	if rec := s.ask(q); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != fmt.Sprint(int((recovery/2).Seconds())) {
		t.Errorf("half way: status %d Retry-After %q, want 503 and %v", rec.Code, rec.Header().Get("Retry-After"), recovery/2)
	}
	if got := s.upstream.Calls(); got != calls {
		t.Errorf("upstream called %d times while the breaker was open", got-calls)
	}

	// After the recovery timeout a probe goes through and closes it.
	clock.Advance(recovery / 2)
	for i := range 3 {
		if rec := s.ask(q); rec.Code != http.StatusOK {
			t.Fatalf("request %d after recovery: status %d: %s", i, rec.Code, rec.Body)
		}
	}
	br := s.core.OptimizationStats().Steps["generate"].CircuitBreaker
	if br.State != runtime.StatsBreakerClosed || br.Opens != 1 || br.Rejections == 0 {
		t.Errorf("breaker stats %+v, want closed after one opening with rejections", br)
	}
}

// TestBadRequestsKeepTheBreakerClosed: bad requests are the client's
// fault, so any number of them answer 400 and leave the breaker closed,
// and a good request after them answers 200, on both executors.
func TestBadRequestsKeepTheBreakerClosed(t *testing.T) {
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
		name  string
		h     http.Handler
		stats func() runtime.Stats
	}{
		{"core", s.h, s.core.OptimizationStats},
		{"generated", genHandler, gen.OptimizationStats},
	} {
		t.Run(tc.name, func(t *testing.T) {
			threshold := s.core.OptimizationConfig().CircuitBreakerFailureThreshold
			bad := []string{`{"question":"   "}`, `{"question":""}`, `{"question":"` + strings.Repeat("x", MaxQuestionLength+1) + `"}`}
			for i := range 10 {
				rec := httptest.NewRecorder()
				tc.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/answer", strings.NewReader(bad[i%len(bad)])))
				if rec.Code != http.StatusBadRequest || decodeError(t, rec).Code != "bad_request" {
					t.Fatalf("bad request %d (threshold %d): status %d %s, want 400 bad_request", i+1, threshold, rec.Code, rec.Body)
				}
			}
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/answer", strings.NewReader(`{"question":"How long does a cached result live?"}`)))
			if rec.Code != http.StatusOK {
				t.Fatalf("good request after 10 bad ones: status %d %s, want 200", rec.Code, rec.Body)
			}
			br := tc.stats().Steps["parse"].CircuitBreaker
			if br.State != runtime.StatsBreakerClosed || br.Opens != 0 || br.Rejections != 0 {
				t.Errorf("parse breaker %+v, want closed, never opened", br)
			}
		})
	}
}

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter int
	}{
		{"closed", fmt.Errorf("run: %w", flujo.ErrClosed), 503, "unavailable", 0},
		{"canceled", &flujo.StepError{Path: []string{"answer", "generate"}, Err: context.Canceled}, 503, "canceled", 0},
		{"deadline", context.DeadlineExceeded, 504, "timeout", 0},
		{"breaker, rounded up", &flujo.StepError{Err: &runtime.CircuitOpenError{Step: "generate", RetryAfter: 1500 * time.Millisecond}}, 503, "circuit_open", 2},
		{"breaker, at least a second", &runtime.CircuitOpenError{Step: "generate"}, 503, "circuit_open", 1},
		{"overloaded", &flujo.StepError{Err: &runtime.ConcurrencyLimitError{Step: "generate", Limit: 8}}, 503, "overloaded", 1},
		{"unknown", errors.New("disk on fire"), 500, "internal", 0},
	}
	for _, tt := range tests {
		status, body := ErrorStatus(tt.err)
		if status != tt.status || body.Code != tt.code || body.RetryAfterSeconds != tt.retryAfter {
			t.Errorf("%s: %d %+v, want %d %q retry after %d", tt.name, status, body, tt.status, tt.code, tt.retryAfter)
		}
	}
	if _, body := ErrorStatus(errors.New("disk on fire")); strings.Contains(body.Message, "disk") {
		t.Errorf("internal error message %q leaks the cause", body.Message)
	}
}

func TestConcurrentRequests(t *testing.T) {
	s := newTestServer(t)
	const workers, each = 16, 8
	questions := []string{
		`{"question":"How long does a cached result live?"}`,
		`{"question":"Which telemetry settings are there?"}`,
		`{"question":"When does a circuit breaker open?"}`,
	}
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if rec := s.ask(questions[(w+i)%len(questions)]); rec.Code != http.StatusOK {
					errs <- fmt.Sprintf("%d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	st := s.core.OptimizationStats()
	if st.Execution.Count != workers*each || st.Steps["generate"].Execution.Count != workers*each {
		t.Errorf("runs %d, generate %d; want %d each", st.Execution.Count, st.Steps["generate"].Execution.Count, workers*each)
	}
	if got := s.upstream.Calls(); got != workers*each {
		t.Errorf("upstream calls %d, want %d", got, workers*each)
	}
}

func TestStatsRecommendationsHealth(t *testing.T) {
	s := newTestServer(t)
	s.ask(`{"question":"How long does a cached result live?"}`)
	s.ask(`{"question":""}`)

	rec := s.do(http.MethodGet, "/v1/stats", "")
	var stats struct {
		Execution struct {
			Count int `json:"count"`
		} `json:"execution"`
		Config struct {
			Threshold int `json:"circuit_breaker_failure_threshold"`
		} `json:"config"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &stats) != nil {
		t.Fatalf("GET /v1/stats: %d %s", rec.Code, rec.Body)
	}
	profile, err := runtime.LookupProfile(Profile)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Execution.Count != 2 || stats.Config.Threshold != profile.Config().CircuitBreakerFailureThreshold {
		t.Errorf("stats: %d runs, breaker threshold %d; want 2 and the profile's", stats.Execution.Count, stats.Config.Threshold)
	}

	rec = s.do(http.MethodGet, "/v1/recommendations", "")
	var recs []runtime.Recommendation
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &recs) != nil || !bytes.HasPrefix(rec.Body.Bytes(), []byte("[")) {
		t.Errorf("GET /v1/recommendations: %d %s, want a JSON array", rec.Code, rec.Body)
	}

	if rec = s.do(http.MethodGet, "/healthz", ""); rec.Code != http.StatusOK {
		t.Errorf("GET /healthz: %d", rec.Code)
	}
}

func TestGenerateNeedsAnUpstream(t *testing.T) {
	if _, err := Generate(context.Background(), Prompt{}); !errors.Is(err, ErrNoUpstream) {
		t.Errorf("Generate: %v, want ErrNoUpstream", err)
	}
}

func TestNewHandlerAndUpstreamRejectBadArguments(t *testing.T) {
	if _, err := NewHandler(nil, nil); err == nil {
		t.Error("NewHandler(nil, nil) succeeded")
	}
	if _, err := NewUpstream(-time.Second); err == nil || !strings.Contains(err.Error(), "latency is -1s") {
		t.Errorf("NewUpstream(-1s): %v", err)
	}
}

func TestRunDemo(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"-demo", "-latency=0"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{
		"\n1   a question ", "  200 OK: ",
		"  429 usage_limit_exceeded at answer/generate: the request spent ",
		"  400 bad_request: body is not a question object",
		"  504 timeout at answer/generate: ",
		"  502 invalid_upstream_reply at answer/generate: the answer is empty",
		"  502 upstream_error at answer/generate: ",
		"  503 circuit_open at answer/generate: ", "(Retry-After: 30)",
		"\nthe answer to request 1: cache_ttl_seconds: ",
		"11 of 11 responses identical",
		"\nRecommendations: none;",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	rows := map[string]string{"runs": "10, 3 succeeded (30%)", "circuit breakers": "1 open, 2 closed; 1 opening, 2 calls rejected"}
	for name, cell := range rows {
		found := false
		for _, l := range strings.Split(text, "\n") {
			found = found || strings.HasPrefix(l, name+"  ") && strings.Count(l, cell) == 2
		}
		if !found {
			t.Errorf("key figures lack %s %q for both engines:\n%s", name, cell, text)
		}
	}
	for _, m := range []string{statscmp.Measured, statscmp.Scheduled, statscmp.Unexpected} {
		if strings.Contains(text, "  "+m+"\n") != strings.Contains(text, "\n"+m+" ") {
			t.Errorf("mark %q shown without its legend line, or the reverse:\n%s", m, text)
		}
	}
	if n := strings.Count(text, "\n"); n > report.DemoLines {
		t.Errorf("the demo prints %d lines, more than its share of %d:\n%s", n, report.DemoLines, text)
	}
}

func TestRunDemoWritesFullFiguresWithJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "realtime.json")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"-demo", "-latency=0", "-json", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var figures map[string]report.Figures
	if err := json.Unmarshal(data, &figures); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	want, err := Config()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"executor_core", "generated"} {
		s := figures[name].Stats
		if s.Execution.Count != 10 || s.BreakerSummary().Opens != 1 || s.Config.CircuitBreakerFailureThreshold != want.CircuitBreakerFailureThreshold {
			t.Errorf("%s: %d runs, %d breaker openings, threshold %d; want 10 runs, 1 opening on the %s profile",
				name, s.Execution.Count, s.BreakerSummary().Opens, s.Config.CircuitBreakerFailureThreshold, Profile)
		}
	}
}

// syncBuffer lets the test read what run writes from another goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunServesUntilCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errb syncBuffer
	done := make(chan int)
	go func() {
		code := Main(ctx, []string{"-addr=127.0.0.1:0", "-latency=0"}, pw, &errb)
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the address: %v (stderr %q)", err, errb.String())
	}
	go io.Copy(io.Discard, pr)
	var addr string
	if _, err := fmt.Sscanf(line, "serving on %s", &addr); err != nil {
		t.Fatalf("first line %q: %v", line, err)
	}
	resp, err := http.Post(addr+"/v1/answer", "application/json", strings.NewReader(`{"question":"How long does a cached result live?"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST over the network: %d %s", resp.StatusCode, body)
	}
	http.DefaultClient.CloseIdleConnections()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after cancel: %s", code, errb.String())
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"-nope"}, 2},
		{[]string{"-latency=-1s", "-demo"}, 2},
		{[]string{"-addr=256.0.0.1:http"}, 1},
		{[]string{"-upstream=sleepy", "-demo"}, 2},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), tt.args, &out, &errb); code != tt.code || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want %d and a message", tt.args, code, errb.String(), tt.code)
		}
	}
}

func TestModeFlag(t *testing.T) {
	for _, m := range []Mode{Healthy, Failing, Hanging, Garbled} {
		var got Mode
		if err := got.Set(m.String()); err != nil || got != m {
			t.Errorf("Set(%q) = %v, mode %v; want %v", m.String(), err, got, m)
		}
	}
	var m Mode
	if err := m.Set("sleepy"); err == nil || !strings.Contains(err.Error(), "healthy, failing, hanging or garbled") {
		t.Errorf("Set(sleepy) = %v; want an error listing the modes", err)
	}
}
