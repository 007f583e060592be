// Package io holds I/O-bound pipelines, compiled by flujogen under the
// default configuration for the concurrency-limiter benchmarks: a burst of
// three steps that wait on an upstream, and one call to a simulated
// upstream that slows down past its capacity.
package io

//go:generate go run github.com/flujo/flujo/cmd/flujogen generate

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo"
)

// StepWait is how long each step of Burst waits, as on a remote call.
const StepWait = 20 * time.Millisecond

// Wait waits StepWait, or until ctx ends.
func Wait(ctx context.Context, x int) (int, error) {
	t := time.NewTimer(StepWait)
	defer t.Stop()
	select {
	case <-t.C:
		return x + 1, nil
	case <-ctx.Done():
		return x, ctx.Err()
	}
}

// Burst is three I/O-bound steps in a row.
var Burst = flujo.Pipeline("burst", flujo.Step("a", Wait), flujo.Step("b", Wait), flujo.Step("c", Wait))

// Upstream simulates a service of capacity Capacity: a call's service time
// is Base while at most Capacity calls are in flight and grows by 2 x Base
// per Capacity calls beyond that (contention: past capacity, throughput
// falls). The service time is fixed when the call starts.
type Upstream struct {
	Capacity int
	Base     time.Duration
	inflight atomic.Int64
}

// Call serves one request, or returns ctx.Err() when ctx ends first.
func (u *Upstream) Call(ctx context.Context) error {
	n := int(u.inflight.Add(1))
	defer u.inflight.Add(-1)
	d := u.Base
	if n > u.Capacity {
		d += 2 * u.Base * time.Duration(n-u.Capacity) / time.Duration(u.Capacity)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Request is one call to an upstream.
type Request struct {
	U *Upstream
}

// Hash64 keeps the upstream out of cache keys.
func (r Request) Hash64() uint64 { return 0 }

// CallUpstream calls r's upstream.
func CallUpstream(ctx context.Context, r Request) (Request, error) {
	return r, r.U.Call(ctx)
}

// Overload is one call to an upstream, with no retry: a call cut by its
// deadline is not repeated.
var Overload = flujo.Step("call", CallUpstream, flujo.Retries(0))
