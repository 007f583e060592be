package flujo

import (
	"reflect"

	"github.com/flujo/flujo/internal/dsl"
	"github.com/flujo/flujo/runtime"
)

// treeInfo is the analysis of a declaration: what the executor would
// otherwise work out on every run. With enable_step_optimization it is built
// once per root node and kept by the executor; without, every run builds it.
type treeInfo struct {
	// state is the S of the tree's StepS, or nil.
	state reflect.Type
	nodes map[*nodeBase]*nodeInfo
	core  *ExecutorCore
	// pipeline is the root's name, which step overrides are keyed by.
	pipeline string
	// err reports step overrides of the pipeline that cannot apply (see
	// checkOverrides); Execute returns it before any step runs.
	err error
}

// nodeInfo is the analysis of one node.
type nodeInfo struct {
	// fingerprint identifies a leaf step for the cache: kind, name,
	// signature and options.
	fingerprint string
	// writes reports that a StepS runs in the node, so it may write state.
	writes bool
	// branchWrites, for a Parallel, is writes of each branch.
	branchWrites []bool
	// step is the executor's record of a leaf step.
	step *stepRuntime
	// override is a leaf's step override, or nil.
	override *runtime.StepOverride
}

// settings returns the effective settings under cfg of b, the leaf ni
// analyses.
func (ni *nodeInfo) settings(b *nodeBase, cfg *runtime.OptimizationConfig) runtime.StepSettings {
	return runtime.ResolveStep(cfg, runtime.DeclaredStep{
		Retries: b.set.retries, Timeout: b.set.timeout, Cache: b.set.cache, CacheTTL: b.set.cacheTTL,
	}, ni.override)
}

func (c *ExecutorCore) tree(eng *engine, root Node) *treeInfo {
	b := root.base()
	if eng.stepOpt {
		if t, ok := c.trees.Load(b); ok {
			return t.(*treeInfo)
		}
	}
	t := analyse(root, c)
	c.analyses.Add(1)
	if eng.stepOpt {
		c.trees.Store(b, t)
	}
	return t
}

func analyse(root Node, c *ExecutorCore) *treeInfo {
	t := &treeInfo{state: stateTypeOf(root), nodes: map[*nodeBase]*nodeInfo{}, core: c, pipeline: root.Name()}
	t.walk(root)
	if len(c.overrides) > 0 {
		t.err = t.checkOverrides()
	}
	return t
}

// walk analyses n and everything it may run; it returns whether n may write
// state.
func (t *treeInfo) walk(n Node) bool {
	if n == nil {
		return false
	}
	b := n.base()
	if ni, ok := t.nodes[b]; ok {
		return ni.writes
	}
	ni := &nodeInfo{}
	t.nodes[b] = ni
	if b.kind.Leaf() {
		ni.fingerprint = fingerprint(b)
		var key any = b
		if len(t.core.overrides) > 0 {
			if o, ok := t.core.overrides[runtime.StepKey(t.pipeline, b.name)]; ok {
				ni.override, key = &o, stepKey{b, t.pipeline}
			}
		}
		ni.step = t.core.stepRT(key, b.name)
	}
	writes := b.kind == kindStepS
	for _, ch := range children(n) {
		w := t.walk(ch)
		writes = writes || w
		if _, ok := n.(*parallelNode); ok {
			ni.branchWrites = append(ni.branchWrites, w)
		}
	}
	if t.walk(b.set.fallback) {
		writes = true
	}
	if t.walk(b.set.def) {
		writes = true
	}
	ni.writes = writes
	return writes
}

// fingerprint renders what makes two steps interchangeable for the cache
// (dsl.Fingerprint).
func fingerprint(b *nodeBase) string {
	opts := make([]string, len(b.opts))
	for i, o := range b.opts {
		opts[i] = o.String()
	}
	return dsl.Fingerprint(b.kind, b.name, typeName(b.in), typeName(b.out), opts)
}
