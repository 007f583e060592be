package prometheus

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/flujo/flujo/runtime"
)

// Source is what a Collector reads: an *flujo.ExecutorCore or a generated
// executor, which both have these methods.
type Source interface {
	// OptimizationStats returns a snapshot of the executor's counters.
	OptimizationStats() runtime.Stats
	// LatencyHistograms reads the monitor's latency histograms.
	LatencyHistograms() runtime.LatencyHistograms
}

// The label names the metrics carry besides the const label
// LabelPipeline.
const (
	// LabelPipeline names the executor; it is the const label every
	// metric of a Collector carries.
	LabelPipeline = "pipeline"
	// LabelStep is the step's name.
	LabelStep = "step"
	// LabelOutcome is "success" or "failure".
	LabelOutcome = "outcome"
	// LabelState is a circuit breaker state: "closed", "half_open" or
	// "open".
	LabelState = "state"
	// LabelResult is how a shared-store operation ended: "hit" or "miss"
	// for the shared cache; "reserved", "refused" or "local" for shared
	// budgets.
	LabelResult = "result"
	// LabelDirection says whether a breaker transition was "sent" to the
	// other replicas or "applied" here from them.
	LabelDirection = "direction"
)

// The values of LabelOutcome.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Collector is a prometheus.Collector for one executor. Each scrape reads
// one OptimizationStats snapshot and one LatencyHistograms reading and
// turns them into const metrics; it records nothing on the executor's
// paths and keeps no state between scrapes, so it may be collected
// concurrently.
type Collector struct {
	src    Source
	bounds [runtime.LatencyBucketCount]float64 // runtime.LatencyBucketBounds in seconds

	runs, slowRuns, runDuration                                         *prom.Desc
	stepExecs, stepSlow, stepRetries, stepRecoveryAttempts, stepRecover *prom.Desc
	stepDuration, stepRegressed                                         *prom.Desc
	cacheHits, cacheMisses, cacheEvictions, cacheExpiries               *prom.Desc
	cacheEntries, cacheCapacity, cachePaused                            *prom.Desc
	breakerState, breakerOpens, breakerRejections                       *prom.Desc
	limiterLimit, limiterMax, limiterInFlight, limiterWaiting           *prom.Desc
	limiterRejected                                                     *prom.Desc
	skippedRetries, classifierPatterns                                  *prom.Desc
	telRecorded, telExported, telDropped, telSinkErrors, telBatches     *prom.Desc
	memory, pressure, cpu                                               *prom.Desc
	poolGets, poolHits, poolMisses, poolPuts, poolDrops                 *prom.Desc
	poolIdle, poolCapacity                                              *prom.Desc
	sharedHealthy, sharedCalls, sharedDegraded                          *prom.Desc
	sharedCache, sharedBreaker, sharedBudget                            *prom.Desc
}

// NewCollector returns a Collector of src's metrics, each labelled
// pipeline=pipeline. Register one per executor, each with its own
// pipeline name:
//
//	c, err := flujoprom.NewCollector("triage", core)
//	if err != nil {
//		return err
//	}
//	reg.MustRegister(c)
func NewCollector(pipeline string, src Source) (*Collector, error) {
	if src == nil {
		return nil, errors.New("prometheus: NewCollector: the source is nil; pass an *flujo.ExecutorCore or a generated executor")
	}
	if pipeline == "" {
		return nil, errors.New("prometheus: NewCollector: the pipeline name is empty; name the executor, for example after its pipeline")
	}
	if !utf8.ValidString(pipeline) {
		return nil, fmt.Errorf("prometheus: NewCollector: the pipeline name %q is not valid UTF-8, which a label value must be; name the executor in UTF-8", pipeline)
	}
	c := &Collector{src: src}
	for i, b := range runtime.LatencyBucketBounds() {
		c.bounds[i] = b.Seconds()
	}
	constLabels := prom.Labels{LabelPipeline: pipeline}
	desc := func(name, help string, labels ...string) *prom.Desc {
		return prom.NewDesc("flujo_"+name, help, labels, constLabels)
	}
	step, stepOutcome := []string{LabelStep}, []string{LabelStep, LabelOutcome}

	c.runs = desc("runs_total", "Finished runs, by outcome.", LabelOutcome)
	c.slowRuns = desc("slow_runs_total", "Runs slower than slow_execution_threshold_ms.")
	c.runDuration = desc("run_duration_seconds", "Latency of the runs the executor measured (while monitoring, telemetry or the adaptive limiter was on), read from its histogram; bucket bounds are 2^k-1 ns.")

	c.stepExecs = desc("step_executions_total", "Finished step executions, by outcome; breaker rejections are failures.", stepOutcome...)
	c.stepSlow = desc("step_slow_executions_total", "Step executions slower than slow_execution_threshold_ms.", step...)
	c.stepRetries = desc("step_retries_total", "Step attempts after the first.", step...)
	c.stepRecoveryAttempts = desc("step_recovery_attempts_total", "Step executions that had a failed attempt and retried or fell back.", step...)
	c.stepRecover = desc("step_recoveries_total", "Step executions that recovered from a failed attempt.", step...)
	c.stepDuration = desc("step_duration_seconds", "Latency of the step executions the performance monitor recorded, read from its histogram; bucket bounds are 2^k-1 ns.", step...)
	c.stepRegressed = desc("step_regressed", "1 when the step's last monitor window was slower than its baseline by more than performance_degradation_threshold.", step...)

	c.cacheHits = desc("cache_hits_total", "Result cache lookups that found a result.", step...)
	c.cacheMisses = desc("cache_misses_total", "Result cache lookups that found none.", step...)
	c.cacheEvictions = desc("cache_evictions_total", "Cache entries removed to make room.", step...)
	c.cacheExpiries = desc("cache_expirations_total", "Cache entries removed because their TTL ran out.", step...)
	c.cacheEntries = desc("cache_entries", "Entries held in the step's result cache.", step...)
	c.cacheCapacity = desc("cache_capacity_entries", "Most entries the step's result cache holds.", step...)
	c.cachePaused = desc("cache_admission_paused", "1 while new results are not stored (memory pressure); lookups still serve cached ones.")

	c.breakerState = desc("breaker_state", "1 for the step's circuit breaker's current state, 0 for the others.", LabelStep, LabelState)
	c.breakerOpens = desc("breaker_opens_total", "Transitions of the step's circuit breaker to open.", step...)
	c.breakerRejections = desc("breaker_rejections_total", "Calls the step's circuit breaker refused while open.", step...)

	c.limiterLimit = desc("limiter_limit", "Current concurrency limit; the adaptive limiter moves it up to flujo_limiter_max.")
	c.limiterMax = desc("limiter_max", "Ceiling of the concurrency limit (max_concurrent_executions).")
	c.limiterInFlight = desc("limiter_in_flight", "Executions holding a concurrency permit now.")
	c.limiterWaiting = desc("limiter_waiting", "Callers waiting for a concurrency permit now.")
	c.limiterRejected = desc("limiter_rejected_total", "Permit acquisitions that gave up because their context ended.")

	c.skippedRetries = desc("skipped_retries_total", "Retries not made because the error classifier knows the error is permanent.")
	c.classifierPatterns = desc("classifier_patterns", "Error patterns the error classifier remembers.")

	c.telRecorded = desc("telemetry_recorded_total", "Telemetry events offered to the buffer.")
	c.telExported = desc("telemetry_exported_total", "Telemetry events a sink accepted.")
	c.telDropped = desc("telemetry_dropped_total", "Telemetry events lost: the buffer was full or the sink failed.")
	c.telSinkErrors = desc("telemetry_sink_errors_total", "Failed or panicking telemetry sink calls.")
	c.telBatches = desc("telemetry_batches_total", "Telemetry batches handed to the sink.")

	c.memory = desc("memory_usage_bytes", "Memory in use as the resource manager samples it (else the live heap).")
	c.pressure = desc("memory_pressure_level", "Memory pressure level: 0 none, 1 moderate, 2 high, 3 critical.")
	c.cpu = desc("cpu_usage_ratio", "Process CPU use over the last sample, as a share of the available cores (0 to 1).")

	c.poolGets = desc("pool_gets_total", "Objects requested from the object pools.")
	c.poolHits = desc("pool_hits_total", "Object requests served by an idle object.")
	c.poolMisses = desc("pool_misses_total", "Object requests that allocated.")
	c.poolPuts = desc("pool_puts_total", "Objects returned to the pools and kept.")
	c.poolDrops = desc("pool_drops_total", "Objects returned to the pools and discarded.")
	c.poolIdle = desc("pool_idle_objects", "Objects idle in the pools now.")
	c.poolCapacity = desc("pool_capacity_objects", "Most idle objects the pools keep.")

	c.sharedHealthy = desc("shared_store_healthy", "1 when the last call to the shared store (Redis or Valkey, WithShared) succeeded.")
	c.sharedCalls = desc("shared_calls_total", "Calls the executor made to the shared store.")
	c.sharedDegraded = desc("shared_degraded_calls_total", "Calls to the shared store that failed or timed out; the executor used its local state instead.")
	c.sharedCache = desc("shared_cache_lookups_total", "Second-level (shared) cache lookups, by result: hit or miss.", LabelResult)
	c.sharedBreaker = desc("shared_breaker_transitions_total", "Breaker transitions sent to the other replicas (sent) and applied here from them (applied).", LabelDirection)
	c.sharedBudget = desc("shared_budget_reservations_total", "Reservations on shared budgets, by result: reserved, refused, or local (made on a process-local budget while the store did not answer).", LabelResult)
	return c, nil
}

// MustNewCollector is NewCollector that panics on error, for
// registration in one expression.
func MustNewCollector(pipeline string, src Source) *Collector {
	c, err := NewCollector(pipeline, src)
	if err != nil {
		panic(err)
	}
	return c
}

// descs returns every descriptor of c.
func (c *Collector) descs() []*prom.Desc {
	return []*prom.Desc{
		c.runs, c.slowRuns, c.runDuration,
		c.stepExecs, c.stepSlow, c.stepRetries, c.stepRecoveryAttempts, c.stepRecover, c.stepDuration, c.stepRegressed,
		c.cacheHits, c.cacheMisses, c.cacheEvictions, c.cacheExpiries, c.cacheEntries, c.cacheCapacity, c.cachePaused,
		c.breakerState, c.breakerOpens, c.breakerRejections,
		c.limiterLimit, c.limiterMax, c.limiterInFlight, c.limiterWaiting, c.limiterRejected,
		c.skippedRetries, c.classifierPatterns,
		c.telRecorded, c.telExported, c.telDropped, c.telSinkErrors, c.telBatches,
		c.memory, c.pressure, c.cpu,
		c.poolGets, c.poolHits, c.poolMisses, c.poolPuts, c.poolDrops, c.poolIdle, c.poolCapacity,
		c.sharedHealthy, c.sharedCalls, c.sharedDegraded, c.sharedCache, c.sharedBreaker, c.sharedBudget,
	}
}

// Describe sends the descriptors of every metric c may export.
func (c *Collector) Describe(ch chan<- *prom.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

// Collect reads one stats snapshot and one histogram reading of the
// source and sends them as metrics.
func (c *Collector) Collect(ch chan<- prom.Metric) {
	st := c.src.OptimizationStats()
	hist := c.src.LatencyHistograms()

	counter := func(d *prom.Desc, v uint64, labels ...string) {
		ch <- prom.MustNewConstMetric(d, prom.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prom.Desc, v float64, labels ...string) {
		ch <- prom.MustNewConstMetric(d, prom.GaugeValue, v, labels...)
	}
	flag := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}

	runs := st.Execution
	counter(c.runs, runs.Count-min(runs.Failures, runs.Count), OutcomeSuccess)
	counter(c.runs, min(runs.Failures, runs.Count), OutcomeFailure)
	counter(c.slowRuns, runs.Slow)
	ch <- c.histogram(c.runDuration, &hist.Runs)

	for _, step := range st.StepNames() {
		s := st.Steps[step]
		name := labelValue(step)
		e := s.Errors
		failed := min(e.Failures, e.Executions)
		counter(c.stepExecs, e.Executions-failed, name, OutcomeSuccess)
		counter(c.stepExecs, failed, name, OutcomeFailure)
		counter(c.stepSlow, s.Execution.Slow, name)
		counter(c.stepRetries, e.Retries, name)
		counter(c.stepRecoveryAttempts, e.RecoveryAttempts, name)
		counter(c.stepRecover, e.Recoveries, name)
		if l, ok := hist.Steps[step]; ok {
			ch <- c.histogram(c.stepDuration, &l, name)
			gauge(c.stepRegressed, flag(s.Execution.Regression), name)
		}

		// A step without a cache or a breaker gets none of their series.
		if sc := s.Cache; sc.Capacity > 0 || sc.Lookups() > 0 {
			counter(c.cacheHits, sc.Hits, name)
			counter(c.cacheMisses, sc.Misses, name)
			counter(c.cacheEvictions, sc.Evictions, name)
			counter(c.cacheExpiries, sc.Expiries, name)
			gauge(c.cacheEntries, float64(sc.Size), name)
			gauge(c.cacheCapacity, float64(sc.Capacity), name)
		}
		if b := s.CircuitBreaker; st.Config.EnableCircuitBreaker || b.Calls+b.Rejections+b.Opens > 0 || b.State != runtime.StatsBreakerClosed {
			for state := runtime.StatsBreakerClosed; state <= runtime.StatsBreakerOpen; state++ {
				gauge(c.breakerState, flag(b.State == state), name, state.String())
			}
			counter(c.breakerOpens, b.Opens, name)
			counter(c.breakerRejections, b.Rejections, name)
		}
	}
	gauge(c.cachePaused, flag(st.Cache.AdmissionPaused))

	l := st.Concurrency
	gauge(c.limiterLimit, float64(l.Limit))
	gauge(c.limiterMax, float64(l.Max))
	gauge(c.limiterInFlight, float64(l.Level))
	gauge(c.limiterWaiting, float64(l.Waiting))
	counter(c.limiterRejected, l.Rejected)

	counter(c.skippedRetries, st.Errors.SkippedRetries)
	gauge(c.classifierPatterns, float64(st.Errors.CachedPatterns))

	t := st.Telemetry
	counter(c.telRecorded, t.Recorded)
	counter(c.telExported, t.Exported)
	counter(c.telDropped, t.Dropped)
	counter(c.telSinkErrors, t.SinkErrors)
	counter(c.telBatches, t.Batches)

	gauge(c.memory, st.Memory.UsageMB*(1<<20))
	gauge(c.pressure, float64(st.Memory.PressureLevel))
	gauge(c.cpu, st.CPU.UsagePercent/100)

	p := st.Memory.ObjectPool
	counter(c.poolGets, p.Gets)
	counter(c.poolHits, p.Hits)
	counter(c.poolMisses, p.Misses)
	counter(c.poolPuts, p.Puts)
	counter(c.poolDrops, p.Drops)
	gauge(c.poolIdle, float64(p.Idle))
	gauge(c.poolCapacity, float64(p.Capacity))

	// An executor without shared services gets none of their series.
	if d := st.Distributed; d.Enabled {
		gauge(c.sharedHealthy, flag(d.Healthy))
		counter(c.sharedCalls, d.Calls)
		counter(c.sharedDegraded, d.Degraded)
		counter(c.sharedCache, d.CacheHits, "hit")
		counter(c.sharedCache, d.CacheMisses, "miss")
		counter(c.sharedBreaker, d.BreakerPublished, "sent")
		counter(c.sharedBreaker, d.BreakerApplied, "applied")
		counter(c.sharedBudget, d.BudgetReserved, "reserved")
		counter(c.sharedBudget, d.BudgetRefused, "refused")
		counter(c.sharedBudget, d.BudgetLocal, "local")
	}
}

// labelValue returns s as a label value: label values must be valid
// UTF-8, and a step's name, which the DSL takes as it is, need not be.
// Invalid bytes become U+FFFD, as encoding/json writes them, rather than
// fail the whole scrape.
func labelValue(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// histogram turns a latency reading into a const histogram in seconds.
func (c *Collector) histogram(d *prom.Desc, l *runtime.LatencyBuckets, labels ...string) prom.Metric {
	buckets := make(map[float64]uint64, len(c.bounds))
	for i, b := range c.bounds {
		buckets[b] = l.Cumulative[i]
	}
	return prom.MustNewConstHistogram(d, l.Count, l.Sum.Seconds(), buckets, labels...)
}
