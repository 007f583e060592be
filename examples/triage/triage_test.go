package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/report"
	"github.com/flujo/flujo/examples/internal/statscmp"
	"github.com/flujo/flujo/runtime"
)

// newTestCore returns an executor on the default configuration that the
// test closes, checking that no goroutine outlives it.
func newTestCore(t *testing.T) *flujo.ExecutorCore {
	t.Helper()
	before := goleak.IgnoreCurrent()
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := core.Close(context.Background()); err != nil {
			t.Error(err)
		}
		goleak.VerifyNone(t, before)
	})
	return core
}

func newTestLLM(t *testing.T, cfg SimConfig) context.Context {
	t.Helper()
	llm, err := NewSimLLM(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return WithLLM(context.Background(), llm)
}

func ticket(t *testing.T, id string) Ticket {
	t.Helper()
	for _, tk := range SampleTickets() {
		if tk.ID == id {
			return tk
		}
	}
	t.Fatalf("no sample ticket %s", id)
	return Ticket{}
}

func outcomeOf(t *testing.T, outs []Outcome, id string) Outcome {
	t.Helper()
	for _, o := range outs {
		if o.Ticket.ID == id {
			return o
		}
	}
	t.Fatalf("no outcome for %s", id)
	return Outcome{}
}

// The routes do not depend on the seed: every classification ends with a
// valid answer, from the large model or from the fallback.
func TestBatchRoutes(t *testing.T) {
	for _, seed := range []uint64{1, 7, 42} {
		core := newTestCore(t)
		ctx := newTestLLM(t, SimConfig{Seed: seed, OverloadPercent: 25, MalformedPercent: 15})
		outs := TriageAll(ctx, core, SampleTickets())
		tests := []struct {
			id, key, step, queue, assignee string
		}{
			{"FL-101", RouteUrgent, "page", "on-call", "on-call engineer"},
			{"FL-102", RouteNormal, "queue", "billing", "support rota"},
			{"FL-103", RouteNormal, "queue", "support", "support rota"},
			{"FL-104", RouteLater, "backlog", "backlog", "product team"},
			{"FL-105", RouteUrgent, "page", "on-call", "on-call engineer"}, // angry enterprise customer
			{"FL-106", RouteNormal, "queue", "support", "support rota"},
			{"FL-109", RouteUrgent, "page", "on-call", "on-call engineer"},
			{"FL-112", RouteNormal, "queue", "support", "lee"},
		}
		for _, tt := range tests {
			o := outcomeOf(t, outs, tt.id)
			if o.Err != nil {
				t.Fatalf("seed %d: %s: %v", seed, tt.id, o.Err)
			}
			route, _ := o.Result.Step("route")
			if route.BranchKey != tt.key || o.Routed.Queue != tt.queue || o.Routed.Assignee != tt.assignee {
				t.Errorf("seed %d: %s: key %q queue %q assignee %q, want %q %q %q",
					seed, tt.id, route.BranchKey, o.Routed.Queue, o.Routed.Assignee, tt.key, tt.queue, tt.assignee)
			}
			if len(route.Steps) != 1 || route.Steps[0].Name != tt.step {
				t.Errorf("seed %d: %s: route ran %v, want step %q", seed, tt.id, route.Steps, tt.step)
			}
			if o.State.Sentiment == "" {
				t.Errorf("seed %d: %s: the sentiment step left no note in the state", seed, tt.id)
			}
			if o.Result.TotalCost <= 0 || o.Result.TotalTokens <= 0 {
				t.Errorf("seed %d: %s: usage %v / %d, want both positive", seed, tt.id, o.Result.TotalCost, o.Result.TotalTokens)
			}
		}
	}
}

func TestContextTooLongFallsBackWithoutRetrying(t *testing.T) {
	core := newTestCore(t)
	ctx := newTestLLM(t, SimConfig{Seed: 1})
	tk := ticket(t, "FL-106")
	out, res, err := flujo.Run[Routed](ctx, core, Triage, tk, flujo.WithUsageLimits(TicketLimits()))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := res.Step("classify")
	var cle *ContextLengthError
	if !c.FallbackTriggered || !errors.As(c.OriginalError, &cle) {
		t.Fatalf("classify: fallback %v, original error %v; want a fallback after *ContextLengthError", c.FallbackTriggered, c.OriginalError)
	}
	// One attempt of the large model (the error is permanent), one of the
	// small one.
	if c.Attempts != 2 {
		t.Errorf("classify attempts = %d, want 2", c.Attempts)
	}
	cls := c.Output.(Classification)
	if cls.Model != SmallModel || !cls.Truncated || cls.Ticket.Body != tk.Body {
		t.Errorf("classification by %s, truncated %v, full ticket kept %v; want the small model on a truncated body",
			cls.Model, cls.Truncated, cls.Ticket.Body == tk.Body)
	}
	if out.Model != SmallModel {
		t.Errorf("routed model %s, want %s", out.Model, SmallModel)
	}
	if s := core.OptimizationStats(); s.Errors.SkippedRetries == 0 {
		t.Errorf("stats report no skipped retry for a permanent error: %+v", s.Errors)
	}
}

func TestMalformedAnswersAreValidatedRetriedThenFallBack(t *testing.T) {
	core := newTestCore(t)
	ctx := newTestLLM(t, SimConfig{Seed: 3, MalformedPercent: 100})
	_, res, err := flujo.Run[Routed](ctx, core, Triage, ticket(t, "FL-103"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := res.Step("classify")
	var vfe *flujo.ValidationFailedError
	if !c.FallbackTriggered || !errors.As(c.OriginalError, &vfe) {
		t.Fatalf("classify: fallback %v, original error %v; want a fallback after a validation failure", c.FallbackTriggered, c.OriginalError)
	}
	// Three attempts of the large model (Retries(2)), one of the small one.
	if c.Attempts != 4 {
		t.Errorf("classify attempts = %d, want 4", c.Attempts)
	}
	primary := c.Steps
	if len(primary) != 1 || primary[0].Name != "classify-cheap" || !primary[0].Success {
		t.Errorf("classify history %+v, want the successful fallback classify-cheap", primary)
	}
	st := core.OptimizationStats().Steps["classify"]
	if st.Errors.Retries != 2 || st.Errors.RecoveryAttempts != 1 || st.Errors.Recoveries != 0 {
		t.Errorf("classify error stats %+v, want 2 retries in 1 recovery attempt that did not recover", st.Errors)
	}
}

func TestOverloadedModelOpensTheBreaker(t *testing.T) {
	core := newTestCore(t)
	ctx := newTestLLM(t, SimConfig{Seed: 5, OverloadPercent: 100})
	tk := ticket(t, "FL-103")
	var rejected int
	for range 12 {
		out, res, err := flujo.Run[Routed](ctx, core, Triage, tk)
		if err != nil {
			t.Fatal(err)
		}
		if out.Model != SmallModel {
			t.Fatalf("routed model %s, want the fallback's %s", out.Model, SmallModel)
		}
		c, _ := res.Step("classify")
		var coe *runtime.CircuitOpenError
		if errors.As(c.OriginalError, &coe) {
			rejected++
			if coe.Step != "classify" {
				t.Errorf("breaker of %q rejected, want classify", coe.Step)
			}
		}
	}
	s := core.OptimizationStats()
	br := s.Steps["classify"].CircuitBreaker
	if br.Opens == 0 || br.Rejections == 0 || rejected == 0 {
		t.Errorf("breaker opens %d, rejections %d, runs rejected %d; want all positive after 12 overloaded runs",
			br.Opens, br.Rejections, rejected)
	}
	if s.Errors.SkippedRetries == 0 {
		t.Errorf("the classifier never skipped a retry of a model that never recovers: %+v", s.Errors)
	}
}

func TestUsageLimitStopsAnExpensiveTicket(t *testing.T) {
	core := newTestCore(t)
	ctx := newTestLLM(t, SimConfig{Seed: 1})
	_, res, err := flujo.Run[Routed](ctx, core, Triage, ticket(t, "FL-107"), flujo.WithUsageLimits(TicketLimits()))
	var ule *flujo.UsageLimitExceededError
	if !errors.As(err, &ule) {
		t.Fatalf("err = %v, want *flujo.UsageLimitExceededError", err)
	}
	if ule.Limit != "total_cost_limit" || ule.Cost <= TicketCostLimit {
		t.Errorf("limit %s at cost %v, want total_cost_limit above %v", ule.Limit, ule.Cost, TicketCostLimit)
	}
	if ule.Partial == nil || ule.Partial != res || len(res.Steps) != 1 || res.Steps[0].Name != "classify" {
		t.Fatalf("partial result %+v, want the run's result with classify only", ule.Partial)
	}
	if res.Success || res.Output != nil {
		t.Errorf("partial result success %v output %v, want a failed run without output", res.Success, res.Output)
	}

	// Without limits the same ticket goes through.
	if _, _, err := flujo.Run[Routed](ctx, core, Triage, ticket(t, "FL-107")); err != nil {
		t.Errorf("without limits: %v", err)
	}
}

func TestEmptyTicketFailsBothModels(t *testing.T) {
	core := newTestCore(t)
	ctx := newTestLLM(t, SimConfig{Seed: 1})
	_, res, err := flujo.Run[Routed](ctx, core, Triage, ticket(t, "FL-108"))
	var se *flujo.StepError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *flujo.StepError", err)
	}
	if strings.Join(se.Path, "/") != "triage/classify" {
		t.Errorf("failure path %v, want triage/classify", se.Path)
	}
	if !strings.HasPrefix(se.Feedback, "Original error: ") || !strings.Contains(se.Feedback, "; Fallback error: ") {
		t.Errorf("feedback %q, want the original and the fallback error", se.Feedback)
	}
	var epe *EmptyPromptError
	if !errors.As(err, &epe) {
		t.Errorf("err = %v, want it to wrap *EmptyPromptError", err)
	}
	if c, _ := res.Step("classify"); c.Attempts != 2 {
		t.Errorf("classify attempts = %d, want 2: permanent errors are not retried", c.Attempts)
	}
}

func TestSameSeedSameOutput(t *testing.T) {
	summaries := func(seed uint64) (string, map[string]ModelCalls) {
		core := newTestCore(t)
		llm, err := NewSimLLM(SimConfig{Seed: seed, OverloadPercent: 30, MalformedPercent: 20})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, o := range TriageAll(WithLLM(context.Background(), llm), core, SampleTickets()) {
			b.WriteString(o.Summary())
			b.WriteByte('\n')
		}
		return b.String(), llm.Calls()
	}
	a, ca := summaries(11)
	b, cb := summaries(11)
	if a != b {
		t.Errorf("two runs with seed 11 differ:\n%s\n---\n%s", a, b)
	}
	if ca[LargeModel] != cb[LargeModel] || ca[SmallModel] != cb[SmallModel] {
		t.Errorf("model calls differ: %+v vs %+v", ca, cb)
	}
	if ca[LargeModel].Overloaded+ca[LargeModel].Malformed == 0 {
		t.Errorf("seed 11 injected no failure: %+v", ca)
	}
}

func TestStatsCountTheBatch(t *testing.T) {
	core := newTestCore(t)
	ctx := newTestLLM(t, SimConfig{Seed: 7, OverloadPercent: 25, MalformedPercent: 15})
	tickets := SampleTickets()
	outs := TriageAll(ctx, core, tickets)
	s := core.OptimizationStats()
	if s.Execution.Count != uint64(len(tickets)) {
		t.Errorf("execution count %d, want %d", s.Execution.Count, len(tickets))
	}
	if got := s.Steps["classify"].Execution.Count; got != uint64(len(tickets)) {
		t.Errorf("classify count %d, want %d", got, len(tickets))
	}
	var routed, paged, backlog, fallbacks uint64
	for _, o := range outs {
		if o.Err == nil {
			routed++
			switch o.Routed.Queue {
			case "on-call":
				paged++
			case "backlog":
				backlog++
			}
		}
		if c, ok := o.Result.Step("classify"); ok && c.FallbackTriggered {
			fallbacks++
		}
	}
	if got := s.Steps["page"].Execution.Count; got != paged {
		t.Errorf("page count %d, want %d", got, paged)
	}
	if got := s.Steps["backlog"].Execution.Count; got != backlog {
		t.Errorf("backlog count %d, want %d", got, backlog)
	}
	if got := s.Steps["classify-cheap"].Execution.Count; got != fallbacks {
		t.Errorf("classify-cheap count %d, want %d", got, fallbacks)
	}
	if s.Steps["classify"].Errors.Retries == 0 {
		t.Errorf("no retries counted with a quarter of the calls overloaded")
	}
	if routed != uint64(len(tickets)-2) { // the expensive and the empty ticket
		t.Errorf("%d tickets routed, want %d", routed, len(tickets)-2)
	}
}

func TestRunPrintsResultsKeyFiguresAndRecommendations(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-latency=0"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{
		"== examples/triage: 12 support tickets",
		"\nFL-101  urgent   on-call  on-call engineer  outage",
		"\nFL-107  stopped ",
		"total_cost_limit: $0.0342 and 3304 tokens used of $0.03 and 8000; ran: classify",
		"\nFL-108  failed ",
		"\nclassify: attempts of the classify step",
		"\nmodel calls: sim-large 15 (",
		"12 of 12 results identical",
		"\nRecommendations: none;",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if !hasRow(text, "runs", "12, 10 succeeded (83%)", 2) || !hasRow(text, "circuit breakers", "7 closed, never opened", 2) {
		t.Errorf("key figures lack the runs or the breakers of both engines:\n%s", text)
	}
	for _, m := range []string{statscmp.Measured, statscmp.Scheduled, statscmp.Unexpected} {
		if strings.Contains(text, "  "+m+"\n") != strings.Contains(text, "\n"+m+" ") {
			t.Errorf("mark %q shown without its legend line, or the reverse:\n%s", m, text)
		}
	}
	if strings.Contains(text, "{") {
		t.Errorf("output holds JSON; it belongs behind -json:\n%s", text)
	}
	if n := strings.Count(text, "\n"); n > report.DemoLines {
		t.Errorf("the demo prints %d lines, more than its share of %d:\n%s", n, report.DemoLines, text)
	}
}

func TestRunWritesFullFiguresWithJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "triage.json")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-latency=0", "-json", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var figures map[string]struct {
		Stats struct {
			Execution struct {
				Count int `json:"count"`
			} `json:"execution"`
			Config struct {
				Threshold int `json:"circuit_breaker_failure_threshold"`
			} `json:"config"`
		} `json:"stats"`
		Recommendations []struct {
			ID string `json:"id"`
		} `json:"recommendations"`
	}
	if err := json.Unmarshal(data, &figures); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	for name, want := range map[string]int{"executor_core": len(SampleTickets()), "generated": len(SampleTickets()), "load_phase": DefaultLoadPlan(7).Tickets()} {
		f, ok := figures[name]
		if !ok || f.Stats.Execution.Count != want || f.Stats.Config.Threshold != 10 {
			t.Errorf("%s: present %v, %d runs, threshold %d; want %d runs on the defaults", name, ok, f.Stats.Execution.Count, f.Stats.Config.Threshold, want)
		}
	}
	if len(figures["load_phase"].Recommendations) == 0 {
		t.Error("load phase: no recommendations in the JSON")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"-overload=101"}, {"-latency=-1s"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if errb.Len() == 0 {
			t.Errorf("%v: nothing on stderr", args)
		}
	}
}

func TestStepsNeedAModel(t *testing.T) {
	if _, err := Classify(context.Background(), Ticket{ID: "x", Subject: "s"}); !errors.Is(err, ErrNoModel) {
		t.Errorf("Classify: %v, want ErrNoModel", err)
	}
	if _, err := ScoreSentiment(context.Background(), Classification{}, &TriageState{}); !errors.Is(err, ErrNoModel) {
		t.Errorf("ScoreSentiment: %v, want ErrNoModel", err)
	}
}

func TestValidClassification(t *testing.T) {
	good := Classification{Category: CategoryBug, Priority: P2, Confidence: 0.9}
	tests := []struct {
		name   string
		modify func(*Classification)
		want   string
	}{
		{"valid", func(*Classification) {}, ""},
		{"category", func(c *Classification) { c.Category = "urgent!!" }, `unknown category "urgent!!"`},
		{"priority", func(c *Classification) { c.Priority = "P0" }, `unknown priority "P0"`},
		{"confidence", func(c *Classification) { c.Confidence = 1.5 }, "confidence 1.50 is outside [0, 1]"},
	}
	for _, tt := range tests {
		c := good
		tt.modify(&c)
		got := ""
		if err := ValidClassification(c); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: error %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestChooseQueue(t *testing.T) {
	tests := []struct {
		priority, plan, sentiment, want string
	}{
		{P1, PlanFree, SentimentHappy, RouteUrgent},
		{P2, PlanEnterprise, SentimentAngry, RouteUrgent},
		{P4, PlanEnterprise, SentimentAngry, RouteUrgent},
		{P2, PlanTeam, SentimentAngry, RouteNormal},
		{P3, PlanEnterprise, SentimentNeutral, RouteNormal},
		{P4, PlanFree, SentimentNeutral, RouteLater},
	}
	for _, tt := range tests {
		e := Enriched{Classification: Classification{Priority: tt.priority}, Account: Account{Plan: tt.plan}, Sentiment: Sentiment{Label: tt.sentiment}}
		if got := ChooseQueue(e); got != tt.want {
			t.Errorf("%s/%s/%s: %q, want %q", tt.priority, tt.plan, tt.sentiment, got, tt.want)
		}
	}
}

func TestNewSimLLMRejectsBadSettings(t *testing.T) {
	tests := []struct {
		cfg  SimConfig
		want string
	}{
		{SimConfig{OverloadPercent: -1}, "OverloadPercent is -1"},
		{SimConfig{MalformedPercent: 101}, "MalformedPercent is 101"},
		{SimConfig{OverloadPercent: 60, MalformedPercent: 60}, "OverloadPercent+MalformedPercent is 120"},
		{SimConfig{MaxLatency: -1}, "MaxLatency is -1ns"},
	}
	for _, tt := range tests {
		_, err := NewSimLLM(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want an error with %q", tt.cfg, err, tt.want)
		}
	}
}

// hasRow reports whether text has a line that starts with name followed by
// two spaces and holds cell n times.
func hasRow(text, name, cell string, n int) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, name+"  ") && strings.Count(l, cell) == n {
			return true
		}
	}
	return false
}
