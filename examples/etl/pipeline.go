package main

import "github.com/flujo/flujo"

// Workers is how many rows are processed at once; the reference service
// accepts as many connections.
const Workers = 4

// Passes is how many normalisation passes a row gets before it is
// quarantined.
const Passes = 4

// Orders parses an export, cleans and completes every row, and totals them.
var Orders = flujo.Pipeline("orders",
	flujo.Step("parse", ParseCSV, flujo.Retries(0)),
	flujo.Map[Row, Record]("rows",
		flujo.Pipeline("row",
			flujo.Func("draft", NewDraft),
			flujo.Loop("normalise", flujo.Func("normalise-pass", NormalisePass), IsClean,
				flujo.MaxLoops(Passes),
				flujo.Fallback(flujo.Func("quarantine", Quarantine)),
			),
			flujo.Parallel("complete", AttachCountry,
				flujo.Func("fields", RecordFields),
				flujo.Pipeline("geo",
					flujo.Func("country-code", CountryCode),
					flujo.Step("lookup-country", LookupCountry, flujo.Cache()),
				),
			),
		),
		flujo.Concurrency(Workers),
	),
	flujo.Func("summarise", Summarise),
)
