// This file holds WorkGroup, a chunked work distributor that BenchmarkForEach
// compares with errgroup, ants and conc. Neither engine uses it.

package bench

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// workPanicError reports a panic raised by a work item.
type workPanicError struct {
	// Index is the index of the item that panicked.
	Index int
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack, captured in the recovery.
	Stack []byte
}

// Error describes the panic without the stack.
func (e *workPanicError) Error() string {
	return fmt.Sprintf("bench: work item %d panicked: %v", e.Index, e.Value)
}

// Unwrap returns the panic value when it is an error, so errors.Is sees
// through a panic(err).
func (e *workPanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// errWorkGoexit stands in for the result of an item that called
// runtime.Goexit (t.FailNow, for instance): the item did not finish.
var errWorkGoexit = errors.New("bench: work item called runtime.Goexit")

// WorkGroup runs the indices [0, n) of a batch over a bounded set of
// workers, for Map and Parallel. The calling goroutine is one of the
// workers, so a Run starts at most Workers-1 goroutines, and every one of
// them has returned before Run does.
//
// Workers claim chunks of indices from one atomic cursor, so the cost of
// distribution is paid per chunk, not per item. With a chunk size of zero
// the chunks are guided: each claim takes the remaining count divided by
// twice the worker count, at least one, so early claims are large and the
// tail is split finely enough for workers that finish first to take over
// the work of slow ones.
//
// A WorkGroup can be reused; a Run on a reused group does not allocate.
// Runs on one WorkGroup are serialised; use one group per concurrent
// caller (a sync.Pool of groups works well).
type WorkGroup struct {
	_      [64]byte
	cursor atomic.Int64
	_      [56]byte
	stop   atomic.Bool
	_      [63]byte

	// Set per Run, read-only while workers run.
	n       int64
	chunk   int64 // fixed chunk size, or 0 for guided
	divisor int64 // 2 × workers, for guided chunks
	fn      func(context.Context, int)
	ctx     context.Context
	done    <-chan struct{}

	workers int // configured; 0 means GOMAXPROCS at each Run
	size    int // configured chunk size; 0 means guided
	worker  func()
	wg      sync.WaitGroup
	runMu   sync.Mutex
	errMu   sync.Mutex
	err     error
}

// NewWorkGroup returns a WorkGroup with at most workers workers (0 means
// GOMAXPROCS, read at each Run) and a fixed chunk size (0 means guided).
func NewWorkGroup(workers, chunk int) (*WorkGroup, error) {
	if workers < 0 {
		return nil, fmt.Errorf("bench: WorkGroup workers is %d; want 0 (GOMAXPROCS) or more", workers)
	}
	if chunk < 0 {
		return nil, fmt.Errorf("bench: WorkGroup chunk is %d; want 0 (guided) or more", chunk)
	}
	g := &WorkGroup{workers: workers, size: chunk}
	g.worker = g.work
	return g, nil
}

// ForEachIndex calls fn(ctx, i) once for every i in [0, n) on up to workers
// goroutines, the caller's included, and returns once all have finished.
// workers 0 means GOMAXPROCS; chunk 0 means guided chunks (see WorkGroup).
//
// It returns nil when fn ran for every index. When an item panics, the
// others stop claiming new items, items already running finish, and the
// first panic is returned as a *workPanicError. When ctx ends, items not yet
// started are skipped and ctx.Err() is returned. To stop on an item's
// failure, give ForEachIndex a cancellable context and let the item cancel
// it; that also tells running items to stop.
//
// ForEachIndex allocates a WorkGroup per call; reuse a WorkGroup to avoid it.
func ForEachIndex(ctx context.Context, n, workers, chunk int, fn func(ctx context.Context, i int)) error {
	g, err := NewWorkGroup(workers, chunk)
	if err != nil {
		return err
	}
	return g.Run(ctx, n, fn)
}

// Run calls fn(ctx, i) for every i in [0, n), with the semantics of
// ForEachIndex.
func (g *WorkGroup) Run(ctx context.Context, n int, fn func(ctx context.Context, i int)) (err error) {
	if n < 0 {
		return fmt.Errorf("bench: WorkGroup.Run n is %d; want 0 or more", n)
	}
	if fn == nil {
		return errors.New("bench: WorkGroup.Run fn is nil")
	}
	if n == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	workers := g.workers
	if workers == 0 {
		workers = goruntime.GOMAXPROCS(0)
	}
	chunks := n
	if g.size > 0 {
		chunks = (n-1)/g.size + 1
	}
	workers = min(workers, chunks)

	g.runMu.Lock()
	// Deferred so that the workers are joined even if the caller's own
	// share of the items ends in runtime.Goexit.
	defer func() {
		g.wg.Wait()
		err = g.err
		g.err, g.fn, g.ctx, g.done = nil, nil, nil, nil
		g.runMu.Unlock()
	}()
	g.n = int64(n)
	g.chunk = int64(g.size)
	g.divisor = 2 * int64(workers)
	g.fn, g.ctx, g.done = fn, ctx, ctx.Done()
	g.cursor.Store(0)
	g.stop.Store(false)

	g.wg.Add(workers - 1)
	for range workers - 1 {
		go g.worker()
	}
	g.runItems()
	return nil
}

// work is the body of a spawned worker.
func (g *WorkGroup) work() {
	defer g.wg.Done()
	g.runItems()
}

// claim reserves the next chunk of indices.
func (g *WorkGroup) claim() (lo, hi int64) {
	if g.chunk > 0 {
		lo = g.cursor.Add(g.chunk) - g.chunk
		return lo, min(lo+g.chunk, g.n)
	}
	for {
		lo = g.cursor.Load()
		rem := g.n - lo
		if rem <= 0 {
			return lo, lo
		}
		size := max(rem/g.divisor, 1)
		if g.cursor.CompareAndSwap(lo, lo+size) {
			return lo, lo + size
		}
	}
}

// runItems claims chunks until none are left or the group stops.
func (g *WorkGroup) runItems() {
	i := -1
	finished := false
	defer func() {
		if finished {
			return
		}
		// recover returns nil for runtime.Goexit, which unwinds on.
		if r := recover(); r != nil {
			g.fail(&workPanicError{Index: i, Value: r, Stack: debug.Stack()})
		} else {
			g.fail(fmt.Errorf("%w (item %d)", errWorkGoexit, i))
		}
	}()
	fn, ctx, done := g.fn, g.ctx, g.done
	for {
		lo, hi := g.claim()
		if lo >= hi {
			break
		}
		for i = int(lo); i < int(hi); i++ {
			if g.stop.Load() {
				finished = true
				return
			}
			if done != nil {
				select {
				case <-done:
					g.fail(ctx.Err())
					finished = true
					return
				default:
				}
			}
			fn(ctx, i)
		}
	}
	finished = true
}

// fail stops the group and records err. A panic outranks a cancellation,
// because it is a bug the caller must see; otherwise the first error wins.
func (g *WorkGroup) fail(err error) {
	g.stop.Store(true)
	g.errMu.Lock()
	if g.err == nil {
		g.err = err
	} else if _, isPanic := err.(*workPanicError); isPanic {
		if _, had := g.err.(*workPanicError); !had {
			g.err = err
		}
	}
	g.errMu.Unlock()
}
