package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/flujo/flujo/runtime"
)

// Profile is the configuration profile the service runs with.
const Profile = "real-time-api"

// Config returns the configuration of the Profile profile.
func Config() (runtime.OptimizationConfig, error) {
	p, err := runtime.LookupProfile(Profile)
	if err != nil {
		return runtime.OptimizationConfig{}, err
	}
	return p.Config(), nil
}

// serve serves h on addr until SIGINT or SIGTERM, then shuts down
// gracefully.
func serve(ctx context.Context, addr string, h http.Handler, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "serving on http://%s (profile %s); try:\n", ln.Addr(), Profile)
	fmt.Fprintf(stdout, "  curl -s -d '{\"question\":\"How long does a cached result live?\"}' http://%s/v1/answer\n", ln.Addr())
	fmt.Fprintf(stdout, "  open http://%s%s (the status page)\n", ln.Addr(), StatusPagePath)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// demoRequest is one request of the demo.
type demoRequest struct {
	note   string
	mode   Mode
	method string
	path   string
	body   string
}

// demoRequests walks through the status codes the handler returns.
func demoRequests() []demoRequest {
	return []demoRequest{
		{"a question", Healthy, http.MethodPost, "/v1/answer", `{"question":"How long does a cached result live?"}`},
		{"a budget too small for the answer", Healthy, http.MethodPost, "/v1/answer", `{"question":"When does a circuit breaker open?","max_tokens":50}`},
		{"a body that is not JSON", Healthy, http.MethodPost, "/v1/answer", `{"question":`},
		{"an empty question", Healthy, http.MethodPost, "/v1/answer", `{"question":"  "}`},
		{"the upstream hangs: both attempts time out", Hanging, http.MethodPost, "/v1/answer", `{"question":"What does the error classifier remember?"}`},
		{"healthy again", Healthy, http.MethodPost, "/v1/answer", `{"question":"What does the error classifier remember?"}`},
		{"the upstream answers nothing: both attempts fail validation", Garbled, http.MethodPost, "/v1/answer", `{"question":"Which telemetry settings are there?"}`},
		{"healthy again", Healthy, http.MethodPost, "/v1/answer", `{"question":"Which telemetry settings are there?"}`},
		{"the upstream fails: two failures in a row", Failing, http.MethodPost, "/v1/answer", `{"question":"When does a circuit breaker open?"}`},
		{"the third failure in a row opens the breaker; the retry is rejected", Failing, http.MethodPost, "/v1/answer", `{"question":"When does a circuit breaker open?"}`},
		{"the breaker rejects at once, upstream healthy or not", Healthy, http.MethodPost, "/v1/answer", `{"question":"When does a circuit breaker open?"}`},
	}
}

// runDemo sends demoRequests to h in-process and prints the responses, the
// statistics and the recommendations.
func runDemo(w io.Writer, h http.Handler, upstream *Upstream) error {
	fmt.Fprintf(w, "== requests (profile %s)\n", Profile)
	for _, d := range demoRequests() {
		upstream.SetMode(d.mode)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(d.method, d.path, strings.NewReader(d.body)))
		fmt.Fprintf(w, "-- %s (upstream %s)\n%s %s %s\n", d.note, d.mode, d.method, d.path, d.body)
		fmt.Fprintf(w, "%d %s", rec.Code, http.StatusText(rec.Code))
		if ra := rec.Header().Get("Retry-After"); ra != "" {
			fmt.Fprintf(w, " (Retry-After: %s)", ra)
		}
		fmt.Fprintf(w, "\n%s", rec.Body.String())
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/stats", nil))
	if rec.Code != http.StatusOK {
		return fmt.Errorf("GET /v1/stats: %d %s", rec.Code, rec.Body.String())
	}
	var stats bytes.Buffer
	if err := json.Indent(&stats, rec.Body.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("GET /v1/stats: %w", err)
	}
	fmt.Fprintf(w, "\n== optimization stats (GET /v1/stats)\n%s", stats.String())

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/recommendations", nil))
	var recs []runtime.Recommendation
	if err := json.Unmarshal(rec.Body.Bytes(), &recs); err != nil {
		return fmt.Errorf("GET /v1/recommendations: %w", err)
	}
	fmt.Fprintln(w, "\n== performance recommendations (GET /v1/recommendations)")
	if len(recs) == 0 {
		fmt.Fprintln(w, "none: every counter is within the configured thresholds")
	}
	for _, r := range recs {
		fmt.Fprintf(w, "[%s] %s: %s (%s)\n", r.Priority, r.ID, r.Description, r.Impact)
	}
	return nil
}
