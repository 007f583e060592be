package redis

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/flujo/flujo/runtime"
)

// breakers is the store's runtime.SharedBreakers.
//
// Publish only queues: transitions are coalesced per breaker (the latest
// wins) in a bounded map that a background goroutine drains. For each, a
// script (one round trip, atomic) records an open breaker in the sorted
// set <prefix>brk:open, scored by the end of its open period in Unix
// milliseconds, removes a closed one when the score is still the one this
// store's open wrote (a later open from another replica survives the
// close), and publishes the transition on the channel <prefix>brk.
//
// Subscribe listens on the channel (rueidis resubscribes after a
// reconnect) and, every reconcile interval, reads the open breakers of the
// sorted set back: a replica that missed a message, or started after it
// was sent, still opens its breaker within one interval. A replica ignores
// its own messages (each carries the store's random instance id) and
// applies each open period once.
type breakers struct {
	s      *Store
	index  string // sorted set of open breakers
	chann  string // pub/sub channel
	max    int
	signal chan struct{}

	// sending is held while a batch of transitions is sent, so that
	// Close's flush waits for a batch the send loop has taken.
	sending sync.Mutex

	mu      sync.Mutex
	pending map[string]queued
	own     map[string]int64 // breaker -> end of the open period this store published, Unix ms

	subMu  sync.Mutex
	subs   map[*subscription]func() // their stop functions
	closed bool
}

func newBreakers(s *Store, max int) *breakers {
	return &breakers{
		s:       s,
		index:   s.prefix + "brk:open",
		chann:   s.prefix + "brk",
		max:     max,
		signal:  make(chan struct{}, 1),
		pending: map[string]queued{},
		own:     map[string]int64{},
		subs:    map[*subscription]func(){},
	}
}

// stopAll stops every subscription; later ones start stopped.
func (b *breakers) stopAll() {
	b.subMu.Lock()
	b.closed = true
	stops := make([]func(), 0, len(b.subs))
	for _, stop := range b.subs {
		stops = append(stops, stop)
	}
	b.subMu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

// queued is a transition waiting to be sent. For a close, opened is the
// end of the open period (Unix ms) this store published last for the
// breaker, 0 when none: the close removes that open only.
type queued struct {
	t      runtime.BreakerTransition
	opened int64
}

// publishScript records a transition and publishes it.
// KEYS[1]: the sorted set of open breakers. ARGV: breaker key, state
// ("open", "closed" or "half-open"), end of the open period (Unix ms; for
// a close, that of the open it ends), message, channel.
var publishScript = rueidis.NewLuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[2] == 'open' then
  if tonumber(ARGV[3]) > now then
    redis.call('ZADD', KEYS[1], 'GT', ARGV[3], ARGV[1])
  end
elseif ARGV[2] == 'closed' then
  local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if score and tonumber(score) == tonumber(ARGV[3]) then
    redis.call('ZREM', KEYS[1], ARGV[1])
  end
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then
  redis.call('PEXPIREAT', KEYS[1], math.floor(tonumber(last[2])) + 1000)
end
return redis.call('PUBLISH', ARGV[5], ARGV[4])
`)

// Publish queues t; it never blocks. A transition waiting to be sent is
// replaced by a later one of the same breaker; when DefaultBreakerQueue
// breakers already wait, t is dropped (the reconcile loop of the other
// replicas still sees the breakers that were recorded).
func (b *breakers) Publish(t runtime.BreakerTransition) {
	b.mu.Lock()
	if _, ok := b.pending[t.Key]; !ok && len(b.pending) >= b.max {
		b.mu.Unlock()
		return
	}
	q := queued{t: t}
	switch t.State {
	case runtime.BreakerOpen:
		b.own[t.Key] = t.Until.UnixMilli()
	case runtime.BreakerClosed:
		q.opened = b.own[t.Key]
		delete(b.own, t.Key)
	}
	b.pending[t.Key] = q
	b.mu.Unlock()
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

// send sends the queued transitions (Store.sendLoop); what a failure
// leaves is queued again, and it reports whether all went.
func (b *breakers) send() bool {
	b.sending.Lock()
	defer b.sending.Unlock()
	b.mu.Lock()
	batch := b.pending
	b.pending = make(map[string]queued, len(batch))
	b.mu.Unlock()
	failed := false
	for key, q := range batch {
		if failed || b.write(q) != nil {
			failed = true
			b.requeue(key, q)
		}
	}
	return !failed
}

// flush sends what is queued now, once, unless the server does not answer
// a last probe; it first waits for a batch the send loop is sending.
func (b *breakers) flush() {
	b.sending.Lock()
	defer b.sending.Unlock()
	b.mu.Lock()
	n := len(b.pending)
	b.mu.Unlock()
	// A replica that stops right after its breaker opened tries the server
	// once more, so that the open is not lost with it.
	if n == 0 || (!b.s.healthy.Load() && !b.s.connect()) {
		return
	}
	b.mu.Lock()
	batch := b.pending
	b.pending = map[string]queued{}
	b.mu.Unlock()
	for _, q := range batch {
		if b.write(q) != nil {
			return
		}
	}
}

// requeue puts back a transition that could not be sent, unless a later
// one of the same breaker is waiting or its open period is over.
func (b *breakers) requeue(key string, q queued) {
	if q.t.State == runtime.BreakerOpen && !q.t.Until.After(time.Now()) {
		return
	}
	b.mu.Lock()
	if _, later := b.pending[key]; !later {
		b.pending[key] = q
	}
	b.mu.Unlock()
}

func (b *breakers) write(q queued) error {
	s, t := b.s, q.t
	if t.State == runtime.BreakerOpen && !t.Until.After(time.Now()) {
		return nil // over already: nothing to share
	}
	c, err := s.begin(s.ctx)
	if err != nil {
		return err
	}
	defer c.cancel()
	// until goes in the message: the end of an open period, 0 for the
	// other states. period goes to the script: the open period to record,
	// or the one a close ends (0, none: it removes nothing).
	until, period := "0", "0"
	switch t.State {
	case runtime.BreakerOpen:
		until = strconv.FormatInt(t.Until.UnixMilli(), 10)
		period = until
	case runtime.BreakerClosed:
		period = strconv.FormatInt(q.opened, 10)
	}
	msg := encodeTransition(s.id, t.State, until, t.Key)
	err = publishScript.Exec(c.ctx, c.cl, []string{b.index}, []string{t.Key, t.State.String(), period, msg, b.chann}).Error()
	if err = s.end(s.ctx, c, err); err == nil {
		s.brkPublished.Add(1)
	}
	return err
}

// The message of a transition: "1 <instance id> <state> <until ms> <key>",
// the key last since it may hold spaces.
func encodeTransition(id string, state runtime.BreakerState, untilMs, key string) string {
	return "1 " + id + " " + strconv.Itoa(int(state)) + " " + untilMs + " " + key
}

func decodeTransition(msg string) (id string, t runtime.BreakerTransition, ok bool) {
	f := strings.SplitN(msg, " ", 5)
	if len(f) != 5 || f[0] != "1" {
		return "", t, false
	}
	st, err1 := strconv.Atoi(f[2])
	until, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil || st < int(runtime.BreakerClosed) || st > int(runtime.BreakerHalfOpen) {
		return "", t, false
	}
	t = runtime.BreakerTransition{Key: f[4], State: runtime.BreakerState(st)}
	if t.State == runtime.BreakerOpen {
		t.Until = time.UnixMilli(until)
	}
	return f[1], t, true
}

// Subscribe calls apply for each transition another replica publishes and
// for each open breaker the reconcile loop finds that apply has not been
// told of, until stop is called or the store is closed. Calls to apply are
// serialized. Subscribers of one Store do not hear each other: they share
// its instance id.
func (b *breakers) Subscribe(apply func(runtime.BreakerTransition)) (stop func()) {
	s := b.s
	ctx, cancel := context.WithCancel(s.ctx)
	sub := &subscription{b: b, apply: apply, seen: map[string]int64{}}
	var wg sync.WaitGroup
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			b.subMu.Lock()
			delete(b.subs, sub)
			b.subMu.Unlock()
		})
	}
	b.subMu.Lock()
	defer b.subMu.Unlock()
	if b.closed {
		cancel()
		return func() {}
	}
	b.subs[sub] = stop
	wg.Add(2)
	go func() {
		defer wg.Done()
		sub.receive(ctx)
	}()
	go func() {
		defer wg.Done()
		sub.reconcile(ctx)
	}()
	return stop
}

type subscription struct {
	b     *breakers
	apply func(runtime.BreakerTransition)

	mu   sync.Mutex
	seen map[string]int64 // breaker -> end of the open period applied, Unix ms
}

// receive listens on the channel until ctx is done, subscribing again
// whenever the subscription ends.
func (sub *subscription) receive(ctx context.Context) {
	s := sub.b.s
	for {
		if b := s.cl.Load(); b != nil {
			_ = b.c.Receive(ctx, b.c.B().Subscribe().Channel(sub.b.chann).Build(), func(m rueidis.PubSubMessage) {
				sub.onMessage(m.Message)
			})
		}
		if !sleep(ctx, s.probe) {
			return
		}
	}
}

func (sub *subscription) onMessage(msg string) {
	id, t, ok := decodeTransition(msg)
	if !ok || id == sub.b.s.id {
		return
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	switch t.State {
	case runtime.BreakerOpen:
		sub.openLocked(t.Key, t.Until.UnixMilli())
		return
	case runtime.BreakerClosed:
		delete(sub.seen, t.Key)
	}
	sub.b.s.brkApplied.Add(1)
	sub.apply(t)
}

// openLocked applies a remote open period unless it is over or was
// applied already.
func (sub *subscription) openLocked(key string, untilMs int64) {
	if untilMs <= time.Now().UnixMilli() || untilMs <= sub.seen[key] {
		return
	}
	sub.seen[key] = untilMs
	sub.b.s.brkApplied.Add(1)
	sub.apply(runtime.BreakerTransition{Key: key, State: runtime.BreakerOpen, Until: time.UnixMilli(untilMs)})
}

// reconcile reads the open breakers back at once and then every reconcile
// interval.
func (sub *subscription) reconcile(ctx context.Context) {
	s := sub.b.s
	every := s.cfg.ReconcileInterval()
	for {
		sub.readBack(ctx)
		if !sleep(ctx, every) {
			return
		}
	}
}

func (sub *subscription) readBack(ctx context.Context) {
	s := sub.b.s
	if !s.healthy.Load() {
		return
	}
	c, err := s.begin(ctx)
	if err != nil {
		return
	}
	defer c.cancel()
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	open, err := c.cl.Do(c.ctx, c.cl.B().Zrange().Key(sub.b.index).Min("("+now).Max("+inf").Byscore().Withscores().Build()).AsZScores()
	if s.end(ctx, c, err) != nil {
		return
	}
	sub.b.mu.Lock()
	own := make(map[string]int64, len(open))
	for _, z := range open {
		if u, ok := sub.b.own[z.Member]; ok {
			own[z.Member] = u
		}
	}
	sub.b.mu.Unlock()
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for _, z := range open {
		until := int64(z.Score)
		if u, ok := own[z.Member]; ok && u == until {
			continue // this store's own open period
		}
		sub.openLocked(z.Member, until)
	}
}

// sleep waits d; it reports false when ctx is done first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
