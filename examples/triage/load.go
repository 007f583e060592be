package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/report"
	"github.com/flujo/flujo/runtime"
)

// The load phase sends a burst of tickets through Triage while the large
// model has an incident, on an executor of its own, so that its counters
// hold enough executions for the recommendation rules to judge.
//
// The executor runs on the embedded defaults with a simulated clock: the
// burst spans minutes of simulated time (one ticket every LoadPlan.Interval),
// so the circuit breaker's 60 s recovery timeout passes several times while
// the whole phase takes well under a second of real time. The model answers
// at once, since a latency would show in no counter on that clock. Every
// ticket is a real run of Triage, every figure printed is the executor's own.

// IncidentStage is a stretch of the burst and the large model's failure
// rates during it.
type IncidentStage struct {
	Name             string
	Tickets          int
	OverloadPercent  int // large-model calls that fail as overloaded
	MalformedPercent int // large-model calls that answer nonsense
}

// LoadPlan describes the load phase.
type LoadPlan struct {
	// Seed makes the tickets and the model's outcomes reproducible.
	Seed uint64
	// Interval is the simulated time between two tickets.
	Interval time.Duration
	// Stages follow each other in order.
	Stages []IncidentStage
}

// DefaultLoadPlan is the demo's incident: a steady start, a long stretch in
// which the large model fails four calls in five, and a recovery.
func DefaultLoadPlan(seed uint64) LoadPlan {
	return LoadPlan{
		Seed:     seed,
		Interval: 8 * time.Second,
		Stages: []IncidentStage{
			{Name: "steady", Tickets: 40, OverloadPercent: 2, MalformedPercent: 2},
			{Name: "incident", Tickets: 300, OverloadPercent: 75, MalformedPercent: 5},
			{Name: "recovered", Tickets: 20, OverloadPercent: 2, MalformedPercent: 2},
		},
	}
}

// Tickets returns the number of tickets of all stages.
func (p LoadPlan) Tickets() int {
	n := 0
	for _, s := range p.Stages {
		n += s.Tickets
	}
	return n
}

// StageOutcome counts what happened to a stage's tickets.
type StageOutcome struct {
	Stage IncidentStage
	// Large counts tickets the large model classified.
	Large int
	// FallbackBreaker counts tickets the small model classified because the
	// large model's breaker was open; FallbackModel those it classified
	// after the large model's own failures.
	FallbackBreaker, FallbackModel int
	// Failed counts tickets that were not routed.
	Failed int
}

// LoadReport is what the load phase did and what its executor reports.
type LoadReport struct {
	Plan            LoadPlan
	Config          runtime.OptimizationConfig
	Stages          []StageOutcome
	Calls           map[string]ModelCalls
	Stats           runtime.Stats
	Recommendations []runtime.Recommendation
}

// LoadTickets returns n tickets for the burst: the sample tickets that fit
// the large model and a ticket's budget, drawn with seed, each with its own
// ID so that the model's outcomes differ from ticket to ticket.
func LoadTickets(seed uint64, n int) []Ticket {
	var pool []Ticket
	for _, t := range SampleTickets() {
		if t.Subject != "" && len(t.Body) < 300 {
			pool = append(pool, t)
		}
	}
	r := rand.New(rand.NewPCG(seed, 0x10ad))
	out := make([]Ticket, n)
	for i := range out {
		t := pool[r.IntN(len(pool))]
		t.ID = fmt.Sprintf("LD-%04d", i+1)
		out[i] = t
	}
	return out
}

// RunLoad runs the load phase of plan on a new executor and returns its
// report. The executor is closed before RunLoad returns.
func RunLoad(ctx context.Context, plan LoadPlan) (LoadReport, error) {
	clock := runtime.NewFakeClock(0)
	cfg := runtime.DefaultOptimizationConfig()
	core, err := flujo.NewExecutorCore(cfg, flujo.WithClock(clock))
	if err != nil {
		return LoadReport{}, err
	}
	defer core.Close(context.Background())

	rep := LoadReport{Plan: plan, Config: core.OptimizationConfig(), Calls: map[string]ModelCalls{}}
	tickets := LoadTickets(plan.Seed, plan.Tickets())
	for _, stage := range plan.Stages {
		// Each stage has its own model, whose failure rates are the stage's.
		llm, err := NewSimLLM(SimConfig{Seed: plan.Seed,
			OverloadPercent: stage.OverloadPercent, MalformedPercent: stage.MalformedPercent})
		if err != nil {
			return LoadReport{}, fmt.Errorf("stage %s: %w", stage.Name, err)
		}
		sctx := WithLLM(ctx, llm)
		out := StageOutcome{Stage: stage}
		for _, t := range tickets[:stage.Tickets] {
			var st TriageState
			_, res, err := flujo.Run[Routed](sctx, core, Triage, t, flujo.WithState(&st), flujo.WithUsageLimits(TicketLimits()))
			if ctx.Err() != nil {
				return LoadReport{}, ctx.Err()
			}
			loadCount(&out, res, err)
			clock.Advance(plan.Interval)
		}
		tickets = tickets[stage.Tickets:]
		rep.Stages = append(rep.Stages, out)
		for m, c := range llm.Calls() {
			sum := rep.Calls[m]
			sum.Calls += c.Calls
			sum.Overloaded += c.Overloaded
			sum.Malformed += c.Malformed
			sum.Rejected += c.Rejected
			rep.Calls[m] = sum
		}
	}
	rep.Stats = core.OptimizationStats()
	rep.Recommendations = core.PerformanceRecommendations()
	return rep, nil
}

// loadCount adds one ticket's run to out.
func loadCount(out *StageOutcome, res *flujo.PipelineResult, err error) {
	if err != nil {
		out.Failed++
		return
	}
	c, _ := res.Step("classify")
	var coe *flujo.CircuitOpenError
	switch {
	case !c.FallbackTriggered:
		out.Large++
	case errors.As(c.OriginalError, &coe):
		out.FallbackBreaker++
	default:
		out.FallbackModel++
	}
}

// runLoad runs the load phase after the sample batch and prints it.
func runLoad(ctx context.Context, seed uint64, stdout, stderr io.Writer) int {
	rep, err := RunLoad(ctx, DefaultLoadPlan(seed))
	if err != nil {
		fmt.Fprintln(stderr, "load phase:", err)
		return 1
	}
	printLoad(stdout, rep)
	return 0
}

// printLoad prints a compact summary of the load phase and its executor's
// recommendations.
func printLoad(w io.Writer, rep LoadReport) {
	p, cfg := rep.Plan, rep.Config
	span := time.Duration(p.Tickets()) * p.Interval
	fmt.Fprintf(w, "\n-- load phase: %d tickets during an incident of %s (seed %d), on a new ExecutorCore on the embedded defaults and a simulated clock: one ticket every %v, %v in all\n",
		p.Tickets(), LargeModel, p.Seed, p.Interval, span)
	rows := [][]string{{"stage", "tickets", "overloaded", "malformed", "large", "fallback(breaker)", "fallback(model)", "failed"}}
	for _, s := range rep.Stages {
		rows = append(rows, []string{s.Stage.Name, fmt.Sprint(s.Stage.Tickets), fmt.Sprintf("%d%%", s.Stage.OverloadPercent), fmt.Sprintf("%d%%", s.Stage.MalformedPercent),
			fmt.Sprint(s.Large), fmt.Sprint(s.FallbackBreaker), fmt.Sprint(s.FallbackModel), fmt.Sprint(s.Failed)})
	}
	report.Table(w, rows)
	fmt.Fprintf(w, "overloaded, malformed: %s's failure rates in the stage; tickets classified by %s (large), by %s while the breaker of classify was open (fallback(breaker)) or after %s failed (fallback(model)).\n",
		LargeModel, LargeModel, SmallModel, LargeModel)
	fmt.Fprintf(w, "model calls: %s\n", modelCalls(rep.Calls))
	e := rep.Stats.Errors
	fmt.Fprintf(w, "step executions: %d, %d failed (%.1f%%); %d retries; %d recovery attempts, %d recovered (%.1f%%)\n",
		e.Executions, e.Failures, 100*e.ErrorRate(), e.Retries, e.RecoveryAttempts, e.Recoveries, 100*e.RecoverySuccessRate())
	b := rep.Stats.Steps["classify"].CircuitBreaker
	fmt.Fprintf(w, "breaker of classify (threshold %d failures): %d calls, %d failed (%.1f%%), %d rejected, opened %d times, now %s\n",
		cfg.CircuitBreakerFailureThreshold, b.Calls, b.Failures, 100*b.FailureRate(), b.Rejections, b.Opens, b.State)
	report.Recommendations(w, rep.Recommendations)
}
