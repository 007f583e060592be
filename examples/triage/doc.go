// Triage classifies the support tickets of the flujo project and routes them
// to a queue.
//
// The pipeline (see pipeline.go) shows the resilience options of a leaf step
// and the compositions around it:
//
//   - "classify" asks a simulated language model for a category and a
//     priority. The model is slow, costs money, is sometimes overloaded and
//     sometimes answers nonsense: the output is validated, failed attempts are
//     retried with backoff, and after the last attempt a cheaper model takes
//     over (Fallback).
//   - "enrich" looks up the customer's account and scores the ticket's
//     sentiment in parallel; the sentiment step records what it found in the
//     pipeline state (*TriageState).
//   - "route" pages the on-call engineer, queues the ticket, or, for any other
//     key, files it in the backlog (Default).
//
// Every ticket runs under a usage limit, so an expensive ticket is stopped
// with its partial result. The simulated model is seeded: the same seed gives
// the same output.
//
// Run it from the module root:
//
//	go run ./examples/triage [-seed N] [-latency D] [-json FILE]
//
// It prints the results as a table, the key figures of the ExecutorCore next
// to the generated executor's, the recommendations and a load phase; -json
// writes the full statistics and recommendations of each executor to FILE.
package main

//go:generate go tool flujogen generate
