package gen

import (
	"time"

	"github.com/flujo/flujo/internal/analysis"
)

func retries(n int) func(*analysis.Options) { return func(o *analysis.Options) { o.Retries = n } }

// suitePipelines models the declarations of flujotest/pipelines.go that
// are package-level variables, as the analysis describes them.
func suitePipelines(b *mb) []*analysis.Pipeline {
	ints := func(kind analysis.Kind, name, fn string) *analysis.Node {
		return b.leaf(kind, name, fn, "int", "int", nil)
	}
	loop := func(until string, max int) *analysis.Node {
		n := &analysis.Node{Kind: analysis.KindLoop, Name: "count", Pos: "pipelines.go:1:1", In: tref("int"), Out: tref("int"), Options: defaults(),
			Children: []*analysis.Node{ints(analysis.KindStep, "add", "AddOne")}, Loop: &analysis.LoopInfo{Until: fref(until), T: tref("int")}}
		n.Options.MaxLoops = max
		return n
	}
	branch := func(def bool) *analysis.Node {
		n := &analysis.Node{Kind: analysis.KindBranch, Name: "route", Pos: "pipelines.go:1:1", In: tref(job), Out: tref(job), Options: defaults(),
			Children: []*analysis.Node{b.step("lower", "Lower", nil), b.step("upper", "Upper", nil)},
			Branch:   &analysis.BranchInfo{Chooser: fref("ByName"), Keys: []string{"lower", "upper"}, HasDefault: def}}
		if def {
			n.Options.Default = b.step("other", "Other", nil)
		}
		return n
	}
	mapn := func(body *analysis.Node, conc int) *analysis.Node {
		n := &analysis.Node{Kind: analysis.KindMap, Name: "each", Pos: "pipelines.go:1:1", In: tref("[]" + job), Out: tref("[]" + job), Options: defaults(),
			Children: []*analysis.Node{body}, Map: &analysis.MapInfo{Elem: tref(job), OutElem: tref(job)}}
		n.Options.Concurrency = conc
		return n
	}
	parallel := func(policy string, branches ...*analysis.Node) *analysis.Node {
		n := &analysis.Node{Kind: analysis.KindParallel, Name: "fan", Pos: "pipelines.go:1:1", In: tref(job), Out: tref(job), Options: defaults(),
			Children: branches, Parallel: &analysis.ParallelInfo{Join: fref("JoinTwo"), JoinParams: []analysis.TypeRef{tref(job), tref(job)}}}
		n.Options.OnBranchFailure = policy
		return n
	}
	tags := func(opt func(*analysis.Options)) *analysis.Node {
		return b.leaf(analysis.KindStep, "tags", "Tags", job, "[]string", opt)
	}
	return []*analysis.Pipeline{
		b.pipe("FlakyDefault", b.step("flaky", "Flaky", nil)),
		b.pipe("FlakyRetries3", b.step("flaky", "Flaky", retries(3))),
		b.pipe("FailOnce", b.step("fail", "Fail", retries(0))),
		b.pipe("Validated", b.step("draft", "Draft", func(o *analysis.Options) { o.Retries = 2; o.Validate = []analysis.FuncRef{fref("MustBeFinal")} })),
		b.pipe("Panics", b.step("panic", "Panic", retries(0))),
		b.pipe("BackoffLong", b.step("fail", "Fail", func(o *analysis.Options) { o.BackoffInitial, o.BackoffMax = time.Hour, time.Hour })),
		b.pipe("TimesOut", b.step("block", "Block", func(o *analysis.Options) { o.Timeout = 5 * time.Millisecond })),
		b.pipe("WithFallback", b.step("fail", "Fail", func(o *analysis.Options) { o.Fallback = b.step("rescue", "Rescue", nil) })),
		b.pipe("WithFailedFallback", b.step("fail", "Fail", func(o *analysis.Options) { o.Fallback = b.step("failtoo", "FailToo", nil) })),
		b.pipe("CachedTags", tags(func(o *analysis.Options) { o.Cache, o.Retries = true, 0 })),
		b.pipe("BreakerFail", b.step("fail", "Fail", retries(0))),
		b.pipe("BreakerFlaky", b.step("flaky", "Flaky", retries(0))),
		b.pipe("CountTo3", loop("AtLeast3", 5)),
		b.pipe("CountForever", loop("Never", 5)),
		b.pipe("CountForever2", loop("Never", 2)),
		b.pipe("RouteWithDefault", branch(true)),
		b.pipe("RouteNoDefault", branch(false)),
		b.pipe("MapEcho", mapn(b.step("echo", "Echo", nil), 3)),
		b.pipe("MapFlakyInOrder", mapn(b.step("flaky", "Flaky", retries(0)), 1)),
		b.pipe("Spend3", b.pipeline("spend", b.step("s1", "Echo", nil), b.step("s2", "Echo", nil), b.step("s3", "Echo", nil))),
		b.pipe("ParallelSpend", b.pipeline("spend", parallel(analysis.Propagate, b.step("left", "Echo", nil), b.step("right", "Echo", nil)), b.step("after", "Echo", nil))),
		b.pipe("StateRetry", b.leaf(analysis.KindStepS, "logflake", "LogThenFlake", job, job, retries(2))),
		b.pipe("ParallelBlocks", parallel(analysis.Propagate, b.step("block", "Block", nil), b.step("echo", "Echo", nil))),
		b.pipe("History", b.pipeline("outer", b.step("first", "Echo", nil), b.pipeline("inner", b.step("second", "Echo", nil), b.step("third", "Echo", nil)))),
		b.pipe("ParallelPropagate", parallel(analysis.Propagate, b.step("echo", "Echo", nil), b.step("fail", "Fail", retries(0)))),
		b.pipe("ParallelIgnore", parallel(analysis.Ignore, b.step("echo", "Echo", nil), b.step("fail", "Fail", retries(0)))),
	}
}
