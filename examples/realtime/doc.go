// Package realtime serves a question-answering API over HTTP: one pipeline run per
// request, on an ExecutorCore configured with the real-time-api profile.
//
// POST /v1/answer takes {"question": "...", "max_tokens": N} and answers
// from the documentation of flujo's configuration fields. The pipeline (see
// pipeline.go) checks the question, retrieves the fields it is about, and
// asks a simulated upstream model to write the answer, under a timeout,
// with one retry and a validator.
//
// Failures map to HTTP status codes: a bad question is 400 (its error
// declares itself bad input, so no number of bad questions opens a circuit
// breaker and good requests keep getting 200), a request whose
// token budget (max_tokens) is spent is 429, an upstream failure is 502, an
// open circuit breaker is 503 with Retry-After, and a timeout is 504.
// GET /v1/stats and GET /v1/recommendations expose the executor's
// statistics and recommendations; GET /healthz reports readiness.
// GET /debug/flujo is a status page to read in a browser (package
// statuspage): every step with its latencies, success rate, cache hit rate
// and breaker state, the limiter's level, the memory pressure and the
// current recommendations; GET /debug/flujo?format=json is the same as JSON.
//
// The command is cmd/realtime, a module of its own that calls MainWith and
// wires in what comes from contrib: it serves GET /metrics, the executor's
// metrics in the Prometheus text format (contrib/prometheus), through
// Options.Routes. Run it from its directory:
//
//	cd examples/realtime/cmd/realtime
//	go run . [-addr 127.0.0.1:8080]
//	go run . -demo
//
// With -demo (or -once) it sends a few requests in-process, prints the
// responses as a table, the key figures of the ExecutorCore next to the
// generated executor's and the recommendations, and exits; -json FILE also
// writes both executors' full statistics and recommendations as JSON.
package realtime

//go:generate go tool flujogen generate
