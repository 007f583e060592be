package main

import (
	"fmt"
	"strings"
)

// SampleTickets returns the demo batch: everyday tickets, and a few that
// exercise the fallback, the usage limit and a failure of both models.
func SampleTickets() []Ticket {
	return []Ticket{
		{ID: "FL-101", Customer: "acme.example", Subject: "All pipelines are down after upgrading to v0.9",
			Body: "Since this morning every production pipeline hangs in its first step. This is unacceptable, we need a fix asap."},
		{ID: "FL-102", Customer: "initech.example", Subject: "Charged twice for the March invoice",
			Body: "Our card was charged twice for invoice INV-2231. Could you refund one of the payments? Thanks!"},
		{ID: "FL-103", Customer: "example.org", Subject: "Setting cache_ttl_seconds for a single step",
			Body: "How do I give one step a shorter cache TTL than the rest of the pipeline?"},
		{ID: "FL-104", Customer: "umbrella.example", Subject: "Feature request: Mermaid export of pipeline graphs",
			Body: "It would be nice to paste the pipeline graph into our design docs. We love the tool, great work."},
		{ID: "FL-105", Customer: "globex.example", Subject: "Circuit breaker never closes",
			Body: "Third time I am reporting this: after the recovery timeout the breaker of our enrich step stays open. Frustrating."},
		{ID: "FL-106", Customer: "example.net", Subject: "Panic in a parallel merge, full log attached",
			Body: longLog(500)},
		{ID: "FL-107", Customer: "bigdata.example", Subject: "Wrong results from a map step, detailed report",
			Body: longReport(45)},
		{ID: "FL-108", Customer: "example.com"},
		{ID: "FL-109", Customer: "acme.example", Subject: "Data loss: step history missing from results",
			Body: "Results of yesterday's runs have no step history at all."},
		{ID: "FL-110", Customer: "example.org", Subject: "Exit codes of flujogen check",
			Body: "Is there documentation on what each exit code of flujogen check means?"},
		{ID: "FL-111", Customer: "initech.example", Subject: "Stats page is slow",
			Body: "Loading the optimization stats takes a few seconds since we enabled telemetry."},
		{ID: "FL-112", Customer: "globex.example", Subject: "Error classifier question",
			Body: "How to tell which error patterns were learned as permanent?"},
	}
}

// longLog is a pasted log of n lines: too long for the large model.
func longLog(n int) string {
	var b strings.Builder
	b.WriteString("panic: parallel \"enrich\": merge of branch copies\n")
	for i := range n {
		fmt.Fprintf(&b, "2025-03-14T09:%02d:%02d worker=%d step=enrich state=merging\n", i/60%60, i%60, i%8)
	}
	return b.String()
}

// longReport is a report of n paragraphs: within the large model's window,
// but dearer than a ticket's budget.
func longReport(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Case %d: the map over %d records returned the outputs in the wrong order, expected record %d first.\n", i, 100+i, i)
		b.WriteString("We reran it with Concurrency(1) and with Concurrency(8); the order differs between runs. ")
		b.WriteString("Attached are the inputs, the outputs and the step history of both runs for comparison.\n")
	}
	return b.String()
}
