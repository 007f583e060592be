module github.com/flujo/flujo/examples/realtime/cmd/realtime

go 1.26.8

require (
	github.com/chromedp/chromedp v0.23.1
	github.com/flujo/flujo v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/maypok86/otter/v2 v2.4.0 // indirect
)

replace github.com/flujo/flujo => ../../../..
