package main

import (
	"time"

	"github.com/flujo/flujo"
)

// A ticket's budget: runs that go above it are stopped with their partial
// result.
const (
	TicketCostLimit  = 0.03 // dollars
	TicketTokenLimit = 8000
)

// TicketLimits returns the usage limits of one ticket's run.
func TicketLimits() flujo.UsageLimits {
	return flujo.UsageLimits{TotalCostLimit: TicketCostLimit, TotalTokensLimit: TicketTokenLimit}
}

// Triage classifies a ticket, enriches it and routes it.
var Triage = flujo.Pipeline("triage",
	flujo.Step("classify", Classify,
		flujo.Retries(2),
		flujo.Backoff(500*time.Microsecond, 2*time.Millisecond),
		flujo.Validate(ValidClassification),
		flujo.Fallback(flujo.Step("classify-cheap", ClassifyCheap, flujo.Validate(ValidClassification))),
	),
	flujo.Parallel("enrich", JoinEnrichment,
		flujo.Step("crm", LookupCRM, flujo.Timeout(200*time.Millisecond)),
		flujo.StepS("sentiment", ScoreSentiment),
	).With(flujo.Merge(flujo.ErrorOnConflict)),
	flujo.Branch("route", ChooseQueue, map[string]flujo.Node{
		RouteUrgent: flujo.Step("page", PageOnCall),
		RouteNormal: flujo.Step("queue", Enqueue),
	}, flujo.Default(flujo.Step("backlog", Backlog))),
)
