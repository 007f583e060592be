// Package sharedtest is an in-memory store of the services that replicas
// share (runtime.Shared), for tests: a cache with expiry, breaker
// transitions fanned out between the replicas of one process, and budgets
// under a mutex. A switch makes every call fail or hang, to test how
// executors degrade.
package sharedtest

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo/runtime"
)

// Fault is how the store answers.
type Fault int32

// The faults.
const (
	// Healthy answers every call.
	Healthy Fault = iota
	// Failing fails every call with ErrDown and drops published
	// transitions.
	Failing
	// Hanging answers no call until its context is done.
	Hanging
)

// ErrDown is the error of every call while the store is Failing.
var ErrDown = errors.New("sharedtest: store is down")

// Store is the in-memory "server" that the replicas share.
type Store struct {
	mu      sync.Mutex
	entries map[string]entry
	offset  time.Duration // added to the wall clock: Advance
	subs    map[*subscriber]int
	budgets *runtime.LocalBudgets
	fault   atomic.Int32
	nextID  int

	// Gets, Sets, Reserves and Published count the calls that reached
	// the store.
	Gets, Sets, Reserves, Published atomic.Int64
}

type entry struct {
	val     []byte
	expires time.Time
}

// New returns an empty healthy store.
func New() *Store {
	return &Store{entries: map[string]entry{}, subs: map[*subscriber]int{}, budgets: runtime.NewLocalBudgets()}
}

// SetFault makes the store answer as f says from now on.
func (s *Store) SetFault(f Fault) { s.fault.Store(int32(f)) }

// Advance moves the store's clock, which entries expire by, by d.
func (s *Store) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// Keys returns the keys of the entries that have not expired, sorted.
func (s *Store) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().Add(s.offset)
	var ks []string
	for k, e := range s.entries {
		if now.Before(e.expires) {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// TTL returns the time to live that key was stored with; 0 when absent.
func (s *Store) TTL(key string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if !ok {
		return 0
	}
	return e.expires.Sub(time.Now().Add(s.offset))
}

// answer waits or fails as the fault says; nil when the store answers.
func (s *Store) answer(ctx context.Context) error {
	switch Fault(s.fault.Load()) {
	case Failing:
		return ErrDown
	case Hanging:
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// Replica returns the shared services of one more replica: its breaker
// transitions reach every other replica's subscribers, not its own.
func (s *Store) Replica() runtime.Shared {
	s.mu.Lock()
	s.nextID++
	r := &replica{s: s, id: s.nextID}
	s.mu.Unlock()
	return runtime.Shared{
		Cache:    cache{r},
		Breakers: breakers{r},
		Budgets:  budgets{r},
		Stats: func() runtime.StatsShared {
			st := runtime.StatsShared{Store: "memory", Healthy: Fault(s.fault.Load()) == Healthy}
			if !st.Healthy {
				st.LastError = ErrDown.Error()
			}
			return st
		},
	}
}

type replica struct {
	s  *Store
	id int
}

type cache struct{ r *replica }

func (c cache) Get(ctx context.Context, key string) ([]byte, time.Duration, bool, error) {
	s := c.r.s
	if err := s.answer(ctx); err != nil {
		return nil, 0, false, err
	}
	s.Gets.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	left := e.expires.Sub(time.Now().Add(s.offset))
	if !ok || left <= 0 {
		return nil, 0, false, nil
	}
	return append([]byte(nil), e.val...), left, true, nil
}

func (c cache) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	s := c.r.s
	if err := s.answer(ctx); err != nil {
		return err
	}
	s.Sets.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[key] = entry{val: append([]byte(nil), val...), expires: time.Now().Add(s.offset).Add(ttl)}
	return nil
}

type breakers struct{ r *replica }

// subscriber delivers transitions to apply on its own goroutine, so that
// Publish never blocks.
type subscriber struct {
	replica int
	ch      chan runtime.BreakerTransition
	done    chan struct{}
}

func (b breakers) Publish(t runtime.BreakerTransition) {
	s := b.r.s
	if Fault(s.fault.Load()) != Healthy {
		return
	}
	s.Published.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		if sub.replica == b.r.id {
			continue
		}
		select {
		case sub.ch <- t:
		default: // a slow subscriber loses transitions, as over a network
		}
	}
}

func (b breakers) Subscribe(apply func(runtime.BreakerTransition)) (stop func()) {
	s := b.r.s
	sub := &subscriber{replica: b.r.id, ch: make(chan runtime.BreakerTransition, 64), done: make(chan struct{})}
	s.mu.Lock()
	s.subs[sub] = b.r.id
	s.mu.Unlock()
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case t := <-sub.ch:
				apply(t)
			case <-sub.done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.subs, sub)
			s.mu.Unlock()
			close(sub.done)
			<-exited
		})
	}
}

// Subscribers returns how many subscriptions are open.
func (s *Store) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

type budgets struct{ r *replica }

func (b budgets) Reserve(ctx context.Context, bd runtime.SharedBudget, hold runtime.Usage) (runtime.Reservation, bool, error) {
	s := b.r.s
	if err := s.answer(ctx); err != nil {
		return nil, false, err
	}
	s.Reserves.Add(1)
	r, ok, err := s.budgets.Reserve(ctx, bd, hold)
	if !ok || err != nil {
		return nil, ok, err
	}
	return reservation{s: s, r: r}, true, nil
}

type reservation struct {
	s *Store
	r runtime.Reservation
}

func (r reservation) Commit(ctx context.Context, spent runtime.Usage) error {
	if err := r.s.answer(ctx); err != nil {
		return err
	}
	return r.r.Commit(ctx, spent)
}
