package gen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/gen/testdata/stress"
	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/schema"
)

// stressExec is one generated executor seen through ExecuteResult.
type stressExec struct {
	run   func(context.Context, any, ...flujo.ExecOption) (*flujo.PipelineResult, error)
	stats func() runtime.Stats
	close func(context.Context) error
}

// stressState adapts a generated executor whose pipeline has a state.
func stressState[E interface {
	ExecuteResult(context.Context, stress.Item, *stress.State, ...flujo.ExecOption) (*flujo.PipelineResult, error)
	OptimizationStats() runtime.Stats
	Close(context.Context) error
}](e E, err error) (stressExec, error) {
	return stressExec{func(ctx context.Context, in any, o ...flujo.ExecOption) (*flujo.PipelineResult, error) {
		return e.ExecuteResult(ctx, in.(stress.Item), nil, o...)
	}, e.OptimizationStats, e.Close}, err
}

// stressPlain adapts a generated executor without state.
func stressPlain[In any, E interface {
	ExecuteResult(context.Context, In, ...flujo.ExecOption) (*flujo.PipelineResult, error)
	OptimizationStats() runtime.Stats
	Close(context.Context) error
}](e E, err error) (stressExec, error) {
	return stressExec{func(ctx context.Context, in any, o ...flujo.ExecOption) (*flujo.PipelineResult, error) {
		return e.ExecuteResult(ctx, in.(In), o...)
	}, e.OptimizationStats, e.Close}, err
}

type stressTarget struct {
	name  string
	node  flujo.Node
	build func() (stressExec, error)
	isMap bool
}

func stressTargets() []stressTarget {
	c := flujo.WithClock(runtime.SystemClock{})
	return []stressTarget{
		{"QuietUpdate", stress.QuietUpdate, func() (stressExec, error) { return stressState(stress.NewQuietUpdateExecutor(c)) }, false},
		{"QuietConflict", stress.QuietConflict, func() (stressExec, error) { return stressState(stress.NewQuietConflictExecutor(c)) }, false},
		{"QuietKeepFirst", stress.QuietKeepFirst, func() (stressExec, error) { return stressState(stress.NewQuietKeepFirstExecutor(c)) }, false},
		{"QuietNoMerge", stress.QuietNoMerge, func() (stressExec, error) { return stressState(stress.NewQuietNoMergeExecutor(c)) }, false},
		{"QuietIgnore", stress.QuietIgnore, func() (stressExec, error) { return stressState(stress.NewQuietIgnoreExecutor(c)) }, false},
		{"QuietTimeout", stress.QuietTimeout, func() (stressExec, error) { return stressState(stress.NewQuietTimeoutExecutor(c)) }, false},
		{"LoudUpdate", stress.LoudUpdate, func() (stressExec, error) { return stressState(stress.NewLoudUpdateExecutor(c)) }, false},
		{"LoudConflict", stress.LoudConflict, func() (stressExec, error) { return stressState(stress.NewLoudConflictExecutor(c)) }, false},
		{"LoudKeepFirst", stress.LoudKeepFirst, func() (stressExec, error) { return stressState(stress.NewLoudKeepFirstExecutor(c)) }, false},
		{"LoudNoMerge", stress.LoudNoMerge, func() (stressExec, error) { return stressState(stress.NewLoudNoMergeExecutor(c)) }, false},
		{"LoudIgnore", stress.LoudIgnore, func() (stressExec, error) { return stressState(stress.NewLoudIgnoreExecutor(c)) }, false},
		{"QuietSeq", stress.QuietSeq, func() (stressExec, error) { return stressState(stress.NewQuietSeqExecutor(c)) }, false},
		{"LoudSeq", stress.LoudSeq, func() (stressExec, error) { return stressState(stress.NewLoudSeqExecutor(c)) }, false},
		{"QuietMap", stress.QuietMap, func() (stressExec, error) { return stressPlain[[]stress.Item](stress.NewQuietMapExecutor(c)) }, true},
		{"LoudMap", stress.LoudMap, func() (stressExec, error) { return stressPlain[[]stress.Item](stress.NewLoudMapExecutor(c)) }, true},
		{"MapFan", stress.MapFan, func() (stressExec, error) { return stressPlain[[]stress.Item](stress.NewMapFanExecutor(c)) }, true},
	}
}

// stressOutcome is what a finished run is compared on.
type stressOutcome struct {
	Success bool
	Output  any
	State   any
	Failed  string // the error's kind
}

func stressKind(err error) string {
	var ule *flujo.UsageLimitExceededError
	var te *flujo.StepTimeoutError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &te):
		return "timeout"
	case errors.As(err, &ule):
		return "usage:" + ule.Limit
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "ctx"
	default:
		return "failed"
	}
}

// stressCheckIDs reports a tag or state field that names another run.
func stressCheckIDs(pr *flujo.PipelineResult, ids map[int]bool) error {
	check := func(it stress.Item) error {
		for _, tag := range it.Tags {
			id, err := strconv.Atoi(tag[1:])
			if err != nil || !ids[id] {
				return fmt.Errorf("tag %q of item %d names another run", tag, it.ID)
			}
		}
		return nil
	}
	switch out := pr.Output.(type) {
	case stress.Item:
		if !ids[out.ID] {
			return fmt.Errorf("output of run %d", out.ID)
		}
		if err := check(out); err != nil {
			return err
		}
	case []stress.Item:
		if len(out) != len(ids) {
			return fmt.Errorf("%d outputs for %d inputs", len(out), len(ids))
		}
		for _, it := range out {
			if err := check(it); err != nil {
				return err
			}
		}
	}
	if st, ok := pr.FinalState.(*stress.State); ok && st != nil {
		for _, v := range []int{st.ID, st.A, st.B, st.C} {
			if v != 0 && !ids[v] {
				return fmt.Errorf("state %+v written by another run", *st)
			}
		}
	}
	return nil
}

// TestStressConcurrentCancel runs every stress pipeline on its generated
// executor and on the ExecutorCore from many goroutines, each run with
// random faults and a cancellation at a random point: before the run, while
// branches or Map workers run, or while a step waits for its timeout. A
// cancelled run must return its context's error; a finished one must carry
// only its own run's IDs and equal what the ExecutorCore gives for the same
// input. Afterwards Close returns nil, no goroutine is left, and the run
// counters add up.
func TestStressConcurrentCancel(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	cfg, err := schema.Load(filepath.Join("testdata", "stress", "flujo.json"))
	if err != nil {
		t.Fatal(err)
	}
	workers, runs := 8, 12
	if testing.Short() {
		runs = 4
	}
	for _, tg := range stressTargets() {
		t.Run(tg.name, func(t *testing.T) {
			ex, err := tg.build()
			if err != nil {
				t.Fatal(err)
			}
			core, err := flujo.NewExecutorCore(cfg.Optimization, flujo.WithClock(runtime.SystemClock{}))
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			admitted := uint64(0)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(w), 7))
					for i := range runs {
						id := (w*runs+i)*100 + 1
						in, ids := stressInput(rng, tg.isMap, id)
						var opts []flujo.ExecOption
						if rng.IntN(6) == 0 {
							opts = append(opts, flujo.WithUsageLimits(flujo.UsageLimits{TotalCostLimit: float64(1 + rng.IntN(6))}))
						}
						cut := rng.IntN(5)
						delay := time.Duration(rng.IntN(400)) * time.Microsecond
						res := [2]*flujo.PipelineResult{}
						errs := [2]error{}
						cancelled := [2]bool{}
						for k := range 2 {
							ctx, cancel := context.WithCancel(context.Background())
							switch cut {
							case 0:
								cancel()
							case 1, 2:
								time.AfterFunc(delay, cancel)
							}
							if k == 0 {
								res[k], errs[k] = ex.run(ctx, in, opts...)
							} else {
								res[k], errs[k] = core.Execute(ctx, tg.node, in, opts...)
							}
							cancelled[k] = ctx.Err() != nil
							cancel()
						}
						mu.Lock()
						admitted++
						mu.Unlock()
						for k, who := range []string{"generated", "core"} {
							if stressKind(errs[k]) == "ctx" && !cancelled[k] {
								t.Errorf("%s run %d: %v with a live context", who, id, errs[k])
							}
							if res[k] == nil {
								t.Errorf("%s run %d: no result (%v)", who, id, errs[k])
								return
							}
							if err := stressCheckIDs(res[k], ids); err != nil {
								t.Errorf("%s run %d: %v", who, id, err)
							}
						}
						if stressKind(errs[0]) == "ctx" || stressKind(errs[1]) == "ctx" {
							continue
						}
						if stressKind(errs[0]) == "timeout" || stressKind(errs[1]) == "timeout" || stressTimedOut(res[0].Steps) || stressTimedOut(res[1].Steps) {
							// A step that sleeps past its timeout races the
							// timer: when the scheduler runs the waiting
							// select late, the result and the deadline are
							// both ready and either may win, in both
							// engines. Only the IDs checked above are
							// certain.
							continue
						}
						g, c := stressOutcomeOf(res[0], errs[0]), stressOutcomeOf(res[1], errs[1])
						if !g.Success && !c.Success {
							// Two faults racing (a failure, a timeout, the
							// budget) are reported in the order they land,
							// in both engines: compare what the run left.
							g.Failed, c.Failed = "", ""
						}
						if !reflect.DeepEqual(g, c) {
							t.Errorf("run %d (%+v): generated %+v (%v), core %+v (%v)", id, in, g, errs[0], c, errs[1])
						}
					}
				}()
			}
			wg.Wait()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ex.close(ctx); err != nil {
				t.Errorf("generated Close: %v", err)
			}
			if err := core.Close(ctx); err != nil {
				t.Errorf("core Close: %v", err)
			}
			st := ex.stats()
			if st.Execution.Count != admitted {
				t.Errorf("generated stats count %d runs, %d were made", st.Execution.Count, admitted)
			}
			if cs := core.OptimizationStats(); cs.Execution.Count != admitted {
				t.Errorf("core stats count %d runs, %d were made", cs.Execution.Count, admitted)
			}
			for name, s := range st.Steps {
				if s.Errors.Failures > s.Errors.Executions {
					t.Errorf("step %s: %d failures of %d executions", name, s.Errors.Failures, s.Errors.Executions)
				}
			}
			p := st.Memory.ObjectPool
			if p.Gets != p.Hits+p.Misses {
				t.Errorf("object pool: %d gets, %d hits, %d misses", p.Gets, p.Hits, p.Misses)
			}
			if _, err := ex.run(context.Background(), stressOne(tg.isMap)); !errors.Is(err, flujo.ErrClosed) {
				t.Errorf("a run after Close: %v, want ErrClosed", err)
			}
		})
	}
	goleak.VerifyNone(t, leaks)
}

// stressTimedOut reports whether a step of steps, at any depth, timed out:
// a branch whose failure the Parallel ignores hides its timeout from the
// run's error, and the race described in TestStressConcurrentCancel
// decides the run's output all the same.
func stressTimedOut(steps []flujo.StepResult) bool {
	for _, s := range steps {
		var te *flujo.StepTimeoutError
		if errors.As(s.Err, &te) || errors.As(s.OriginalError, &te) || stressTimedOut(s.Steps) {
			return true
		}
	}
	return false
}

func stressOne(isMap bool) any {
	if isMap {
		return []stress.Item{{ID: 1}}
	}
	return stress.Item{ID: 1}
}

func stressMode(rng *rand.Rand) int {
	m := 0
	for _, b := range []int{stress.FailA, stress.PanicB, stress.BlockC, stress.FailC, stress.SlowM} {
		if rng.IntN(5) == 0 {
			m |= b
		}
	}
	return m
}

func stressInput(rng *rand.Rand, isMap bool, id int) (any, map[int]bool) {
	if !isMap {
		return stress.Item{ID: id, Mode: stressMode(rng)}, map[int]bool{id: true}
	}
	n := rng.IntN(8)
	in, ids := make([]stress.Item, n), map[int]bool{}
	for j := range in {
		in[j] = stress.Item{ID: id + j, Mode: stressMode(rng) &^ stress.BlockC}
		if rng.IntN(4) != 0 {
			in[j].Mode &^= stress.FailA | stress.PanicB
		}
		ids[id+j] = true
	}
	return in, ids
}

func stressOutcomeOf(pr *flujo.PipelineResult, err error) stressOutcome {
	o := stressOutcome{Success: pr.Success, Output: pr.Output, Failed: stressKind(err)}
	if st, ok := pr.FinalState.(*stress.State); ok && st != nil {
		o.State = *st
	}
	// Which of two branches failing at once is reported depends on which
	// fails first (the other sees the cancellation) in both engines, so the
	// failure's kind is compared, not its step.
	return o
}
