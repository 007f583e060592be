package flujo

import (
	"context"
	"reflect"

	"github.com/flujo/flujo/internal/kernel"
)

// fail marks res failed by an error of the composite itself.
func fail(res *StepResult, err error) { kernel.Fail(res, err) }

func (r execRun) pipeline(ctx context.Context, n *pipelineNode, in any, fr frame, res *StepResult) error {
	*res = StepResult{Name: n.name, Attempts: 1, Steps: make([]StepResult, 0, len(n.nodes))}
	v := in
	for _, s := range n.nodes {
		var sr StepResult
		abort := r.exec(ctx, s, v, fr, &sr)
		if stop, abort := kernel.Child(res, &sr, true, abort); stop {
			return abort
		}
		v = sr.Output
	}
	kernel.Succeed[any](res, true, v)
	return nil
}

func (r execRun) loop(ctx context.Context, n *loopNode, in any, fr frame, res *StepResult) error {
	*res = StepResult{Name: n.name}
	v := in
	for i := 1; i <= n.set.maxLoops; i++ {
		if err := ctx.Err(); err != nil {
			res.Err = err
			return err
		}
		var sr StepResult
		abort := r.exec(ctx, n.body, v, fr, &sr)
		res.Attempts = i
		if stop, abort := kernel.Child(res, &sr, true, abort); stop {
			return abort
		}
		v = sr.Output
		done, err := kernel.Guard(n.name, func() (bool, error) { return n.until(v), nil })
		if err != nil {
			fail(res, err)
			return nil
		}
		if done {
			kernel.Succeed[any](res, true, v)
			return nil
		}
	}
	kernel.LoopExhausted(res, n.name, n.set.maxLoops)
	return nil
}

func (r execRun) branch(ctx context.Context, n *branchNode, in any, fr frame, res *StepResult) error {
	*res = StepResult{Name: n.name, Attempts: 1}
	key, err := kernel.Guard(n.name, func() (string, error) { return n.choose(in), nil })
	if err != nil {
		fail(res, err)
		return nil
	}
	res.BranchKey = key
	node, ok := n.cases[key]
	if !ok {
		node = n.set.def
	}
	if node == nil {
		kernel.NoCase(res, n.name, key)
		return nil
	}
	var sr StepResult
	abort := r.exec(ctx, node, in, fr, &sr)
	if stop, abort := kernel.Child(res, &sr, true, abort); stop {
		return abort
	}
	kernel.Succeed[any](res, true, sr.Output)
	return nil
}

// parallelScratch is the working space of one Parallel run, pooled with
// enable_object_pool.
type parallelScratch struct {
	fan      kernel.Fan
	done     chan struct{}
	branches []kernel.FanBranch
	states   []any
	args     []reflect.Value
}

// prepare sizes the scratch space for k branches.
func (sc *parallelScratch) prepare(k int) {
	if sc.done == nil {
		sc.done = make(chan struct{}, 1)
	}
	if cap(sc.branches) < k {
		sc.branches, sc.states, sc.args = make([]kernel.FanBranch, k), make([]any, k), make([]reflect.Value, k)
	}
	sc.branches, sc.states, sc.args = sc.branches[:k], sc.states[:k], sc.args[:k]
}

// reset drops every reference the scratch space holds.
func resetScratch(sc *parallelScratch) {
	sc.fan = kernel.Fan{}
	clear(sc.branches)
	clear(sc.states)
	clear(sc.args)
}

func (r execRun) parallel(ctx context.Context, n *parallelNode, in any, fr frame, res *StepResult) error {
	*res = StepResult{Name: n.name, Attempts: 1}
	k := len(n.branches)
	info := r.tree.nodes[&n.nodeBase]

	// Branches that may write state get a private copy; with
	// enable_context_optimization the others share the original, which they
	// cannot touch since no StepS runs in them.
	sc := r.eng.getScratch(k)
	states := sc.states
	if fr.state != nil {
		for i := range n.branches {
			if !r.eng.ctxOpt || info.branchWrites[i] {
				states[i] = r.core.plans.newCopy(fr.state)
				r.core.stateCopies.Add(1)
			} else {
				states[i] = fr.state
			}
		}
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]StepResult, k)
	fan := &sc.fan
	fan.Start(ctx, kernel.CancelFunc(cancel), n.set.onFailure == Propagate, results, sc.branches, sc.done, nil)
	for i, br := range n.branches {
		bfr := frame{state: states[i], budget: fr.budget}
		r.core.goTracked(func() {
			defer sc.fan.Exit(i, br.Name())
			sc.branches[i].Abort = r.exec(bctx, br, in, bfr, &results[i])
		})
	}
	abort, failed, cerr := fan.Wait()
	if cerr != nil {
		// The branches see the cancellation and end in goroutines the
		// executor still counts. The scratch space is not reused: they may
		// still write to it.
		return fan.Abandoned(res, cerr)
	}
	defer r.eng.putScratch(sc)
	if stop, abort := kernel.Branches(res, results, true, abort, failed); stop {
		return abort
	}
	// A failed Parallel merges nothing: the state is changed only once the
	// merge is known to succeed and the join has accepted the outputs.
	var writes [][]int
	if fr.state != nil {
		var err error
		if writes, err = r.mergeWrites(n, fr.state, states, results); err != nil {
			fail(res, err)
			return nil
		}
	}
	args := sc.args[:k]
	jt := n.join.Type()
	for i := range results {
		if v := results[i].Output; results[i].Success && v != nil {
			args[i] = reflect.ValueOf(v)
		} else {
			args[i] = reflect.Zero(jt.In(i))
		}
	}
	outs, err := kernel.Guard(n.name, func() ([]reflect.Value, error) { return n.join.Call(args), nil })
	if err != nil {
		fail(res, err)
		return nil
	}
	if n.joinErr && !outs[1].IsNil() {
		kernel.JoinFailed(res, n.name, outs[1].Interface().(error))
		return nil
	}
	if writes != nil {
		applyWrites(n, fr.state, states, writes)
	}
	kernel.Succeed[any](res, true, outs[0].Interface())
	return nil
}

// mergeWrites returns, per branch, the state fields that n's strategy
// copies back from that branch's copy: the fields a successful branch
// changed, found by comparing its copy with the original before anything
// is merged. Nil means nothing to merge; under ErrorOnConflict two branches
// writing one field are a *MergeConflictError.
func (r execRun) mergeWrites(n *parallelNode, state any, states []any, results []StepResult) ([][]int, error) {
	if n.set.merge == NoMerge {
		return nil, nil
	}
	writes := make([][]int, len(states))
	for i, s := range states {
		if s != state && results[i].Success {
			writes[i] = stateWrites(state, s)
		}
	}
	if n.set.merge == ErrorOnConflict {
		writer := map[int]int{}
		for i, ws := range writes {
			for _, f := range ws {
				if j, ok := writer[f]; ok {
					return nil, &MergeConflictError{Parallel: n.name, Field: fieldName(state, f),
						Branches: [2]string{n.branches[j].Name(), n.branches[i].Name()}}
				}
				writer[f] = i
			}
		}
	}
	return writes, nil
}

// applyWrites copies the fields of writes from the branches' copies into
// state, in branch order, later branches winning except under KeepFirst.
func applyWrites(n *parallelNode, state any, states []any, writes [][]int) {
	taken := map[int]bool{}
	for i, ws := range writes {
		for _, f := range ws {
			if n.set.merge == KeepFirst {
				if taken[f] {
					continue
				}
				taken[f] = true
			}
			copyField(state, states[i], f)
		}
	}
}

func (r execRun) mapEach(ctx context.Context, n *mapNode, in any, fr frame, res *StepResult) error {
	*res = StepResult{Name: n.name, Attempts: 1}
	items := n.split(in)
	outs := make([]any, len(items))
	results := make([]StepResult, len(items))
	finished := make([]bool, len(items))
	run := func(ctx context.Context, i int, sr *StepResult) (any, error) {
		ab := r.exec(ctx, n.body, items[i], fr, sr)
		return sr.Output, ab
	}
	var abort error
	var failed int
	if workers := min(n.set.concurrency, len(items)); workers <= 1 {
		abort, failed = kernel.MapSeq(ctx, outs, results, finished, run)
	} else {
		mctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var cerr error
		abort, failed, cerr = kernel.MapWorkers(ctx, mctx, cancel, &r.core.svc.Track, workers, n.body.Name(), outs, results, finished, run)
		if cerr != nil {
			res.Err = cerr
			return cerr
		}
	}
	if stop, abort := kernel.Elements(res, results, finished, true, abort, failed); stop {
		return abort
	}
	kernel.Succeed[any](res, true, n.gather(outs))
	return nil
}
