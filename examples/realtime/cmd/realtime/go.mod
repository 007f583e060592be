module github.com/flujo/flujo/examples/realtime/cmd/realtime

go 1.26.8

require (
	github.com/chromedp/chromedp v0.23.1
	github.com/flujo/flujo v0.0.0-00010101000000-000000000000
	github.com/flujo/flujo/contrib/prometheus v0.0.0-00010101000000-000000000000
	github.com/flujo/flujo/contrib/redis v0.0.0-00010101000000-000000000000
	github.com/prometheus/client_golang v1.25.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/maypok86/otter/v2 v2.4.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/redis/rueidis v1.0.80 // indirect
	golang.org/x/sys v0.50.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace (
	github.com/flujo/flujo => ../../../..
	github.com/flujo/flujo/contrib/prometheus => ../../../../contrib/prometheus
	github.com/flujo/flujo/contrib/redis => ../../../../contrib/redis
)
