// Package triage is the pipeline of the design document.
package triage

import (
	"context"
	"time"

	"github.com/flujo/flujo"
)

type Ticket struct {
	ID    string
	Body  string
	Tags  []string
	Queue string
}

type CRMRecord struct{ Customer string }

type Sentiment struct{ Score float64 }

type Enriched struct {
	Ticket    Ticket
	CRM       CRMRecord
	Sentiment Sentiment
}

type TriageState struct {
	Seen   int
	Scores map[string]float64
}

func Classify(ctx context.Context, t Ticket) (Ticket, error) { return t, nil }

func LookupCRM(ctx context.Context, t Ticket) (CRMRecord, error) {
	return CRMRecord{Customer: t.ID}, nil
}

func Score(ctx context.Context, t Ticket, st *TriageState) (Sentiment, error) {
	st.Seen++
	st.Scores[t.ID] = 0.5
	return Sentiment{Score: 0.5}, nil
}

func JoinEnrichment(c CRMRecord, s Sentiment) Enriched { return Enriched{CRM: c, Sentiment: s} }

func ChooseQueue(e Enriched) string { return e.Ticket.Queue }

func PageOnCall(ctx context.Context, e Enriched) (Ticket, error) { return e.Ticket, nil }

func Enqueue(ctx context.Context, e Enriched) (Ticket, error) { return e.Ticket, nil }

var Triage = flujo.Pipeline("triage",
	flujo.Step("classify", Classify, flujo.Retries(2), flujo.Cache()),
	flujo.Parallel("enrich", JoinEnrichment,
		flujo.Step("crm", LookupCRM, flujo.Timeout(200*time.Millisecond)),
		flujo.StepS("sentiment", Score),
	).With(flujo.Merge(flujo.ErrorOnConflict)),
	flujo.Branch("route", ChooseQueue, map[string]flujo.Node{
		"urgent": flujo.Step("page", PageOnCall),
		"normal": flujo.Step("queue", Enqueue),
	}),
)
