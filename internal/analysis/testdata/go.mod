module example.com/flujotest

go 1.26.8

require github.com/flujo/flujo v0.0.0

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/maypok86/otter/v2 v2.4.0 // indirect
)

replace github.com/flujo/flujo => ../../..
