module github.com/flujo/flujo/examples/realtime/cmd/realtime

go 1.26.8

require (
	github.com/flujo/flujo v0.0.0-00010101000000-000000000000
	github.com/flujo/flujo/contrib/redis v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/maypok86/otter/v2 v2.4.0 // indirect
	github.com/redis/rueidis v1.0.80 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace (
	github.com/flujo/flujo => ../../../..
	github.com/flujo/flujo/contrib/redis => ../../../../contrib/redis
)
