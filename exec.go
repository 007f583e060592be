package flujo

import (
	"context"
	"time"

	"github.com/flujo/flujo/internal/kernel"
	"github.com/flujo/flujo/runtime"
)

// execRun is one run: the executor, the configuration in force when it
// started and the analysis of its declaration.
type execRun struct {
	core *ExecutorCore
	eng  *engine
	tree *treeInfo
}

// frame is what a node runs with besides its input: the state it may read
// and write (a *S, or nil) and the budget it charges (nil without limits).
type frame struct {
	state  any
	budget *runtime.Budget
}

// exec runs n on in and writes how it ran to *res. A non-nil abort error
// (a usage limit exceeded, or ctx done) ends the whole run: no fallback,
// retry or failure policy applies to it. Results are written in place, not
// returned, because they are large and copying them is most of the cost of
// a short run.
func (r execRun) exec(ctx context.Context, n Node, in any, fr frame, res *StepResult) error {
	b := n.base()
	var abort error
	l, leaf := n.(*leafNode)
	var set runtime.StepSettings
	if leaf {
		info := r.tree.nodes[b]
		set = info.settings(b, &r.eng.cfg)
		abort = r.leaf(ctx, l, info, &set, in, fr, res)
	} else {
		abort = r.composite(ctx, n, in, fr, res)
	}
	if b.set.fallback != nil {
		var fb StepResult
		var rescued bool
		_, rescued, abort = kernel.WithFallback[any](res, &fb, nil, abort, func() (any, error) {
			return nil, r.exec(ctx, b.set.fallback, in, fr, &fb)
		})
		if leaf && rescued && set.Cache {
			r.kernelStep(l, r.tree.nodes[b], &set).CacheFallback(&r.eng.k.Env, in, res.Output)
		}
	}
	return abort
}

// composite runs a composite node under its Timeout and checks its output
// with its validators.
func (r execRun) composite(ctx context.Context, n Node, in any, fr frame, res *StepResult) error {
	b := n.base()
	// A plain Pipeline's latency is the sum of its steps': two clock
	// readings fewer on the shortest path.
	timed := n.(Node).base().kind != kindPipeline || b.set.timeout > 0 || len(b.set.validators) > 0
	var start int64
	if timed {
		start = r.core.clock.Nanotime()
	}
	cctx := ctx
	if b.set.timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, b.set.timeout)
		defer cancel()
	}
	var abort error
	switch n := n.(type) {
	case *pipelineNode:
		abort = r.pipeline(cctx, n, in, fr, res)
	case *parallelNode:
		abort = r.parallel(cctx, n, in, fr, res)
	case *loopNode:
		abort = r.loop(cctx, n, in, fr, res)
	case *branchNode:
		abort = r.branch(cctx, n, in, fr, res)
	case *mapNode:
		abort = r.mapEach(cctx, n, in, fr, res)
	}
	if cctx != ctx {
		_, abort = kernel.CompositeTimeout[any](ctx, cctx, b.name, b.set.timeout, res, nil, abort)
	}
	for _, v := range b.set.validators {
		kernel.Validated(b.name, v, res, res.Output, abort)
	}
	if timed {
		res.Latency = time.Duration(r.core.clock.Nanotime() - start)
	}
	return abort
}

func isUsageLimit(err error) bool { return kernel.IsUsageLimit(err) }

// leaf runs a Step, StepS or Func, analysed in info, with its effective
// settings set, on the kernel.
func (r execRun) leaf(ctx context.Context, n *leafNode, info *nodeInfo, set *runtime.StepSettings, in any, fr frame, res *StepResult) error {
	ks := r.kernelStep(n, info, set)
	_, abort := ks.Run(ctx, &r.eng.k.Env, in, kernel.Frame{State: fr.state, Budget: fr.budget, Record: true}, res)
	return abort
}

// kernelStep returns n as the engine of r runs it, built on first use and
// kept with the step's record until the engine changes.
func (r execRun) kernelStep(n *leafNode, info *nodeInfo, set *runtime.StepSettings) *kernel.Step[any, any] {
	srt := info.step
	if ks := srt.kstep.Load(); ks != nil && ks.eng == r.eng {
		return &ks.step
	}
	eng, plans := r.eng, &r.core.plans
	ks := &engineStep{eng: eng}
	ks.leaf = kernel.Leaf[any, any]{
		Name:          n.name,
		Call:          n.call,
		Backoff:       n.set.backoff,
		Validators:    n.set.validators,
		Usage:         kernel.UsageOf[any],
		BreakerCounts: n.set.breakerCounts,
	}
	if n.kind == kindStepS {
		ks.leaf.Fork = plans.newCopy
		ks.leaf.Join = plans.copyInto
	}
	ks.step = kernel.Step[any, any]{Leaf: &ks.leaf, Core: kernel.Core{Attempts: set.Attempts, Timeout: set.Timeout, Counters: &srt.counters}}
	sh := r.core.svc.Sharing()
	if eng.breakers != nil {
		ks.step.Breaker = srt.breaker(eng.breakers, set)
		sh.Breaker(kernel.BreakerKey(r.tree.pipeline, n.name), ks.step.Breaker)
	}
	if eng.k.Monitor != nil {
		ks.step.Monitor = srt.monitor(eng.k.Monitor)
	}
	if cs := eng.cache; cs != nil && set.Cache {
		if sc := cs.forStep(n, set.CacheTTL); sc != nil {
			fp := info.fingerprint
			ks.step.Cache = anyCache{sc, set.CacheTTL}
			ks.leaf.Key = func(in any) (uint64, error) { return cs.key(fp, in) }
			if !n.set.immutable && !sc.encoded() {
				ks.leaf.CopyOut = plans.deepCopy
			}
			ks.step.Shared = kernel.NewSharedStep(sh, r.tree.pipeline, n.name, n.in, n.out, ks.step.Cache)
		}
	}
	srt.kstep.Store(ks)
	return &ks.step
}

// engineStep is a leaf as one engine runs it.
type engineStep struct {
	eng  *engine
	leaf kernel.Leaf[any, any]
	step kernel.Step[any, any]
}

// anyCache is a step cache as the kernel uses it: keys identify inputs.
type anyCache struct {
	c   stepCache
	ttl time.Duration
}

// TTL returns how long entries live.
func (a anyCache) TTL() time.Duration { return a.ttl }

func (a anyCache) Get(key uint64, _ any) (any, bool)    { return a.c.get(key) }
func (a anyCache) Set(key uint64, _ any, out any) error { return a.c.set(key, out) }
func (a anyCache) SetFor(key uint64, _ any, out any, ttl time.Duration) error {
	return a.c.setFor(key, out, ttl)
}
