package redis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/flujo/flujo/runtime"
)

// budgets is the store's runtime.SharedBudgets.
//
// A budget's window is three keys that share a hash slot:
//
//   - <prefix>bud:{<name>:<window>}, a hash: sc and st, what committed runs
//     spent (cost, tokens); hc and ht, what open reservations hold; and
//     h:<id>, the hold of reservation <id> ("<cost> <tokens>").
//   - ...:holds, a sorted set of the open reservations scored by the end
//     of their lease (server time, Unix ms).
//   - ...:done, a sorted set of the committed reservations scored by the
//     time of their commit, kept for one lease so that a commit retried
//     after a lost answer is applied once.
//
// Two scripts, run atomically on the server, do the rest. Both first
// release the holds whose lease is over (a run that died never commits).
// Reserve refuses when spent + held + hold passes a limit and records the
// hold otherwise; Commit releases the hold and adds what the run spent. A
// window's keys expire one lease after the window ends.
type budgets struct{ s *Store }

// budgetPrelude is shared by both scripts: it releases the expired holds
// (at most 100 a call, so that a script stays short) and defines release.
// KEYS[1] totals, KEYS[2] holds, KEYS[3] done.
const budgetPrelude = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function release(id)
  local h = redis.call('HGET', KEYS[1], 'h:' .. id)
  if h then
    local c, k = string.match(h, '^(%S+) (%S+)$')
    redis.call('HINCRBYFLOAT', KEYS[1], 'hc', '-' .. c)
    redis.call('HINCRBY', KEYS[1], 'ht', 0 - tonumber(k))
    redis.call('HDEL', KEYS[1], 'h:' .. id)
  end
  redis.call('ZREM', KEYS[2], id)
end
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], '-inf', now, 'BYSCORE', 'LIMIT', 0, 100)) do
  release(id)
end
local function settle(expireAt)
  if redis.call('ZCARD', KEYS[2]) == 0 then
    -- no hold left: drop the rounding left by adding and removing floats
    redis.call('HSET', KEYS[1], 'hc', '0', 'ht', '0')
  end
  if expireAt > 0 then
    for i = 1, 3 do
      if redis.call('EXISTS', KEYS[i]) == 1 then
        redis.call('PEXPIREAT', KEYS[i], expireAt)
      end
    end
  end
end
`

// reserveScript: ARGV id, hold cost, hold tokens, cost limit, token limit
// (0: none), lease ms, expire-at ms (0: never). Returns 1 when reserved,
// 0 when refused.
var reserveScript = rueidis.NewLuaScript(budgetPrelude + `
local v = redis.call('HMGET', KEYS[1], 'sc', 'st', 'hc', 'ht')
local sc, st, hc, ht = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or 0
local cost, tokens = tonumber(ARGV[2]), tonumber(ARGV[3])
local climit, tlimit = tonumber(ARGV[4]), tonumber(ARGV[5])
-- a relative tolerance absorbs the rounding of sums of costs
if (climit > 0 and sc + hc + cost > climit * (1 + 1e-9)) or (tlimit > 0 and st + ht + tokens > tlimit) then
  settle(tonumber(ARGV[7]))
  return 0
end
redis.call('HINCRBYFLOAT', KEYS[1], 'hc', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'ht', ARGV[3])
redis.call('HSET', KEYS[1], 'h:' .. ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[6]), ARGV[1])
settle(tonumber(ARGV[7]))
return 1
`)

// commitScript: ARGV id, spent cost, spent tokens, lease ms, expire-at ms.
// Returns 1 when applied, 0 when the reservation was committed already.
var commitScript = rueidis.NewLuaScript(budgetPrelude + `
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]))
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  return 0
end
release(ARGV[1])
redis.call('HINCRBYFLOAT', KEYS[1], 'sc', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'st', ARGV[3])
redis.call('ZADD', KEYS[3], now, ARGV[1])
settle(tonumber(ARGV[5]))
return 1
`)

var reservationSeq atomic.Uint64

// Reserve reserves hold in b's current window, atomically across
// replicas: ok is false, and nothing is reserved, when what the window
// has spent and holds plus hold would pass a limit. err reports that the
// server did not answer (or that b or hold is invalid); a hold the server
// may have made all the same is released in the background.
func (bs budgets) Reserve(ctx context.Context, b runtime.SharedBudget, hold runtime.Usage) (runtime.Reservation, bool, error) {
	s := bs.s
	if err := b.Validate(); err != nil {
		return nil, false, fmt.Errorf("redis: %w", err)
	}
	if !(hold.Cost >= 0) || math.IsInf(hold.Cost, 1) || hold.PromptTokens < 0 || hold.CompletionTokens < 0 {
		return nil, false, fmt.Errorf("redis: shared budget %q: the hold %+v must be finite and not negative", b.Name, hold)
	}
	now := time.Now()
	r := &reservation{
		s:    s,
		at:   now,
		keys: budgetKeys(s.prefix, b, now),
		id:   s.id + "-" + strconv.FormatUint(reservationSeq.Add(1), 36),
	}
	if b.Window > 0 {
		r.expireAt = b.WindowStart(now).Add(b.Window + s.lease).UnixMilli()
	}
	c, err := s.begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer c.cancel()
	n, err := reserveScript.Exec(c.ctx, c.cl, r.keys, []string{
		r.id, formatCost(hold.Cost), strconv.Itoa(hold.Tokens()),
		formatCost(b.CostLimit), strconv.Itoa(b.TokenLimit),
		strconv.FormatInt(s.lease.Milliseconds(), 10), strconv.FormatInt(r.expireAt, 10),
	}).AsInt64()
	var re *rueidis.RedisError
	reply := errors.As(err, &re)
	if err = s.end(ctx, c, err); err != nil {
		if !reply && s.commits != nil {
			// The server may have reserved the hold without the answer
			// arriving in time: commit nothing for it, in the background,
			// so that it does not stay held until its lease ends.
			s.commits.add(pendingCommit{r: r})
		}
		return nil, false, err
	}
	if n != 1 {
		s.budRefused.Add(1)
		return nil, false, nil
	}
	s.budReserved.Add(1)
	return r, true, nil
}

// budgetKeys returns the keys of b's window at now: totals, holds, done.
func budgetKeys(prefix string, b runtime.SharedBudget, now time.Time) []string {
	var start int64
	if b.Window > 0 {
		start = b.WindowStart(now).Unix()
	}
	k := prefix + "bud:{" + b.Name + ":" + strconv.FormatInt(start, 10) + "}"
	return []string{k, k + ":holds", k + ":done"}
}

func formatCost(c float64) string { return strconv.FormatFloat(c, 'g', -1, 64) }

// reservation is a hold made by Reserve.
type reservation struct {
	s        *Store
	keys     []string
	id       string
	at       time.Time // when it was reserved
	expireAt int64     // Unix ms; 0: the window's keys never expire
	done     atomic.Bool
}

// errCommitted is returned by a second Commit of one reservation.
var errCommitted = errors.New("redis: the reservation is committed already; commit it once, when its run ends")

// Commit replaces the hold by what the run spent. The server applies a
// reservation's commit once: a call retried after its answer was lost
// changes nothing. A second successful Commit of one reservation is an
// error.
//
// A commit that does not reach the server (it is down or slow) returns the
// error and is sent again in the background when the server answers, and
// at Close, so that neither the hold stays held until its lease ends nor
// what the run spent goes uncharged. It is dropped once the reservation's
// lease is over: the server no longer knows whether it applied it.
func (r *reservation) Commit(ctx context.Context, spent runtime.Usage) error {
	if r.done.Load() {
		return errCommitted
	}
	reply, err := r.send(ctx, spent)
	if err != nil && !reply && !errors.Is(err, ErrClosed) {
		r.s.commits.add(pendingCommit{r, spent})
	}
	return err
}

// send sends the commit of r; reply reports an error the server answered.
func (r *reservation) send(ctx context.Context, spent runtime.Usage) (reply bool, err error) {
	s := r.s
	c, err := s.begin(ctx)
	if err != nil {
		return false, err
	}
	defer c.cancel()
	err = commitScript.Exec(c.ctx, c.cl, r.keys, []string{
		r.id, formatCost(spent.Cost), strconv.Itoa(spent.Tokens()),
		strconv.FormatInt(s.lease.Milliseconds(), 10), strconv.FormatInt(r.expireAt, 10),
	}).Error()
	var re *rueidis.RedisError
	reply = errors.As(err, &re)
	if err = s.end(ctx, c, err); err != nil {
		return reply, err
	}
	r.done.Store(true)
	return false, nil
}

// pendingCommit is a commit waiting to be sent again.
type pendingCommit struct {
	r     *reservation
	spent runtime.Usage
}

// commitQueue holds the commits that did not reach the server, at most
// max, and sends them again when it answers.
type commitQueue struct {
	s      *Store
	max    int
	signal chan struct{}
	// sending is held while queued commits are sent, so that Close's
	// flush waits for the ones the loop has taken.
	sending sync.Mutex
	mu      sync.Mutex
	queue   []pendingCommit
}

func newCommitQueue(s *Store, max int) *commitQueue {
	return &commitQueue{s: s, max: max, signal: make(chan struct{}, 1)}
}

// add queues p unless the queue is full.
func (q *commitQueue) add(p pendingCommit) {
	q.mu.Lock()
	if len(q.queue) < q.max {
		q.queue = append(q.queue, p)
	}
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// send sends the queued commits in order until one fails; it reports
// whether none is left.
func (q *commitQueue) send() bool {
	q.sending.Lock()
	defer q.sending.Unlock()
	q.mu.Lock()
	batch := q.queue
	q.queue = nil
	q.mu.Unlock()
	for i, p := range batch {
		if p.r.done.Load() || time.Since(p.r.at) >= q.s.lease {
			continue // committed by a later call, or forgotten by the server
		}
		if reply, err := p.r.send(q.s.ctx, p.spent); err != nil && !reply {
			q.mu.Lock()
			q.queue = append(batch[i:len(batch):len(batch)], q.queue...)
			q.mu.Unlock()
			return false
		}
	}
	return true
}

// flush sends what is queued now, once, unless the server does not answer
// a last probe.
func (q *commitQueue) flush() {
	q.mu.Lock()
	queued := len(q.queue)
	q.mu.Unlock()
	if queued == 0 || (!q.s.healthy.Load() && !q.s.connect()) {
		return
	}
	q.send()
}
