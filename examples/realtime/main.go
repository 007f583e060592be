package realtime

import (
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

	"github.com/flujo/flujo/examples/internal/report"
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

// exchange is a demo request and the handler's response.
type exchange struct {
	demoRequest
	code       int
	retryAfter string
	reply      []byte
}

// sendDemo sends demoRequests to h in-process, setting upstream's mode
// before each, and returns the exchanges.
func sendDemo(h http.Handler, upstream *Upstream) []exchange {
	var out []exchange
	for _, d := range demoRequests() {
		upstream.SetMode(d.mode)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(d.method, d.path, strings.NewReader(d.body)))
		out = append(out, exchange{d, rec.Code, rec.Header().Get("Retry-After"), rec.Body.Bytes()})
	}
	return out
}

// succeeded counts the exchanges answered 200 OK.
func succeeded(xs []exchange) int {
	n := 0
	for _, x := range xs {
		if x.code == http.StatusOK {
			n++
		}
	}
	return n
}

// runDemo sends demoRequests to h in-process and prints them and their
// responses as a table, then one answer and one request body in full. It
// returns the exchanges.
func runDemo(w io.Writer, h http.Handler, upstream *Upstream) ([]exchange, error) {
	xs := sendDemo(h, upstream)
	fmt.Fprintf(w, "== examples/realtime: an HTTP API answering questions about flujo.json, one pipeline run per request (ExecutorCore, profile %s)\n", Profile)
	rows := [][]string{{"#", "request", "upstream", "response"}}
	var answer string
	for i, x := range xs {
		resp, err := x.summary()
		if err != nil {
			return nil, fmt.Errorf("request %d (%s): %w", i+1, x.note, err)
		}
		if answer == "" && x.code == http.StatusOK {
			var a AnswerResponse
			if err := json.Unmarshal(x.reply, &a); err != nil {
				return nil, fmt.Errorf("request %d (%s): %w", i+1, x.note, err)
			}
			answer = fmt.Sprintf("the answer to request %d: %s", i+1, a.Answer)
		}
		rows = append(rows, []string{fmt.Sprint(i + 1), x.note, x.mode.String(), resp})
	}
	report.Table(w, rows)
	fmt.Fprintf(w, "each request is %s %s with a JSON body, e.g. %s; upstream: how the simulated model behaves for it.\n", xs[1].method, xs[1].path, xs[1].body)
	fmt.Fprintln(w, "response: the status, then the reply's tokens and sources, or the error's code, step and cause; a body that is not JSON is refused before any pipeline runs.")
	if answer != "" {
		fmt.Fprintln(w, answer)
	}
	return xs, nil
}

// summary renders the response in a line: the status, then what the reply
// cost and cites, or the error's code, step and cause.
func (x exchange) summary() (string, error) {
	if x.code == http.StatusOK {
		var a AnswerResponse
		if err := json.Unmarshal(x.reply, &a); err != nil {
			return "", err
		}
		return fmt.Sprintf("200 OK: %d tokens, %s, sources %s", a.Usage.PromptTokens+a.Usage.CompletionTokens,
			report.Count(a.Attempts, "attempt", "attempts"), strings.Join(a.Sources, ", ")), nil
	}
	var e ErrorResponse
	if err := json.Unmarshal(x.reply, &e); err != nil {
		return "", err
	}
	s := fmt.Sprintf("%d %s", x.code, e.Error.Code)
	if e.Error.Step != "" {
		s += " at " + e.Error.Step
	}
	s += ": " + cause(e.Error.Message)
	if x.retryAfter != "" {
		s += " (Retry-After: " + x.retryAfter + ")"
	}
	return s, nil
}

// cause is the end of an error message: what failed, without the wrapping
// of the step and of the error's type.
func cause(msg string) string {
	if i := strings.LastIndex(msg, "failed with "); i >= 0 {
		if j := strings.Index(msg[i:], ": "); j >= 0 {
			return msg[i+j+2:]
		}
	}
	if i := strings.LastIndex(msg, " failed: "); i >= 0 {
		return msg[i+len(" failed: "):]
	}
	return msg
}
