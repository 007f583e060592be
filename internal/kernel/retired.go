package kernel

import "github.com/flujo/flujo/runtime"

// retiredCounters holds the counters of the components that configuration
// changes replaced or renewed. A new telemetry, limiter, error classifier,
// object pool, cache or breaker counts from zero, as does a renewed
// breaker or a rebuilt cache; Stats adds these, so that what it reports
// never reads lower than before. Guarded by Services.foldMu.
type retiredCounters struct {
	telemetry runtime.TelemetryCounters
	// telemetryAt is the reading of the telemetry retired last, taken when
	// it was; flushed adds what it counted after, as it closed.
	telemetryAt    runtime.TelemetryCounters
	rejected       uint64 // the limiters' rejected acquisitions
	skippedRetries uint64 // the classifiers' retries not made
	// steps and pool hold the counters of the front end's parts: by step,
	// the breakers' and the caches' evictions and expiries; the pools'.
	steps map[string]runtime.StatsStep
	pool  runtime.StatsPool
}

// retire adds the counters of old's executor-wide components that next
// does not take over. It returns old's telemetry when next replaces it,
// for flushed once it is closed; nil otherwise.
func (r *retiredCounters) retire(old, next *Engine) *runtime.Telemetry {
	if l := old.Limiter; l != nil && next.Limiter != l {
		r.rejected += l.Rejected()
	}
	if cl := old.Classifier; cl != nil && next.Classifier != cl {
		r.skippedRetries += cl.Counters().SkippedRetries
	}
	t := old.Telemetry
	if t == nil || next.Telemetry == t {
		return nil
	}
	r.telemetryAt = t.Counters()
	addTelemetry(&r.telemetry, r.telemetryAt, runtime.TelemetryCounters{})
	return t
}

// flushed adds what t, the telemetry retire returned, counted since it was
// retired: what its Close exported or dropped.
func (r *retiredCounters) flushed(t *runtime.Telemetry) {
	addTelemetry(&r.telemetry, t.Counters(), r.telemetryAt)
}

// addTelemetry adds to sum the counts of now less those of before, a
// reading of the same telemetry taken earlier.
func addTelemetry(sum *runtime.TelemetryCounters, now, before runtime.TelemetryCounters) {
	sum.Recorded += lessOf(now.Recorded, before.Recorded)
	sum.Exported += lessOf(now.Exported, before.Exported)
	sum.Dropped += lessOf(now.Dropped, before.Dropped)
	sum.SinkErrors += lessOf(now.SinkErrors, before.SinkErrors)
	sum.SinkPanics += lessOf(now.SinkPanics, before.SinkPanics)
	sum.Batches += lessOf(now.Batches, before.Batches)
}

// retireParts adds what the front end's parts counted in before and no
// longer count in after: before and after are what the front end reports
// (Deps.Stats) of the old engine and of the new one, read as it goes into
// force. A part the new engine takes over reports at least as much in
// after and adds nothing; a part replaced, renewed or rebuilt adds what
// it counted.
func (r *retiredCounters) retireParts(before, after *runtime.Stats) {
	if r.steps == nil {
		r.steps = map[string]runtime.StatsStep{}
	}
	for name, b := range before.Steps {
		a := after.Steps[name]
		st := r.steps[name]
		st.CircuitBreaker.Calls += lessOf(b.CircuitBreaker.Calls, a.CircuitBreaker.Calls)
		st.CircuitBreaker.Failures += lessOf(b.CircuitBreaker.Failures, a.CircuitBreaker.Failures)
		st.CircuitBreaker.Rejections += lessOf(b.CircuitBreaker.Rejections, a.CircuitBreaker.Rejections)
		st.CircuitBreaker.Opens += lessOf(b.CircuitBreaker.Opens, a.CircuitBreaker.Opens)
		st.Cache.Evictions += lessOf(b.Cache.Evictions, a.Cache.Evictions)
		st.Cache.Expiries += lessOf(b.Cache.Expiries, a.Cache.Expiries)
		if st != (runtime.StatsStep{}) {
			r.steps[name] = st
		}
	}
	b, a := &before.Memory.ObjectPool, &after.Memory.ObjectPool
	r.pool.Gets += lessOf(b.Gets, a.Gets)
	r.pool.Hits += lessOf(b.Hits, a.Hits)
	r.pool.Misses += lessOf(b.Misses, a.Misses)
	r.pool.Puts += lessOf(b.Puts, a.Puts)
	r.pool.Drops += lessOf(b.Drops, a.Drops)
}

// addParts adds the counters retireParts kept to st, which holds the
// front end's figures of the parts in force.
func (r *retiredCounters) addParts(st *runtime.Stats) {
	for name, x := range r.steps {
		s := st.Steps[name]
		s.CircuitBreaker.Calls += x.CircuitBreaker.Calls
		s.CircuitBreaker.Failures += x.CircuitBreaker.Failures
		s.CircuitBreaker.Rejections += x.CircuitBreaker.Rejections
		s.CircuitBreaker.Opens += x.CircuitBreaker.Opens
		s.Cache.Evictions += x.Cache.Evictions
		s.Cache.Expiries += x.Cache.Expiries
		st.Steps[name] = s
	}
	p := &st.Memory.ObjectPool
	p.Gets += r.pool.Gets
	p.Hits += r.pool.Hits
	p.Misses += r.pool.Misses
	p.Puts += r.pool.Puts
	p.Drops += r.pool.Drops
}

// lessOf returns a less b, or 0 when b is larger.
func lessOf(a, b uint64) uint64 { return a - min(a, b) }
