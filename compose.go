package flujo

import (
	"context"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/flujo/flujo/internal/kernel"
)

// fail marks res failed by an error of the composite itself.
func fail(res *StepResult, err error) {
	res.Success, res.Output, res.Err, res.Feedback = false, nil, err, err.Error()
}

// failWith marks res failed because of a child's result.
func failWith(res *StepResult, child *StepResult) {
	res.Success, res.Output, res.Err, res.Feedback = false, nil, child.Err, child.Feedback
}

// guard runs f, turning a panic in user code (a chooser, a predicate, a join)
// into a *PanicError of the node.
func guard(name string, f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Step: name, Value: v, Stack: debug.Stack()}
		}
	}()
	f()
	return nil
}

func (r execRun) pipeline(ctx context.Context, n *pipelineNode, in any, fr frame, res *StepResult) error {
	*res = StepResult{Name: n.name, Attempts: 1, Steps: make([]StepResult, len(n.nodes))}
	v := in
	for i, s := range n.nodes {
		sr := &res.Steps[i]
		abort := r.exec(ctx, s, v, fr, sr)
		res.Cost += sr.Cost
		res.Tokens += sr.Tokens
		res.Latency += sr.Latency
		if abort != nil {
			res.Steps = res.Steps[:i+1]
			res.Err = abort
			return abort
		}
		if !sr.Success {
			res.Steps = res.Steps[:i+1]
			failWith(res, sr)
			return nil
		}
		v = sr.Output
	}
	res.Success, res.Output = true, v
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
		res.Steps = append(res.Steps, StepResult{})
		sr := &res.Steps[len(res.Steps)-1]
		abort := r.exec(ctx, n.body, v, fr, sr)
		res.Attempts = i
		res.Cost += sr.Cost
		res.Tokens += sr.Tokens
		if abort != nil {
			res.Err = abort
			return abort
		}
		if !sr.Success {
			failWith(res, sr)
			return nil
		}
		v = sr.Output
		var done bool
		if err := guard(n.name, func() { done = n.until(v) }); err != nil {
			fail(res, err)
			return nil
		}
		if done {
			res.Success, res.Output = true, v
			return nil
		}
	}
	fail(res, &MaxLoopsError{Loop: n.name, MaxLoops: n.set.maxLoops})
	return nil
}

func (r execRun) branch(ctx context.Context, n *branchNode, in any, fr frame, res *StepResult) error {
	*res = StepResult{Name: n.name, Attempts: 1}
	var key string
	if err := guard(n.name, func() { key = n.choose(in) }); err != nil {
		fail(res, err)
		return nil
	}
	res.BranchKey = key
	node, ok := n.cases[key]
	if !ok {
		node = n.set.def
	}
	if node == nil {
		fail(res, &NoBranchError{Branch: n.name, Key: key})
		return nil
	}
	res.Steps = make([]StepResult, 1)
	sr := &res.Steps[0]
	abort := r.exec(ctx, node, in, fr, sr)
	res.Cost, res.Tokens = sr.Cost, sr.Tokens
	if abort != nil {
		res.Err = abort
		return abort
	}
	if !sr.Success {
		failWith(res, sr)
		return nil
	}
	res.Success, res.Output = true, sr.Output
	return nil
}

// parallelScratch is the working space of one Parallel run, pooled with
// enable_object_pool.
type parallelScratch struct {
	done     chan branchOutcome
	finished []bool
	states   []any
	args     []reflect.Value
}

// prepare sizes the scratch space for k branches.
func (sc *parallelScratch) prepare(k int) {
	if cap(sc.done) < k {
		sc.done = make(chan branchOutcome, k)
	}
	if cap(sc.finished) < k {
		sc.finished, sc.states, sc.args = make([]bool, k), make([]any, k), make([]reflect.Value, k)
	}
	sc.finished, sc.states, sc.args = sc.finished[:k], sc.states[:k], sc.args[:k]
}

// reset drops every reference the scratch space holds.
func resetScratch(sc *parallelScratch) {
	clear(sc.finished)
	clear(sc.states)
	clear(sc.args)
}

// branchOutcome is what a Parallel branch sends back; its result is in
// the Parallel's results slice, at index i.
type branchOutcome struct {
	i     int
	abort error
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
	done := sc.done
	results := make([]StepResult, k)
	for i, br := range n.branches {
		bfr := frame{state: states[i], budget: fr.budget}
		r.core.goTracked(func() {
			exited := true
			defer func() {
				if exited {
					kernel.GoexitResult(&results[i], br.Name())
					done <- branchOutcome{i, nil}
				}
			}()
			abort := r.exec(bctx, br, in, bfr, &results[i])
			exited = false
			done <- branchOutcome{i, abort}
		})
	}
	finished := sc.finished
	var abort error
	failed := -1
	for range k {
		select {
		case o := <-done:
			finished[o.i] = true
			switch {
			case o.abort != nil && (ctx.Err() != nil || isUsageLimit(o.abort)):
				if abort == nil {
					abort = o.abort
					cancel()
				}
			case o.abort != nil:
				// cancelled because a sibling failed
			case !results[o.i].Success && n.set.onFailure == Propagate && (failed < 0 || o.i < failed):
				failed = o.i
				cancel()
			}
		case <-ctx.Done():
			// Stop waiting: the branches see the cancellation and end in
			// goroutines the executor still counts. The scratch space is
			// not reused: they may still send on its channel.
			res.Steps = finishedResults(results, finished)
			res.Err = ctx.Err()
			return ctx.Err()
		}
	}
	defer r.eng.putScratch(sc)
	res.Steps = results
	for i := range results {
		res.Cost += results[i].Cost
		res.Tokens += results[i].Tokens
	}
	if abort != nil {
		res.Err = abort
		return abort
	}
	if failed >= 0 {
		f := &results[failed]
		res.Success, res.Err = false, f.Err
		res.Feedback = fmt.Sprintf("branch %q failed: %s", f.Name, f.Feedback)
		return nil
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
	var outs []reflect.Value
	if err := guard(n.name, func() { outs = n.join.Call(args) }); err != nil {
		fail(res, err)
		return nil
	}
	if n.joinErr && !outs[1].IsNil() {
		fail(res, &JoinError{Parallel: n.name, Err: outs[1].Interface().(error)})
		return nil
	}
	if writes != nil {
		applyWrites(n, fr.state, states, writes)
	}
	res.Success, res.Output = true, outs[0].Interface()
	return nil
}

func finishedResults(results []StepResult, finished []bool) []StepResult {
	var out []StepResult
	for i, ok := range finished {
		if ok {
			out = append(out, results[i])
		}
	}
	return out
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
	failed := -1
	var abort error

	workers := min(n.set.concurrency, len(items))
	if workers <= 1 {
		for i, item := range items {
			ab := r.exec(ctx, n.body, item, fr, &results[i])
			finished[i], outs[i] = true, results[i].Output
			sr := &results[i]
			if ab != nil {
				abort = ab
				break
			}
			if !sr.Success {
				failed = i
				break
			}
		}
	} else {
		mctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var next atomic.Int64
		var mu sync.Mutex
		done := make(chan struct{}, workers)
		for range workers {
			record := func(i int, sr *StepResult, ab error) {
				mu.Lock()
				defer mu.Unlock()
				results[i], finished[i], outs[i] = *sr, true, sr.Output
				switch {
				case ab != nil && (ctx.Err() != nil || isUsageLimit(ab)):
					if abort == nil {
						abort = ab
					}
					cancel()
				case ab != nil:
				case !sr.Success && (failed < 0 || i < failed):
					failed = i
					cancel()
				}
			}
			r.core.goTracked(func() {
				cur := -1 // the element in progress
				var sr StepResult
				defer func() {
					if cur >= 0 {
						kernel.GoexitResult(&sr, n.body.Name())
						record(cur, &sr, nil)
					}
					done <- struct{}{}
				}()
				for {
					i := int(next.Add(1) - 1)
					if i >= len(items) || mctx.Err() != nil {
						return
					}
					cur, sr = i, StepResult{}
					ab := r.exec(mctx, n.body, items[i], fr, &sr)
					cur = -1
					record(i, &sr, ab)
				}
			})
		}
		for range workers {
			select {
			case <-done:
			case <-ctx.Done():
				res.Err = ctx.Err()
				return ctx.Err()
			}
		}
	}
	res.Steps = finishedResults(results, finished)
	for i := range res.Steps {
		res.Cost += res.Steps[i].Cost
		res.Tokens += res.Steps[i].Tokens
	}
	if abort != nil {
		res.Err = abort
		return abort
	}
	if failed >= 0 {
		failWith(res, &results[failed])
		return nil
	}
	res.Success, res.Output = true, n.gather(outs)
	return nil
}
