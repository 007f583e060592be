package flujotest

import (
	"time"

	"github.com/flujo/flujo"
)

// The declarations the suite runs.
var (
	// Retries and feedback.
	FlakyDefault  = flujo.Step("flaky", Flaky)
	FlakyRetries3 = flujo.Step("flaky", Flaky, flujo.Retries(3))
	FailOnce      = flujo.Step("fail", Fail, flujo.Retries(0))
	Validated     = flujo.Step("draft", Draft, flujo.Retries(2), flujo.Validate(MustBeFinal))
	Panics        = flujo.Step("panic", Panic, flujo.Retries(0))
	BackoffLong   = flujo.Step("fail", Fail, flujo.Backoff(time.Hour, time.Hour))
	TimesOut      = flujo.Step("block", Block, flujo.Timeout(5*time.Millisecond))

	// Fallbacks.
	WithFallback       = flujo.Step("fail", Fail, flujo.Fallback(flujo.Step("rescue", Rescue)))
	WithFailedFallback = flujo.Step("fail", Fail, flujo.Fallback(flujo.Step("failtoo", FailToo)))

	// Cache.
	CachedTags        = flujo.Step("tags", Tags, flujo.Cache(), flujo.Retries(0))
	CachedTagsTTL     = flujo.Step("tags", Tags, flujo.CacheTTL(time.Minute), flujo.Retries(0))
	CachedTagsShared  = flujo.Step("tags", Tags, flujo.Cache(), flujo.ImmutableOutput())
	CachedQuote       = flujo.Step("quote", QuoteJob, flujo.Cache())
	CachedBox         = flujo.Step("box", BoxJob, flujo.Cache(), flujo.ImmutableOutput())
	BreakerFail       = flujo.Step("fail", Fail, flujo.Retries(0))
	BreakerFlaky      = flujo.Step("flaky", Flaky, flujo.Retries(0))
	CountTo3          = flujo.Loop("count", flujo.Step("add", AddOne), AtLeast3)
	CountForever      = flujo.Loop("count", flujo.Step("add", AddOne), Never)
	CountForever2     = flujo.Loop("count", flujo.Step("add", AddOne), Never, flujo.MaxLoops(2))
	RouteWithDefault  = flujo.Branch("route", ByName, map[string]flujo.Node{"upper": flujo.Step("upper", Upper), "lower": flujo.Step("lower", Lower)}, flujo.Default(flujo.Step("other", Other)))
	RouteNoDefault    = flujo.Branch("route", ByName, map[string]flujo.Node{"upper": flujo.Step("upper", Upper), "lower": flujo.Step("lower", Lower)})
	MapEcho           = flujo.Map[Job, Job]("each", flujo.Step("echo", Echo), flujo.Concurrency(3))
	MapFlakyInOrder   = flujo.Map[Job, Job]("each", flujo.Step("flaky", Flaky, flujo.Retries(0)))
	Spend3            = flujo.Pipeline("spend", flujo.Step("s1", Echo), flujo.Step("s2", Echo), flujo.Step("s3", Echo))
	ParallelSpend     = flujo.Pipeline("spend", flujo.Parallel("fan", JoinTwo, flujo.Step("left", Echo), flujo.Step("right", Echo)), flujo.Step("after", Echo))
	StateRetry        = flujo.StepS("logflake", LogThenFlake, flujo.Retries(2))
	ParallelBlocks    = flujo.Parallel("fan", JoinTwo, flujo.Step("block", Block), flujo.Step("echo", Echo))
	History           = flujo.Pipeline("outer", flujo.Step("first", Echo), flujo.Pipeline("inner", flujo.Step("second", Echo), flujo.Step("third", Echo)))
	ParallelPropagate = flujo.Parallel("fan", JoinTwo, flujo.Step("echo", Echo), flujo.Step("fail", Fail, flujo.Retries(0)))
	ParallelIgnore    = ParallelPropagate.With(flujo.OnBranchFailure(flujo.Ignore))
	// TwoFans runs two Parallels in a row and FailBeforeCached never
	// reaches its cached step: the engines' pool and cache gauges must
	// agree whatever has run.
	TwoFans = flujo.Pipeline("two",
		flujo.Parallel("fan1", JoinTwo, flujo.Step("l1", Echo), flujo.Step("r1", Echo)),
		flujo.Parallel("fan2", JoinTwo, flujo.Step("l2", Echo), flujo.Step("r2", Echo)))
	FailBeforeCached = flujo.Pipeline("failfirst", flujo.Step("fail", Fail, flujo.Retries(0)), flujo.Step("tags", Tags, flujo.Cache()))
)

// The state-writing Parallel under each strategy: branch "p1" writes A
// (step "a1") and B (step "b"), "a2" writes A too, and "echo" never touches
// state.
//
// MaybeConflict's branches "x" and "y" may both write A, each only when
// the job's name contains its letter: under ErrorOnConflict a run fails
// only when both did.
var (
	FanErrorOnConflict = FanMergeUpdate.With(flujo.Merge(flujo.ErrorOnConflict))
	MaybeConflict      = flujo.Parallel("maybe", JoinTwo,
		flujo.StepS("x", MaybeWriteX),
		flujo.StepS("y", MaybeWriteY),
	).With(flujo.Merge(flujo.ErrorOnConflict))
)

var (
	FanMergeUpdate = flujo.Parallel("fan", JoinThree,
		flujo.Pipeline("p1", flujo.StepS("a1", WriteA), flujo.StepS("b", WriteB)),
		flujo.StepS("a2", WriteA2),
		flujo.Step("echo", Echo),
	)
	FanKeepFirst = FanMergeUpdate.With(flujo.Merge(flujo.KeepFirst))
	FanNoMerge   = FanMergeUpdate.With(flujo.Merge(flujo.NoMerge))
)

// ParallelMerge returns the state-writing Parallel with strategy m.
func ParallelMerge(m flujo.MergeStrategy) flujo.Node {
	switch m {
	case flujo.MergeUpdate:
		return FanMergeUpdate
	case flujo.KeepFirst:
		return FanKeepFirst
	case flujo.NoMerge:
		return FanNoMerge
	case flujo.ErrorOnConflict:
		return FanErrorOnConflict
	}
	return FanMergeUpdate.With(flujo.Merge(m))
}

// FallbackChain returns a step whose fallback chain is depth deep, every
// fallback failing except the last.
func FallbackChain(depth int) flujo.Node {
	var fb flujo.Node = flujo.Step("rescue", Rescue)
	for i := depth - 1; i >= 1; i-- {
		fb = flujo.Step("fb"+itoa(i), Fail, flujo.Retries(0), flujo.Fallback(fb))
	}
	return flujo.Step("primary", Fail, flujo.Retries(0), flujo.Fallback(fb))
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
