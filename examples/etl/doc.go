// Etl cleans and totals exports of orders.
//
// The pipeline (see pipeline.go) parses a CSV export, then processes its
// rows with a Map that keeps at most Workers rows in flight:
//
//   - "normalise" is a Loop: each pass fixes one problem of the row (stray
//     spaces, an upper-case e-mail, a country name instead of its code, a
//     currency symbol or a decimal comma in the amount) until the row is
//     clean. A row still dirty after MaxLoops passes is quarantined by the
//     loop's Fallback.
//   - "lookup-country" asks a reference service for the country's name and
//     region. The lookup is pure, so it is cached (Cache): with
//     enable_cache_optimization on, a country is fetched once and every
//     other row of that country is a cache hit.
//
// Two exports are processed; the second one mostly hits the cache. The
// output shows the records, the totals per region, the calls that reached
// the reference service, and the executor's statistics and
// recommendations.
//
// Run it from the module root:
//
//	go run ./examples/etl [-latency D] [-json FILE]
//
// It prints what each export gave as a table, the key figures of the
// ExecutorCore next to the generated executor's, the recommendations and a
// load phase; -json writes the full statistics and recommendations of each
// executor to FILE.
package main

//go:generate go tool flujogen generate
