package kernel

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flujo/flujo/runtime"
)

// TestOutcomeCountersNeverGoBack: successes are Count − Failures in
// Stats, for runs and for each step; as runs and step executions that
// succeed and fail are recorded concurrently, no snapshot may show fewer
// successes, or failures, than one taken before it.
func TestOutcomeCountersNeverGoBack(t *testing.T) {
	s, err := NewServices(runtime.DefaultOptimizationConfig(), Deps{Clock: runtime.NewFakeClock(0), Sink: &runtime.MemorySink{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	var c StepCounters
	s.deps.Stats = func(_ *Engine, st *runtime.Stats) { c.AddTo(st.Steps, "step") }
	h := s.Engine().Monitor.Step("monitored")
	var slow atomic.Int64
	slow.Store(1 << 62)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ok := (i+w)%2 == 0
				s.RecordRun(int64(i%3), ok)
				c.Record(&runtime.StepResult{Success: ok, Attempts: 1}, &slow, false)
				h.Record(1000, ok)
			}
		}()
	}
	type outcome struct{ ok, failed uint64 }
	read := func(st runtime.Stats) map[string]outcome {
		out := map[string]outcome{"runs": {st.Execution.Count - st.Execution.Failures, st.Execution.Failures}}
		for name, step := range st.Steps {
			out[name] = outcome{step.Errors.Executions - step.Errors.Failures, step.Errors.Failures}
		}
		return out
	}
	prev := read(s.Stats())
	for range 3000 {
		now := read(s.Stats())
		for name, p := range prev {
			if n := now[name]; n.ok < p.ok || n.failed < p.failed {
				t.Fatalf("%s: %d successes and %d failures after %d and %d", name, n.ok, n.failed, p.ok, p.failed)
			}
		}
		prev = now
	}
	close(stop)
	wg.Wait()
}

// permanent is an error that declares itself permanent: the classifier
// skips its retries.
type permanent struct{}

func (permanent) Error() string   { return "permanent" }
func (permanent) Permanent() bool { return true }

// TestRetiredCountersKept: a configuration change that replaces the
// limiter, the error classifier and the telemetry keeps what they counted
// in Stats.
func TestRetiredCountersKept(t *testing.T) {
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableConcurrencyOptimization = false
	one := 1
	cfg.MaxConcurrentExecutions = &one
	sink := &runtime.MemorySink{}
	s, err := NewServices(cfg, Deps{Clock: runtime.NewFakeClock(0), Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	eng := s.Engine()
	if !eng.Limiter.TryAcquire() {
		t.Fatal("no permit")
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if eng.Limiter.Acquire(done) == nil {
		t.Fatal("acquired a second permit of one")
	}
	eng.Limiter.Release()
	eng.Classifier.Retryable(permanent{})
	eng.Telemetry.Record(runtime.Event{})
	before := s.Stats()
	if before.Concurrency.Rejected != 1 || before.Errors.SkippedRetries != 1 || before.Telemetry.Recorded != 1 {
		t.Fatalf("before: rejected %d, skipped %d, recorded %d; want 1 each",
			before.Concurrency.Rejected, before.Errors.SkippedRetries, before.Telemetry.Recorded)
	}
	for _, change := range []string{
		`{"max_concurrent_executions": 4, "error_cache_size": 7, "enable_performance_monitoring": false}`,
		`{"enable_optimized_telemetry": false, "enable_optimized_error_handling": false}`,
		`{"enable_optimized_telemetry": true, "enable_optimized_error_handling": true}`,
	} {
		if err := s.ImportConfig([]byte(change), "json"); err != nil {
			t.Fatal(err)
		}
		st := s.Stats()
		if st.Concurrency.Rejected != 1 || st.Errors.SkippedRetries != 1 || st.Telemetry.Recorded != 1 {
			t.Errorf("after %s: rejected %d, skipped %d, recorded %d; want 1 each",
				change, st.Concurrency.Rejected, st.Errors.SkippedRetries, st.Telemetry.Recorded)
		}
		// The event is exported when its telemetry closes, after it was
		// replaced: the export counts all the same.
		if want := uint64(min(1, len(sink.Events()))); st.Telemetry.Exported != want {
			t.Errorf("after %s: exported %d, the sink holds %d events", change, st.Telemetry.Exported, len(sink.Events()))
		}
	}
	if s.Engine().Limiter == eng.Limiter || s.Engine().Classifier == eng.Classifier || s.Engine().Telemetry == eng.Telemetry {
		t.Fatal("the changes replaced no component; the test needs them replaced")
	}
}
