// The rules of the services an executor shares with other replicas
// (runtime.Shared): the second-level result cache, breaker transitions and
// usage budgets, with the degradation to local state when the store does
// not answer.

package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flujo/flujo/internal/options"
	"github.com/flujo/flujo/runtime"
)

// Sharing is an executor's use of the services it shares with other
// replicas: its calls to the store, the breakers it shares and what came of
// them. Services build one from Deps.Shared.
type Sharing struct {
	shared  runtime.Shared
	timeout time.Duration
	clock   runtime.Clock

	calls, degraded        atomic.Uint64
	cacheHits, cacheMisses atomic.Uint64
	published, applied     atomic.Uint64
	reserved, refused      atomic.Uint64
	local                  atomic.Uint64
	healthy                atomic.Bool
	lastErr                atomic.Pointer[string]
	// recent counts degraded calls by minute: cur of minute recentAt,
	// prev of the minute before.
	recentMu             sync.Mutex
	recentAt             int64
	recentCur, recentPrv uint64

	// breakers maps "<pipeline>/<step>" to the breaker of that step that
	// remote opens apply to.
	breakers sync.Map
	// remote holds the end of the latest remote open period of each key
	// still open, so that a breaker built after the open was heard of (the
	// ExecutorCore builds a step's breaker when the step first runs) opens
	// too.
	remoteMu sync.Mutex
	remote   map[string]time.Time
	stopMu   sync.Mutex
	stop     func()

	// flights holds the lookups in flight by key prefix (one step of one
	// pipeline and types): a *flights.
	flights sync.Map

	compOnce sync.Once
	comp     *runtime.Compressor
}

// flights are the lookups in flight of one step, by local cache key.
type flights struct {
	mu sync.Mutex
	m  map[uint64]*flight
}

// flight is one lookup in flight: its waiters take out when ok.
type flight struct {
	done chan struct{}
	out  any
	ok   bool
}

// NewSharing returns the sharing of s for an executor whose clock is
// clock; nil when s is nil.
func NewSharing(s *runtime.Shared, clock runtime.Clock) *Sharing {
	if s == nil {
		return nil
	}
	sh := &Sharing{shared: *s, timeout: s.Timeout(), clock: clock}
	sh.healthy.Store(true)
	return sh
}

// start subscribes to the other replicas' breaker transitions.
func (sh *Sharing) start() {
	if sh == nil || sh.shared.Breakers == nil {
		return
	}
	stop := sh.shared.Breakers.Subscribe(sh.apply)
	sh.stopMu.Lock()
	sh.stop = stop
	sh.stopMu.Unlock()
}

// close ends the subscription and releases the compressor.
func (sh *Sharing) close() {
	if sh == nil {
		return
	}
	sh.stopMu.Lock()
	stop := sh.stop
	sh.stop = nil
	sh.stopMu.Unlock()
	if stop != nil {
		stop()
	}
}

// call counts one call to the store that ended with err: a non-nil err is
// a degraded call, after which the caller uses its local state.
func (sh *Sharing) call(err error) {
	sh.calls.Add(1)
	if err == nil {
		sh.healthy.Store(true)
		return
	}
	sh.degraded.Add(1)
	sh.healthy.Store(false)
	msg := runtime.RedactAddress(err.Error())
	sh.lastErr.Store(&msg)
	minute := sh.clock.Nanotime() / int64(time.Minute)
	sh.recentMu.Lock()
	switch {
	case minute == sh.recentAt:
	case minute == sh.recentAt+1:
		sh.recentPrv, sh.recentCur = sh.recentCur, 0
	default:
		sh.recentPrv, sh.recentCur = 0, 0
	}
	sh.recentAt = minute
	sh.recentCur++
	sh.recentMu.Unlock()
}

// ctx returns a context for one call, bounded by the command timeout and
// not cancelled with the run: a store that answers late is a degraded call
// either way.
func (sh *Sharing) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), sh.timeout)
}

// cacheGet looks key up in the shared cache and returns the entry and the
// time it has left (0: no expiry); a store error is a miss.
func (sh *Sharing) cacheGet(parent context.Context, key string) ([]byte, time.Duration, bool) {
	ctx, cancel := sh.ctx(parent)
	defer cancel()
	v, ttl, ok, err := sh.shared.Cache.Get(ctx, key)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	sh.call(err)
	return v, ttl, ok && err == nil
}

// cacheSet stores val under key for ttl; a store error is counted only.
func (sh *Sharing) cacheSet(parent context.Context, key string, val []byte, ttl time.Duration) {
	ctx, cancel := sh.ctx(parent)
	defer cancel()
	sh.call(sh.shared.Cache.Set(ctx, key, val, ttl))
}

// compressor returns the compressor of shared values, built on first use;
// nil when it cannot be built.
func (sh *Sharing) compressor() *runtime.Compressor {
	sh.compOnce.Do(func() { sh.comp, _ = runtime.NewCompressor() })
	return sh.comp
}

// BreakerKey names a step's breaker across replicas.
func BreakerKey(pipeline, step string) string { return pipeline + "/" + step }

// Breaker shares b, the breaker of the step that key names (BreakerKey):
// its own transitions are published, and the other replicas' opens of key
// open it. A nil sh or a Shared without Breakers does nothing.
func (sh *Sharing) Breaker(key string, b *runtime.Breaker) {
	if sh == nil || sh.shared.Breakers == nil || b == nil {
		return
	}
	if prev, loaded := sh.breakers.Swap(key, b); loaded && prev == b {
		return
	}
	pub := sh.shared.Breakers
	b.SetObserver(func(to runtime.BreakerState, until time.Time) {
		sh.published.Add(1)
		pub.Publish(runtime.BreakerTransition{Key: key, State: to, Until: until})
	})
	sh.remoteMu.Lock()
	until, ok := sh.remote[key]
	sh.remoteMu.Unlock()
	if ok && b.TripRemote(until) {
		sh.applied.Add(1)
	}
}

// apply applies another replica's transition: an open opens the breaker of
// the same key here until the same time, now or when the breaker is built;
// others are ignored (each replica's own probes close its breaker).
func (sh *Sharing) apply(t runtime.BreakerTransition) {
	if t.State != runtime.BreakerOpen {
		return
	}
	sh.remember(t.Key, t.Until)
	v, ok := sh.breakers.Load(t.Key)
	if !ok {
		return
	}
	if v.(*runtime.Breaker).TripRemote(t.Until) {
		sh.applied.Add(1)
	}
}

// remember keeps the remote open period of key until it ends, for a
// breaker of key built later; it forgets the periods that are over.
func (sh *Sharing) remember(key string, until time.Time) {
	now := time.Now()
	sh.remoteMu.Lock()
	defer sh.remoteMu.Unlock()
	for k, u := range sh.remote {
		if !u.After(now) {
			delete(sh.remote, k)
		}
	}
	if !until.After(now) || !until.After(sh.remote[key]) {
		return
	}
	if sh.remote == nil {
		sh.remote = map[string]time.Time{}
	}
	sh.remote[key] = until
}

// stats returns the figures of the sharing (runtime.StatsShared).
func (sh *Sharing) stats() runtime.StatsShared {
	if sh == nil {
		return runtime.StatsShared{}
	}
	st := runtime.StatsShared{
		Enabled:          true,
		Healthy:          sh.healthy.Load(),
		Calls:            sh.calls.Load(),
		Degraded:         sh.degraded.Load(),
		CacheHits:        sh.cacheHits.Load(),
		CacheMisses:      sh.cacheMisses.Load(),
		BreakerPublished: sh.published.Load(),
		BreakerApplied:   sh.applied.Load(),
		BudgetReserved:   sh.reserved.Load(),
		BudgetRefused:    sh.refused.Load(),
		BudgetLocal:      sh.local.Load(),
	}
	if e := sh.lastErr.Load(); e != nil {
		st.LastError = *e
	}
	minute := sh.clock.Nanotime() / int64(time.Minute)
	sh.recentMu.Lock()
	switch minute {
	case sh.recentAt:
		st.RecentDegraded = sh.recentCur + sh.recentPrv
	case sh.recentAt + 1:
		st.RecentDegraded = sh.recentCur
	}
	sh.recentMu.Unlock()
	if f := sh.shared.Stats; f != nil {
		store := f()
		st.Store, st.Healthy = store.Store, store.Healthy && st.Healthy
		if store.LastError != "" {
			st.LastError = store.LastError
		}
	}
	return st
}

// SharedStep is how a cached step uses the shared cache: the fixed part of
// its keys, how long entries live, and the lookups in flight
// (singleflight).
type SharedStep[In, Out any] struct {
	sh     *Sharing
	prefix string
	// decodeAs is the type outputs decode into when Out is an interface
	// (the ExecutorCore's steps run over any); nil otherwise.
	decodeAs reflect.Type
	ttl      func() time.Duration
	// flights are shared by every SharedStep of the same prefix, so that
	// steps built concurrently share them.
	flights *flights
}

// NewSharedStep returns the shared cache use of the step named step of the
// pipeline named pipeline, whose declared input and output types are in
// and out, whose cache is c; nil when sh shares no cache, c does not
// report its TTL, or JSON does not carry the types faithfully
// (runtime.CheckSharedCacheTypes): the step is then cached locally only.
func NewSharedStep[In, Out any](sh *Sharing, pipeline, step string, in, out reflect.Type, c Cache[In, Out]) *SharedStep[In, Out] {
	if sh == nil || sh.shared.Cache == nil || c == nil || runtime.CheckSharedCacheTypes(in, out) != nil {
		return nil
	}
	t, ok := c.(interface{ TTL() time.Duration })
	if !ok {
		return nil
	}
	ss := &SharedStep[In, Out]{sh: sh, ttl: t.TTL,
		prefix: runtime.SharedCacheKeyPrefix(pipeline, step, runtime.TypeFingerprint(in, out))}
	fl, _ := sh.flights.LoadOrStore(ss.prefix, &flights{m: map[uint64]*flight{}})
	ss.flights = fl.(*flights)
	if reflect.TypeFor[Out]().Kind() == reflect.Interface && out != nil && out.Kind() != reflect.Interface {
		ss.decodeAs = out
	}
	return ss
}

// sharedValue is a shared cache entry: the input's JSON encoding and the
// output.
type sharedValue[Out any] struct {
	In  json.RawMessage `json:"i"`
	Out Out             `json:"o"`
}

// join returns the flight of key and whether the caller leads it.
func (ss *SharedStep[In, Out]) join(key uint64) (*flight, bool) {
	fs := ss.flights
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.m[key]; ok {
		return f, false
	}
	f := &flight{done: make(chan struct{})}
	fs.m[key] = f
	return f, true
}

// leave ends the flight of key.
func (ss *SharedStep[In, Out]) leave(key uint64, f *flight) {
	fs := ss.flights
	fs.mu.Lock()
	delete(fs.m, key)
	fs.mu.Unlock()
	close(f.done)
}

// lookup reads the entry of in, whose JSON encoding is enc, under k, and
// the time it has left in the store (0: no expiry).
func (ss *SharedStep[In, Out]) lookup(ctx context.Context, k string, enc []byte) (Out, time.Duration, bool) {
	raw, ttl, ok := ss.sh.cacheGet(ctx, k)
	if !ok {
		return *new(Out), 0, false
	}
	out, ok := ss.decode(raw, enc)
	return out, ttl, ok
}

// decode returns the output of raw, an entry stored for the input whose
// JSON encoding is enc; ok is false when raw is damaged or was stored for
// another input.
func (ss *SharedStep[In, Out]) decode(raw, enc []byte) (Out, bool) {
	var zero Out
	var comp *runtime.Compressor
	if runtime.IsCompressedValue(raw) {
		if comp = ss.sh.compressor(); comp == nil {
			return zero, false
		}
	}
	body, err := runtime.UnpackValue(comp, raw)
	if err != nil {
		return zero, false
	}
	var v sharedValue[json.RawMessage]
	if (runtime.JSONCodec{}).Unmarshal(body, &v) != nil || !bytes.Equal(v.In, enc) {
		return zero, false // damaged, or another input of the same hash
	}
	if ss.decodeAs != nil {
		p := reflect.New(ss.decodeAs)
		if (runtime.JSONCodec{}).Unmarshal(v.Out, p.Interface()) != nil {
			return zero, false
		}
		out, ok := p.Elem().Interface().(Out)
		return out, ok
	}
	var out Out
	if (runtime.JSONCodec{}).Unmarshal(v.Out, &out) != nil {
		return zero, false
	}
	return out, true
}

// encode returns the entry of in (encoded enc) and out; nil when out does
// not encode.
func (ss *SharedStep[In, Out]) encode(enc []byte, out Out, compress bool) []byte {
	data, err := runtime.JSONCodec{}.Marshal(sharedValue[Out]{In: enc, Out: out})
	if err != nil {
		return nil
	}
	var comp *runtime.Compressor
	if compress {
		comp = ss.sh.compressor()
	}
	return runtime.PackValue(comp, data, runtime.DefaultCompressAbove)
}

// runShared runs a cached step whose result the local cache does not hold,
// under key: one execution per key at a time on this replica (the others
// wait for it and take its output), which first looks the result up in the
// shared cache and, on a miss, runs the step and stores its output there.
func (s *Step[In, Out]) runShared(ctx context.Context, env *Env, in In, fr Frame, res *runtime.StepResult, key uint64, x *execution) (Out, error) {
	ss := s.Shared
	f, leader := ss.join(key)
	if !leader {
		select {
		case <-f.done:
		case <-ctx.Done():
			return *new(Out), x.aborted(res, ctx.Err())
		}
		if out, ok := f.out.(Out); ok && f.ok {
			return s.cacheHit(fr, res, out, x, false), nil
		}
		// The leader failed: this execution runs on its own.
		s.Counters.CacheMisses.Add(1)
		fr.sharedLead = true
		return s.Run(ctx, env, in, fr, res)
	}
	var out Out
	var abort error
	var put []byte
	var k string
	func() {
		defer ss.leave(key, f)
		enc, err := marshalInput(in)
		if p, ok := err.(*runtime.PanicError); ok {
			abort = x.keyPanicked(res, p)
			return
		}
		if err != nil || runtime.SharedCacheInputAmbiguous(enc) {
			// An input that does not encode, or whose encoding stands
			// for other inputs too, is cached locally only.
			s.Counters.CacheMisses.Add(1)
			fr.sharedLead = true
			out, abort = s.Run(ctx, env, in, fr, res)
			return
		}
		k = runtime.SharedCacheKey(ss.prefix, enc)
		if v, ttl, ok := ss.lookup(ctx, k, enc); ok {
			ss.sh.cacheHits.Add(1)
			f.out, f.ok = s.copyOut(v), true
			out = s.cacheHit(fr, res, v, x, true)
			s.storeKey(env, key, in, v, ttl)
			return
		}
		ss.sh.cacheMisses.Add(1)
		s.Counters.CacheMisses.Add(1)
		fr.sharedLead = true
		out, abort = s.Run(ctx, env, in, fr, res)
		if res.Success && abort == nil {
			f.out, f.ok = s.copyOut(out), true
			put = ss.encode(enc, out, env.CompressShared)
		}
	}()
	if put != nil {
		if ttl := ss.ttl(); ttl > 0 {
			ss.sh.cacheSet(ctx, k, put, ttl)
		}
	}
	return out, abort
}

// cacheHit finishes an execution served by a cache, local or shared, or
// by the execution it waited for. own says v is the caller's to keep, else
// it is copied.
func (s *Step[In, Out]) cacheHit(fr Frame, res *runtime.StepResult, v Out, x *execution, own bool) Out {
	out := v
	if !own {
		out = s.copyOut(v)
	}
	res.Success, res.CacheHit = true, true
	if fr.Record {
		res.Output = out
	}
	s.Counters.CacheHits.Add(1)
	x.hit(res)
	return out
}

func (s *Step[In, Out]) copyOut(v Out) Out {
	if s.CopyOut != nil {
		return s.CopyOut(v)
	}
	return v
}

// storeKey fills the local cache with a result of the shared one, which
// has ttl left there (0: no expiry): the local copy lives no longer.
func (s *Step[In, Out]) storeKey(env *Env, key uint64, in In, out Out, ttl time.Duration) {
	if env.CachePaused != nil && env.CachePaused.Load() {
		return
	}
	if ttl <= 0 {
		s.store(key, in, out)
		return
	}
	if s.CopyOut != nil {
		out = s.CopyOut(out)
	}
	_ = s.Cache.SetFor(key, in, out, ttl)
}

// localBudgets keep the budgets of runs whose executor has no shared
// budget store, or whose store did not answer: one per process.
var localBudgets = runtime.NewLocalBudgets()

// RunBudget returns the budget of a run started with the options o: its
// usage limits (WithUsageLimits) and, with WithSharedBudget, a hold
// reserved on the shared budget (or, when the store does not answer or
// there is none, on a budget of this process), which bounds the run too and
// is settled when the run ends (Budget.Settle, in EndRecordedRun). A
// refused hold is a *runtime.BudgetRefusedError. nil when nothing bounds
// the run.
func (s *Services) RunBudget(o *options.Exec) (*runtime.Budget, error) {
	if err := errors.Join(o.Errs...); err != nil {
		return nil, err
	}
	if o.Budget == nil {
		return runtime.RunBudget(o.Limits)
	}
	b := *o.Budget
	if o.Limits != nil {
		if err := o.Limits.Validate(); err != nil {
			return nil, err
		}
	}
	hold := b.Hold
	if hold == (runtime.Usage{}) {
		if o.Limits == nil {
			return nil, fmt.Errorf("flujo: WithSharedBudget(%q): no hold: set SharedBudget.Hold, or give the run WithUsageLimits, which it then holds", b.Name)
		}
		hold = runtime.Usage{Cost: o.Limits.TotalCostLimit, PromptTokens: o.Limits.TotalTokensLimit}
	}
	if b.CostLimit > 0 && hold.Cost == 0 {
		return nil, fmt.Errorf("flujo: WithSharedBudget(%q): the budget limits cost but the run holds none; set Hold.Cost, or TotalCostLimit in WithUsageLimits", b.Name)
	}
	if b.TokenLimit > 0 && hold.Tokens() == 0 {
		return nil, fmt.Errorf("flujo: WithSharedBudget(%q): the budget limits tokens but the run holds none; set Hold.PromptTokens, or TotalTokensLimit in WithUsageLimits", b.Name)
	}
	r, local, err := s.reserve(b, hold)
	if err != nil {
		return nil, err
	}
	cost, tokens := hold.Cost, int64(hold.Tokens())
	if l := o.Limits; l != nil {
		cost, tokens = minLimit(cost, l.TotalCostLimit), minLimit(tokens, int64(l.TotalTokensLimit))
	}
	budget := runtime.NewBudget(cost, tokens)
	sh := s.sharing
	budget.SetSettle(func(spent runtime.Usage) {
		if local || sh == nil {
			_ = r.Commit(context.Background(), spent)
			return
		}
		ctx, cancel := sh.ctx(context.Background())
		defer cancel()
		sh.call(r.Commit(ctx, spent))
	})
	return budget, nil
}

// reserve reserves hold on b: on the shared store, or on the local budget
// when there is none or it does not answer (local).
func (s *Services) reserve(b runtime.SharedBudget, hold runtime.Usage) (r runtime.Reservation, local bool, err error) {
	sh := s.sharing
	if sh != nil && sh.shared.Budgets != nil {
		ctx, cancel := sh.ctx(context.Background())
		r, ok, err := sh.shared.Budgets.Reserve(ctx, b, hold)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		cancel()
		sh.call(err)
		switch {
		case err == nil && ok:
			sh.reserved.Add(1)
			return r, false, nil
		case err == nil:
			sh.refused.Add(1)
			return nil, false, runtime.NewBudgetRefusedError(b, hold, false)
		}
	}
	r, ok, err := localBudgets.Reserve(context.Background(), b, hold)
	if err != nil {
		return nil, true, err
	}
	if sh != nil {
		sh.local.Add(1)
	}
	if !ok {
		if sh != nil {
			sh.refused.Add(1)
		}
		return nil, true, runtime.NewBudgetRefusedError(b, hold, true)
	}
	return r, true, nil
}

// minLimit returns the lower of two limits, 0 meaning none.
func minLimit[T float64 | int64](a, b T) T {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}
