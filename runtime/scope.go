package runtime

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// CancelScope is a cancellable context.Context that an executor takes from a
// ScopePool for one run of a Parallel or a Map, hands to the branches, and
// gives back when the run ends. It behaves like the context of
// context.WithCancel(parent): Cancel cancels it, a cancelled parent cancels
// it, Err, Done, Value and Deadline follow the context.Context contract, and
// context.Cause, context.AfterFunc and contexts derived from it work as they
// do on a standard context. Unlike context.WithCancel it costs no allocation
// when nobody but the executor looks at it.
//
// Why pooling a context is safe here. A context is normally immutable once
// handed out: whoever holds it may look at it at any time, so reusing it for
// another run would show that run's cancellation and values to a stale
// holder. A CancelScope is therefore reused only when nobody looked:
//
//   - Every method of context.Context (Done, Err, Value, Deadline) marks the
//     scope observed with one atomic operation before it reads anything, and
//     marks the scopes it derives from too. Deriving a standard context from
//     the scope (WithCancel, WithTimeout, AfterFunc) calls Done, so it marks
//     it as well.
//   - The executor checks cancellation with ContextErr and waits with
//     ContextDone, which do not mark the scope: it knows it stops looking when
//     the run ends.
//   - ScopePool.Put, called once every branch or worker has returned, recycles
//     the scope only if it was not observed. The decision and the marking are
//     one atomic word, so a look either comes first (the scope is cancelled
//     and dropped: whoever holds it sees a cancelled context forever, as
//     with context.WithCancel after its deferred cancel) or comes after (it
//     finds the scope idle and sees a cancelled context with no values).
//   - A scope that was looked at while idle in the pool is never handed out
//     again, so a holder never sees it come back to life.
//   - A run that returns before the goroutines it started (its caller gave
//     up) abandons its scope instead of giving it back: Abandon marks it and
//     its ancestors observed, since those goroutines may still look.
//
// What remains is a holder that keeps the context past the run without
// having looked at it once during the run, for example a step that starts a
// goroutine with its context and returns before that goroutine runs, or
// that keeps a context.WithValue derived from it. If the scope were reused
// by a later run before that holder first looked, the holder would see that
// later run's cancellation and values. Generated executors therefore use a
// ScopePool only for a Parallel or Map whose steps provably never touch
// their context (flujogen checks each step function's body); any other
// gets a fresh context.WithCancel per run. Code that hands scopes to
// functions it has not checked must make the same choice.
//
// The zero CancelScope is not usable: get scopes from a ScopePool.
type CancelScope struct {
	state  atomic.Uint32 // scopeObserved | scopeIdle | scopeLatched
	parent context.Context
	inner  atomic.Pointer[scopeInner] // made by the first Done, set under mu

	mu         sync.Mutex // serialises latching the error and making inner
	err        error      // the scope's error, valid once scopeLatched is set
	fromParent bool       // err is the parent's: the cause is the parent's too
}

// The bits of CancelScope.state.
const (
	scopeObserved uint32 = 1 << iota // a context.Context method was called
	scopeIdle                        // in the pool, between two runs
	scopeLatched                     // cancelled: err is set for good
)

// scopeInner is the standard context behind a scope's Done channel, made the
// first time somebody needs the channel. Being a child of the parent, it
// carries the parent's cancellation without a goroutine, and derived
// contexts, context.AfterFunc and context.Cause find it through Value.
type scopeInner struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// scopeClosed is the Done channel of an idle scope. It is closed before
// anything can read it and never changes, like the context package's own.
var scopeClosed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// observe marks the scope observed and returns its state from before.
func (s *CancelScope) observe() uint32 {
	old := s.state.Or(scopeObserved)
	if old&(scopeObserved|scopeIdle) == 0 {
		scopeMarkAncestors(s.parent)
	}
	return old
}

// scopeMarkAncestors marks observed the scopes ctx derives from: a look at a
// scope may read through to them, so they must not be reused either.
func scopeMarkAncestors(ctx context.Context) {
	for {
		p, ok := ctx.(*CancelScope)
		if !ok {
			return
		}
		if old := p.state.Or(scopeObserved); old&(scopeObserved|scopeIdle) != 0 {
			return
		}
		ctx = p.parent
	}
}

// Err returns nil until the scope is cancelled, then context.Canceled, or
// the parent's error when the parent was cancelled first. It marks the
// scope observed.
func (s *CancelScope) Err() error {
	if s.observe()&scopeIdle != 0 {
		return context.Canceled
	}
	if s.state.Load()&scopeLatched != 0 {
		return s.err
	}
	perr := s.parent.Err()
	if perr == nil {
		return nil
	}
	return s.latch(perr, true)
}

// Done returns a channel closed when the scope is cancelled. The first call
// makes it. It marks the scope observed.
func (s *CancelScope) Done() <-chan struct{} {
	if s.observe()&scopeIdle != 0 {
		return scopeClosed
	}
	return s.done()
}

// Value returns the parent's value for key. It marks the scope observed.
func (s *CancelScope) Value(key any) any {
	if s.observe()&scopeIdle != 0 {
		return nil
	}
	if in := s.inner.Load(); in != nil {
		return in.ctx.Value(key)
	}
	if s.state.Load()&scopeLatched != 0 {
		// context.Cause looks for the nearest standard cancellable context
		// through Value: make it, so the answer is the scope's cause and
		// not that of a parent that is still running.
		return s.makeInner().ctx.Value(key)
	}
	return s.parent.Value(key)
}

// Deadline returns the parent's deadline. It marks the scope observed.
func (s *CancelScope) Deadline() (time.Time, bool) {
	if s.observe()&scopeIdle != 0 {
		return time.Time{}, false
	}
	return s.parent.Deadline()
}

// Cancel cancels the scope: its error becomes context.Canceled, or the
// parent's error when the parent was cancelled first, and its Done channel,
// if made, is closed. Later calls do nothing. Cancel does not mark the
// scope observed.
func (s *CancelScope) Cancel() {
	if s.state.Load()&(scopeLatched|scopeIdle) != 0 {
		return
	}
	s.cancelSlow()
}

// Abandon cancels the scope and keeps it, and the scopes it derives from,
// out of reuse: it is for a run that returns while goroutines it started
// still hold the scope, which may reach its ancestors through it. Call it
// instead of ScopePool.Put.
func (s *CancelScope) Abandon() {
	s.observe()
	s.Cancel()
}

func (s *CancelScope) cancelSlow() {
	if perr := ContextErr(s.parent); perr != nil {
		s.latch(perr, true)
		return
	}
	s.latch(context.Canceled, false)
}

// latch sets the scope's error unless it is already set, closes the Done
// channel if made, and returns the error that holds.
func (s *CancelScope) latch(err error, fromParent bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Load()&scopeLatched == 0 {
		s.err, s.fromParent = err, fromParent
		s.state.Or(scopeLatched)
		if in := s.inner.Load(); in != nil {
			in.cancel(s.causeLocked())
		}
	}
	return s.err
}

// causeLocked returns the cause of the latched error.
func (s *CancelScope) causeLocked() error {
	if s.fromParent {
		return context.Cause(s.parent)
	}
	return s.err
}

// done returns the Done channel, making it if needed, without marking the
// scope observed.
func (s *CancelScope) done() <-chan struct{} {
	if s.state.Load()&scopeIdle != 0 {
		return scopeClosed
	}
	if in := s.inner.Load(); in != nil {
		return in.ctx.Done()
	}
	return s.makeInner().ctx.Done()
}

// makeInner makes the standard context behind the Done channel: a child of
// the parent, so the parent's cancellation reaches it, or, once the scope is
// cancelled, a context already cancelled with the scope's cause that keeps
// the parent's values.
func (s *CancelScope) makeInner() *scopeInner {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.inner.Load(); in != nil {
		return in
	}
	in := new(scopeInner)
	if s.state.Load()&scopeLatched != 0 {
		in.ctx, in.cancel = context.WithCancelCause(context.WithoutCancel(s.parent))
		in.cancel(s.causeLocked())
	} else {
		in.ctx, in.cancel = context.WithCancelCause(s.parent)
	}
	s.inner.Store(in)
	return in
}

// ContextErr returns ctx.Err(), except that it does not mark a CancelScope
// observed: it is how an executor checks the scopes it owns. For any other
// context it is ctx.Err().
func ContextErr(ctx context.Context) error {
	if s, ok := ctx.(*CancelScope); ok {
		return s.ownErr()
	}
	return ctx.Err()
}

// ownErr is Err without marking the scope or its ancestors observed.
func (s *CancelScope) ownErr() error {
	for {
		if st := s.state.Load(); st&(scopeLatched|scopeIdle) != 0 {
			if st&scopeIdle != 0 {
				return context.Canceled
			}
			return s.err
		}
		p, ok := s.parent.(*CancelScope)
		if !ok {
			return s.parent.Err()
		}
		s = p
	}
}

// ContextDone returns ctx.Done(), except that it does not mark a
// CancelScope observed: it is how an executor waits on a scope it owns and
// stops waiting on before the scope is given back. For any other context it
// is ctx.Done().
func ContextDone(ctx context.Context) <-chan struct{} {
	if s, ok := ctx.(*CancelScope); ok {
		return s.done()
	}
	return ctx.Done()
}

// ScopePool keeps the CancelScopes an executor's runs give back: a run that
// nobody but the executor looked at allocates no context. It is safe for
// concurrent use.
type ScopePool struct {
	pool *Pool[CancelScope]
}

// NewScopePool returns a pool of at most capacity idle scopes
// (object_pool_max_size), trimmed when more than cleanupThreshold × capacity
// are idle (object_pool_cleanup_threshold); see NewPool.
func NewScopePool(capacity int, cleanupThreshold float64) (*ScopePool, error) {
	p, err := NewPool[CancelScope](capacity, cleanupThreshold, nil, nil)
	if err != nil {
		return nil, err
	}
	return &ScopePool{pool: p}, nil
}

// Get returns a scope derived from parent, not cancelled unless parent is.
// Give it back with Put once nothing the executor started uses it.
func (p *ScopePool) Get(parent context.Context) *CancelScope {
	s := p.pool.Get()
	switch s.state.Load() {
	case 0: // new
		s.parent = parent
		return s
	case scopeIdle:
		// Idle scopes are not read by a late look, so parent may be set
		// before the scope becomes live.
		s.parent = parent
		if s.state.CompareAndSwap(scopeIdle, 0) {
			return s
		}
	}
	// Looked at while idle: its holder saw it cancelled, and so it stays.
	s = new(CancelScope)
	s.parent = parent
	return s
}

// Put gives back a scope got from Get, once every goroutine the executor
// gave it to has returned. A scope nobody observed is kept for reuse; an
// observed one is cancelled and dropped, so whoever still holds it sees a
// cancelled context. The caller must not use s afterwards.
func (p *ScopePool) Put(s *CancelScope) {
	for {
		st := s.state.Load()
		if st&(scopeObserved|scopeIdle) != 0 {
			s.Cancel()
			return
		}
		if s.state.CompareAndSwap(st, scopeIdle) {
			break
		}
	}
	// The executor may have waited on the Done channel: release the
	// standard context behind it from its parent.
	if in := s.inner.Load(); in != nil {
		in.cancel(context.Canceled)
		s.inner.Store(nil)
	}
	s.parent, s.err, s.fromParent = nil, nil, false
	p.pool.Put(s)
}
