// Package bench holds side-by-side benchmarks of the flujo runtime against
// the libraries people would otherwise reach for: sony/gobreaker and
// failsafe-go for circuit breaking, plain otter and hashicorp/golang-lru for
// caching, mitchellh/hashstructure and encoding/json with SHA-256 for key
// hashing, sync.Pool for pooling, and errgroup, ants and conc for work
// distribution. The shared-state benchmarks (contrib/redis) run against a
// real redis-server, skipped when it is missing: a second-level cache hit
// beside a bare rueidis GET and the 1 ms step it saves, and the closed path
// of a shared breaker beside gobreaker v2's DistributedCircuitBreaker.
//
// It is a module of its own so that none of those peers enter the main
// module's requirements. Every benchmark is named Group/variant with the
// variant "flujo" for ours, so that `go run ./cmd/benchtable` can put each
// peer next to ours and print the ratio:
//
//	go test -run '^$' -bench . -benchmem -count 5 -benchtime 1s ./... | tee bench.txt
//	go run ./cmd/benchtable < bench.txt
package bench
