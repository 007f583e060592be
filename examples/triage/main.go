package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/flujo/flujo"
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

// Summary renders the outcome on one line.
func (o Outcome) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s ", o.Ticket.ID)
	var ule *flujo.UsageLimitExceededError
	var se *flujo.StepError
	switch {
	case o.Err == nil:
		route, _ := o.Result.Step("route")
		fmt.Fprintf(&b, "%-6s -> %-7s %-16s %s/%s", route.BranchKey, o.Routed.Queue, o.Routed.Assignee, o.Routed.Category, o.Routed.Priority)
	case errors.As(o.Err, &ule):
		fmt.Fprintf(&b, "stopped by %s: $%.4f and %d tokens used of $%g and %d; ran: %s",
			ule.Limit, ule.Cost, ule.Tokens, ule.Limits.TotalCostLimit, ule.Limits.TotalTokensLimit,
			strings.Join(stepNames(ule.Partial), ", "))
	case errors.As(o.Err, &se):
		fmt.Fprintf(&b, "failed at %s: %s", strings.Join(se.Path, "/"), se.Feedback)
	default:
		fmt.Fprintf(&b, "failed: %v", o.Err)
	}
	if o.Result != nil {
		if c, ok := o.Result.Step("classify"); ok {
			fmt.Fprintf(&b, " | classify attempts=%d", c.Attempts)
			if c.FallbackTriggered && c.Success {
				fmt.Fprintf(&b, " fallback (%s)", shorten(c.OriginalError.Error(), 60))
			}
		}
		fmt.Fprintf(&b, " | $%.4f %d tokens", o.Result.TotalCost, o.Result.TotalTokens)
	}
	if o.State.Sentiment != "" {
		fmt.Fprintf(&b, " | %s", o.State.Sentiment)
	}
	return b.String()
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

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
