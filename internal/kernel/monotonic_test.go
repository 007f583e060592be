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
