package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/report"
)

// Outcome is one ticket's run.
type Outcome struct {
	Ticket Ticket
	Routed Routed
	State  TriageState
	Result *flujo.PipelineResult
	Err    error
}

// TriageAll runs the tickets through Triage on core one after another, each
// under its own budget.
func TriageAll(ctx context.Context, core *flujo.ExecutorCore, tickets []Ticket) []Outcome {
	return TriageAllWith(ctx, CoreTriage(core), tickets)
}

// TriageFunc runs one ticket through Triage with st as its state.
type TriageFunc func(ctx context.Context, t Ticket, st *TriageState, opts ...flujo.ExecOption) (Routed, *flujo.PipelineResult, error)

// CoreTriage runs Triage on the ExecutorCore.
func CoreTriage(core *flujo.ExecutorCore) TriageFunc {
	return func(ctx context.Context, t Ticket, st *TriageState, opts ...flujo.ExecOption) (Routed, *flujo.PipelineResult, error) {
		return flujo.Run[Routed](ctx, core, Triage, t, append(opts, flujo.WithState(st))...)
	}
}

// TriageAllWith runs the tickets through run one after another, each under
// its own budget.
func TriageAllWith(ctx context.Context, run TriageFunc, tickets []Ticket) []Outcome {
	out := make([]Outcome, 0, len(tickets))
	for _, t := range tickets {
		o := Outcome{Ticket: t}
		o.Routed, o.Result, o.Err = run(ctx, t, &o.State, flujo.WithUsageLimits(TicketLimits()))
		out = append(out, o)
	}
	return out
}

// Summary renders the outcome on one line. Two runs with equal summaries
// routed the ticket alike, at the same cost.
func (o Outcome) Summary() string { return strings.Join(o.Cells(), " | ") }

// CellsHeader heads the columns of Cells.
func CellsHeader() []string {
	return []string{"ticket", "route", "queue", "assignee", "category", "priority", "classify", "cost", "tokens", "sentiment, or why not routed"}
}

// Cells renders the outcome as one row of the results table, the columns of
// CellsHeader. A ticket that was not routed has "stopped" (by its usage
// limits) or "failed" as its route, and the reason in the last column.
func (o Outcome) Cells() []string {
	row := make([]string, 0, 10)
	row = append(row, o.Ticket.ID)
	var ule *flujo.UsageLimitExceededError
	var se *flujo.StepError
	var note string
	switch {
	case o.Err == nil:
		route, _ := o.Result.Step("route")
		row = append(row, route.BranchKey, o.Routed.Queue, o.Routed.Assignee, o.Routed.Category, o.Routed.Priority)
	case errors.As(o.Err, &ule):
		row = append(row, "stopped", "", "", "", "")
		note = fmt.Sprintf("%s: $%.4f and %d tokens used of $%g and %d; ran: %s",
			ule.Limit, ule.Cost, ule.Tokens, ule.Limits.TotalCostLimit, ule.Limits.TotalTokensLimit,
			strings.Join(stepNames(ule.Partial), ", "))
	case errors.As(o.Err, &se):
		row = append(row, "failed", "", "", "", "")
		why := se.Feedback
		if epe := (*EmptyPromptError)(nil); errors.As(o.Err, &epe) {
			why = "no subject and no body: both models refuse it, and it is not retried (EmptyPromptError is permanent)"
		}
		note = fmt.Sprintf("at %s: %s", strings.Join(se.Path, "/"), why)
	default:
		row = append(row, "failed", "", "", "", "")
		note = o.Err.Error()
	}
	classify, cost, toks := "", "", ""
	if o.Result != nil {
		if c, ok := o.Result.Step("classify"); ok {
			classify = fmt.Sprint(c.Attempts)
			if c.FallbackTriggered && c.Success {
				classify += ", fallback"
				note = "fallback after: " + c.OriginalError.Error()
			}
		}
		cost, toks = fmt.Sprintf("$%.4f", o.Result.TotalCost), fmt.Sprint(o.Result.TotalTokens)
	}
	if o.State.Sentiment != "" {
		note = strings.TrimSuffix(o.State.Sentiment+"; "+note, "; ")
	}
	return append(row, classify, cost, toks, note)
}

// printOutcomes prints the results table and the legend of its columns.
func printOutcomes(w io.Writer, outcomes []Outcome) {
	rows := [][]string{CellsHeader()}
	for _, o := range outcomes {
		rows = append(rows, o.Cells())
	}
	report.Table(w, rows)
	fmt.Fprintf(w, "classify: attempts of the classify step, retries included; fallback: %s classified the ticket after %s failed; stopped: the run went over the ticket's budget of $%g and %d tokens.\n",
		SmallModel, LargeModel, TicketCostLimit, TicketTokenLimit)
}

// modelCalls renders the simulated models' calls by outcome on one line.
func modelCalls(calls map[string]ModelCalls) string {
	var parts []string
	for _, m := range slices.Sorted(maps.Keys(calls)) {
		c := calls[m]
		var why []string
		if c.Overloaded > 0 {
			why = append(why, fmt.Sprintf("%d overloaded", c.Overloaded))
		}
		if c.Malformed > 0 {
			why = append(why, fmt.Sprintf("%d malformed", c.Malformed))
		}
		if c.Rejected > 0 {
			why = append(why, report.Count(c.Rejected, "prompt", "prompts")+" refused as empty or too long")
		}
		s := fmt.Sprintf("%s %d", m, c.Calls)
		if len(why) > 0 {
			s += " (" + strings.Join(why, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// stepNames lists the top-level steps a run recorded.
func stepNames(r *flujo.PipelineResult) []string {
	if r == nil {
		return nil
	}
	names := make([]string, len(r.Steps))
	for i, s := range r.Steps {
		names[i] = s.Name
	}
	return names
}
