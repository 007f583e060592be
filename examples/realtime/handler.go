package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/statuspage"
)

// maxBodyBytes bounds a request body.
const maxBodyBytes = 64 << 10

// StatusPagePath is where the handler serves the executor's status page
// (package statuspage); StatusPagePath+"?format=json" is its JSON twin.
const StatusPagePath = "/debug/flujo"

// Handler serves the API: each POST /v1/answer runs the Answer pipeline on
// the executor. It is safe for concurrent use.
type Handler struct {
	core     Executor
	upstream *Upstream
	mux      *http.ServeMux
}

// Executor runs the Answer pipeline and reports on itself: CoreExecutor
// wraps the ExecutorCore; the executor flujogen generated from Answer
// (flujo_gen.go) is wrapped in run.go.
type Executor interface {
	Run(ctx context.Context, q Question, opts ...flujo.ExecOption) (Reply, *flujo.PipelineResult, error)
	OptimizationStats() runtime.Stats
	PerformanceRecommendations() []runtime.Recommendation
	// LatencyHistograms reads the monitor's latency histograms, for
	// metrics (GET /metrics in cmd/realtime).
	LatencyHistograms() runtime.LatencyHistograms
}

// CoreExecutor runs Answer on an ExecutorCore.
type CoreExecutor struct{ *flujo.ExecutorCore }

// Run runs Answer on q.
func (c CoreExecutor) Run(ctx context.Context, q Question, opts ...flujo.ExecOption) (Reply, *flujo.PipelineResult, error) {
	return flujo.Run[Reply](ctx, c.ExecutorCore, Answer, q, opts...)
}

// NewHandler returns the API's handler; core runs the pipelines and
// upstream answers the generate step.
func NewHandler(core *flujo.ExecutorCore, upstream *Upstream) (*Handler, error) {
	if core == nil {
		return nil, errors.New("realtime: NewHandler needs an executor and an upstream")
	}
	return NewHandlerFor(CoreExecutor{core}, upstream)
}

// NewHandlerFor returns the API's handler on any Executor.
func NewHandlerFor(exec Executor, upstream *Upstream) (*Handler, error) {
	if exec == nil || upstream == nil {
		return nil, errors.New("realtime: NewHandler needs an executor and an upstream")
	}
	h := &Handler{core: exec, upstream: upstream, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST /v1/answer", h.answer)
	h.mux.HandleFunc("GET /v1/stats", h.stats)
	h.mux.HandleFunc("GET /v1/recommendations", h.recommendations)
	h.mux.HandleFunc("GET /healthz", h.health)
	// The status page answers every method itself: GET and HEAD, else 405.
	h.mux.Handle(StatusPagePath, statuspage.Handler(exec))
	return h, nil
}

// ServeHTTP routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// AnswerResponse is the body of a successful POST /v1/answer.
type AnswerResponse struct {
	Answer   string      `json:"answer"`
	Sources  []string    `json:"sources"`
	Model    string      `json:"model"`
	Usage    UsageReport `json:"usage"`
	Attempts int         `json:"attempts"`
}

// UsageReport is what a request spent.
type UsageReport struct {
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	Cost             float64 `json:"cost"`
}

// ErrorResponse is the body of every failed request.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody describes a failure.
type ErrorBody struct {
	// Code is stable and meant for programs: "bad_request",
	// "usage_limit_exceeded", "upstream_error", "invalid_upstream_reply",
	// "circuit_open", "timeout", "canceled", "unavailable" or "internal".
	Code    string `json:"code"`
	Message string `json:"message"`
	// Step is the pipeline step that failed, as a path from the root.
	Step string `json:"step,omitempty"`
	// RetryAfterSeconds repeats the Retry-After header of a 503.
	RetryAfterSeconds int `json:"retry_after_seconds,omitempty"`
}

func (h *Handler) answer(w http.ResponseWriter, r *http.Request) {
	q, err := decodeQuestion(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, ErrorBody{Code: "bad_request", Message: err.Error()})
		return
	}
	ctx := WithUpstream(r.Context(), h.upstream)
	limits := flujo.UsageLimits{TotalTokensLimit: q.MaxTokens}
	reply, res, err := h.core.Run(ctx, q, flujo.WithUsageLimits(limits))
	if err != nil {
		status, body := ErrorStatus(err)
		if body.RetryAfterSeconds > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(body.RetryAfterSeconds))
		}
		writeError(w, status, body)
		return
	}
	gen, _ := res.Step("generate")
	writeJSON(w, http.StatusOK, AnswerResponse{
		Answer:   reply.Text,
		Sources:  append([]string{}, reply.Sources...),
		Model:    reply.Model,
		Usage:    UsageReport{PromptTokens: reply.PromptTokens, CompletionTokens: reply.CompletionTokens, Cost: reply.Cost},
		Attempts: gen.Attempts,
	})
}

// decodeQuestion reads the body: one JSON object with known fields only,
// and a token budget within the cap.
func decodeQuestion(w http.ResponseWriter, r *http.Request) (Question, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	var q Question
	if err := dec.Decode(&q); err != nil {
		return Question{}, fmt.Errorf("body is not a question object: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Question{}, errors.New("body has data after the question object")
	}
	switch {
	case q.MaxTokens == 0:
		q.MaxTokens = DefaultMaxTokens
	case q.MaxTokens < 0 || q.MaxTokens > MaxTokensCap:
		return Question{}, fmt.Errorf("max_tokens is %d, want 1..%d", q.MaxTokens, MaxTokensCap)
	}
	return q, nil
}

// ErrorStatus maps the error of a run to an HTTP status and an error body.
// Usage limits are the client's budget running out, like a quota: 429.
// An open breaker means the upstream is known to be down: 503, with a
// Retry-After for when the breaker lets a probe through.
func ErrorStatus(err error) (int, ErrorBody) {
	body := ErrorBody{Message: err.Error()}
	var se *flujo.StepError
	if errors.As(err, &se) {
		body.Step = strings.Join(se.Path, "/")
	}
	var (
		ule *flujo.UsageLimitExceededError
		coe *runtime.CircuitOpenError
		bre *BadRequestError
		ste *flujo.StepTimeoutError
		upe *UpstreamError
		vfe *flujo.ValidationFailedError
	)
	switch {
	case errors.As(err, &ule):
		body.Code = "usage_limit_exceeded"
		body.Message = fmt.Sprintf("the request spent %d tokens, more than its max_tokens of %d", ule.Tokens, ule.Limits.TotalTokensLimit)
		if p := ule.Partial; p != nil && len(p.Steps) > 0 {
			body.Step = Answer.Name() + "/" + p.Steps[len(p.Steps)-1].Name
		}
		return http.StatusTooManyRequests, body
	case errors.As(err, &coe):
		body.Code = "circuit_open"
		body.RetryAfterSeconds = max(1, int(math.Ceil(coe.RetryAfter.Seconds())))
		body.Message = fmt.Sprintf("the circuit breaker of step %q is open after repeated failures; retry in %ds", coe.Step, body.RetryAfterSeconds)
		return http.StatusServiceUnavailable, body
	case errors.Is(err, runtime.ErrLimiterRejected):
		// The adaptive limiter sheds load it cannot serve in time.
		body.Code, body.RetryAfterSeconds = "overloaded", 1
		body.Message = "the service is at its concurrency limit; retry in 1s"
		return http.StatusServiceUnavailable, body
	case errors.As(err, &bre):
		body.Code, body.Message = "bad_request", bre.Reason
		return http.StatusBadRequest, body
	case errors.As(err, &ste), errors.Is(err, context.DeadlineExceeded):
		body.Code = "timeout"
		return http.StatusGatewayTimeout, body
	case errors.Is(err, context.Canceled):
		body.Code = "canceled"
		return http.StatusServiceUnavailable, body
	case errors.As(err, &upe):
		body.Code = "upstream_error"
		return http.StatusBadGateway, body
	case errors.As(err, &vfe):
		body.Code = "invalid_upstream_reply"
		return http.StatusBadGateway, body
	case errors.Is(err, flujo.ErrClosed):
		body.Code = "unavailable"
		return http.StatusServiceUnavailable, body
	}
	body.Code, body.Message = "internal", "internal error"
	return http.StatusInternalServerError, body
}

func (h *Handler) stats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.core.OptimizationStats())
}

func (h *Handler) recommendations(w http.ResponseWriter, _ *http.Request) {
	recs := h.core.PerformanceRecommendations()
	if recs == nil {
		recs = []runtime.Recommendation{}
	}
	writeJSON(w, http.StatusOK, recs)
}

func (h *Handler) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func writeError(w http.ResponseWriter, status int, body ErrorBody) {
	writeJSON(w, status, ErrorResponse{Error: body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"encoding the response failed"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
