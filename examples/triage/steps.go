package main

import (
	"context"
	"fmt"
)

// smallBodyTokens is how much of a body the small model is shown.
const smallBodyTokens = 600

// Classify asks the large model to classify t.
func Classify(ctx context.Context, t Ticket) (Classification, error) {
	llm, err := LLMFrom(ctx)
	if err != nil {
		return Classification{}, err
	}
	return llm.Classify(ctx, LargeModel, t)
}

// ClassifyCheap asks the small model, showing it the start of the body only:
// a long ticket is still classified, from less text.
func ClassifyCheap(ctx context.Context, t Ticket) (Classification, error) {
	llm, err := LLMFrom(ctx)
	if err != nil {
		return Classification{}, err
	}
	shown := t
	truncated := false
	if limit := smallBodyTokens * 4; len(shown.Body) > limit {
		shown.Body, truncated = shown.Body[:limit], true
	}
	c, err := llm.Classify(ctx, SmallModel, shown)
	if err != nil {
		return Classification{}, err
	}
	c.Ticket, c.Truncated = t, truncated
	return c, nil
}

// ValidClassification rejects answers that name no known category or
// priority, or whose confidence is not a probability.
func ValidClassification(c Classification) error {
	switch c.Category {
	case CategoryOutage, CategoryBug, CategoryBilling, CategoryHowTo, CategoryFeature:
	default:
		return fmt.Errorf("unknown category %q", c.Category)
	}
	switch c.Priority {
	case P1, P2, P3, P4:
	default:
		return fmt.Errorf("unknown priority %q", c.Priority)
	}
	if c.Confidence < 0 || c.Confidence > 1 {
		return fmt.Errorf("confidence %.2f is outside [0, 1]", c.Confidence)
	}
	return nil
}

// LookupCRM attaches the customer's account to the classified ticket.
func LookupCRM(ctx context.Context, c Classification) (CustomerContext, error) {
	if err := ctx.Err(); err != nil {
		return CustomerContext{}, err
	}
	return CustomerContext{Classification: c, Account: accountOf(c.Ticket.Customer)}, nil
}

// accountOf is the simulated CRM: a few known customers, the rest on the
// free plan.
func accountOf(customer string) Account {
	switch customer {
	case "acme.example":
		return Account{Customer: customer, Plan: PlanEnterprise, Owner: "dana"}
	case "globex.example":
		return Account{Customer: customer, Plan: PlanEnterprise, Owner: "lee"}
	case "initech.example", "umbrella.example":
		return Account{Customer: customer, Plan: PlanTeam}
	}
	return Account{Customer: customer, Plan: PlanFree}
}

// ScoreSentiment scores how the customer sounds and notes it in the
// pipeline state.
func ScoreSentiment(ctx context.Context, c Classification, st *TriageState) (Sentiment, error) {
	llm, err := LLMFrom(ctx)
	if err != nil {
		return Sentiment{}, err
	}
	s, flags, err := llm.Sentiment(ctx, c.Ticket)
	if err != nil {
		return Sentiment{}, err
	}
	st.Sentiment, st.Flags = s.Label, flags
	return s, nil
}

// JoinEnrichment puts the outputs of the enrichment branches together.
func JoinEnrichment(cc CustomerContext, s Sentiment) Enriched {
	return Enriched{Classification: cc.Classification, Account: cc.Account, Sentiment: s}
}

// Route keys. ChooseQueue returns RouteLater for tickets no case takes;
// the branch's Default files them.
const (
	RouteUrgent = "urgent"
	RouteNormal = "normal"
	RouteLater  = "later"
)

// ChooseQueue picks the route: outages, and angry enterprise customers, are
// urgent; bugs, billing and questions are normal; the rest waits.
func ChooseQueue(e Enriched) string {
	c := e.Classification
	switch {
	case c.Priority == P1:
		return RouteUrgent
	case e.Account.Plan == PlanEnterprise && e.Sentiment.Label == SentimentAngry:
		return RouteUrgent
	case c.Priority == P2 || c.Priority == P3:
		return RouteNormal
	}
	return RouteLater
}

func routed(e Enriched, queue, assignee string) Routed {
	c := e.Classification
	return Routed{TicketID: c.Ticket.ID, Queue: queue, Assignee: assignee, Category: c.Category, Priority: c.Priority, Model: c.Model}
}

// PageOnCall pages the on-call engineer.
func PageOnCall(_ context.Context, e Enriched) (Routed, error) {
	return routed(e, "on-call", "on-call engineer"), nil
}

// Enqueue puts the ticket in the billing or the support queue, assigned to
// the account manager when there is one.
func Enqueue(_ context.Context, e Enriched) (Routed, error) {
	queue := "support"
	if e.Classification.Category == CategoryBilling {
		queue = "billing"
	}
	assignee := "support rota"
	if e.Account.Owner != "" {
		assignee = e.Account.Owner
	}
	return routed(e, queue, assignee), nil
}

// Backlog files the ticket for the product team.
func Backlog(_ context.Context, e Enriched) (Routed, error) {
	return routed(e, "backlog", "product team"), nil
}
