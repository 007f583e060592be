// Package statuspage serves a live status page of a flujo executor, like
// /debug/pprof or expvar do for the Go runtime: one HTML page that a person
// reads in a browser, and its JSON twin for programs.
//
// The page shows every step with its executions, success rate, p50, p95
// and p99 latencies, cache hit rate and circuit breaker state; the run
// totals; the concurrency limiter's level; the memory pressure; and the
// current recommendations as sentences with their priority. It is built
// with html/template from an embedded template, with inline CSS, no
// JavaScript and no external assets, so it works offline and escapes every
// name it shows (step names are user data).
//
// Mount Handler on a path of your choice; /debug/flujo is the convention:
//
//	mux.Handle("/debug/flujo", statuspage.Handler(core))
//
// GET or HEAD of that path returns the HTML page; with the query
// ?format=json it returns the same figures as a Status in JSON. Any other
// method is answered 405 Method Not Allowed. The ExecutorCore and every
// executor flujogen generates satisfy Source.
//
// Like pprof, the page shows the inner workings of a service: mount it
// where only its operators can reach it.
package statuspage
