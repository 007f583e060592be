package main

import "github.com/flujo/flujo"

// Ticket is a support request as it arrives.
type Ticket struct {
	ID       string
	Customer string // the customer's e-mail domain
	Subject  string
	Body     string
}

// Categories a classification may name.
const (
	CategoryOutage  = "outage"
	CategoryBug     = "bug"
	CategoryBilling = "billing"
	CategoryHowTo   = "how-to"
	CategoryFeature = "feature-request"
)

// Priorities a classification may name, P1 the most urgent.
const (
	P1 = "P1"
	P2 = "P2"
	P3 = "P3"
	P4 = "P4"
)

// Classification is a model's reading of a ticket. It reports what the model
// call cost, so the executor can add it up and enforce usage limits.
type Classification struct {
	Ticket     Ticket
	Category   string
	Priority   string
	Confidence float64
	// Model names the model that answered.
	Model string
	// Truncated reports that the model saw only the start of the body.
	Truncated        bool
	PromptTokens     int
	CompletionTokens int
	Cost             float64
}

// Usage reports the model call's cost and tokens.
func (c Classification) Usage() flujo.Usage {
	return flujo.Usage{Cost: c.Cost, PromptTokens: c.PromptTokens, CompletionTokens: c.CompletionTokens}
}

// Plans a customer account may be on.
const (
	PlanEnterprise = "enterprise"
	PlanTeam       = "team"
	PlanFree       = "free"
)

// Account is what the CRM knows about a customer.
type Account struct {
	Customer string
	Plan     string
	// Owner is the account manager, empty for self-serve plans.
	Owner string
}

// CustomerContext is a classified ticket with the customer's account.
type CustomerContext struct {
	Classification Classification
	Account        Account
}

// Sentiment labels.
const (
	SentimentAngry   = "angry"
	SentimentNeutral = "neutral"
	SentimentHappy   = "happy"
)

// Sentiment is how the customer sounds.
type Sentiment struct {
	Score int // below zero negative, above zero positive
	Label string
	// Tokens is what scoring cost on the small model.
	Tokens int
	Cost   float64
}

// Usage reports the scoring call's cost and tokens.
func (s Sentiment) Usage() flujo.Usage {
	return flujo.Usage{Cost: s.Cost, PromptTokens: s.Tokens}
}

// Enriched is everything routing looks at.
type Enriched struct {
	Classification Classification
	Account        Account
	Sentiment      Sentiment
}

// Routed is where a ticket went.
type Routed struct {
	TicketID string
	// Queue is "on-call", "support", "billing" or "backlog".
	Queue    string
	Assignee string
	Category string
	Priority string
	Model    string
}

// TriageState is the pipeline state: what the steps noted about the ticket
// on the way.
type TriageState struct {
	// Sentiment is the label the sentiment step found.
	Sentiment string
	// Flags are the phrases that moved the sentiment score.
	Flags []string
}
