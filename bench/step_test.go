package bench

import (
	"context"
	"errors"
)

// benchStep is the trivial step every resilience benchmark guards: the
// compiler may not inline it, so each variant pays for one real call.
//
//go:noinline
func benchStep(_ context.Context, x int) (int, error) { return x + 1, nil }

// errBenchStep is the failure used to open breakers.
var errBenchStep = errors.New("step failed")

// benchFailingStep always fails.
//
//go:noinline
func benchFailingStep(_ context.Context, _ int) (int, error) { return 0, errBenchStep }

// benchErrSink receives the errors of the open-breaker benchmarks, so that
// they escape to the heap as errors returned to a caller do.
var benchErrSink error
