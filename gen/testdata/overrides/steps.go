// Package overrides holds a pipeline whose flujo.json overrides every
// setting a step override may change: retries, timeout, cache on and off,
// cache TTL and the breaker's threshold and recovery. The ExecutorCore
// loaded from that file and the executor generated from it must give the
// same results and histories run by run.
package overrides

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/flujo/flujo"
)

// Order is one run's input and output. It holds no references, so cached
// results need no copy.
type Order struct {
	ID string
	// PriceFailures is how many times price fails for this ID before it
	// succeeds.
	PriceFailures int
	// Block makes pack wait until its context is done.
	Block bool
	// NotifyFails makes notify fail.
	NotifyFails bool
	Total       int
}

// ErrPrice and ErrNotify are what failing steps return.
var (
	ErrPrice  = errors.New("overrides: price failed")
	ErrNotify = errors.New("overrides: notify failed")
)

var (
	mu     sync.Mutex
	failed = map[string]int{}
	calls  = map[string]int{}
)

// Reset forgets the failures and calls counted so far.
func Reset() {
	mu.Lock()
	defer mu.Unlock()
	failed, calls = map[string]int{}, map[string]int{}
}

// Calls returns how many times the step named step was called since Reset.
func Calls(step string) int {
	mu.Lock()
	defer mu.Unlock()
	return calls[step]
}

func called(step string) {
	mu.Lock()
	defer mu.Unlock()
	calls[step]++
}

// Price fails o.PriceFailures times for o.ID, then adds 10.
func Price(_ context.Context, o Order) (Order, error) {
	called("price")
	mu.Lock()
	n := failed[o.ID]
	if n < o.PriceFailures {
		failed[o.ID] = n + 1
	}
	mu.Unlock()
	if n < o.PriceFailures {
		return Order{}, ErrPrice
	}
	o.Total += 10
	return o, nil
}

// Quote adds 1.
func Quote(_ context.Context, o Order) (Order, error) {
	called("quote")
	o.Total++
	return o, nil
}

// Ship adds 100.
func Ship(_ context.Context, o Order) (Order, error) {
	called("ship")
	o.Total += 100
	return o, nil
}

// Pack waits for its context when o.Block is set.
func Pack(ctx context.Context, o Order) (Order, error) {
	called("pack")
	if o.Block {
		<-ctx.Done()
		return Order{}, ctx.Err()
	}
	return o, nil
}

// Notify fails when o.NotifyFails is set.
func Notify(_ context.Context, o Order) (Order, error) {
	called("notify")
	if o.NotifyFails {
		return Order{}, ErrNotify
	}
	return o, nil
}

// Fulfil runs every step; flujo.json overrides each one.
var Fulfil = flujo.Pipeline("fulfil",
	flujo.Step("price", Price),
	flujo.Step("quote", Quote, flujo.Cache()),
	flujo.Step("ship", Ship),
	flujo.Step("pack", Pack, flujo.Timeout(time.Hour)),
	flujo.Step("notify", Notify, flujo.Retries(0)),
)
