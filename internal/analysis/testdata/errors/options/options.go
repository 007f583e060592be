package options

import (
	"context"
	"errors"
	"time"

	"github.com/flujo/flujo"
)

type Doc struct{ Text string }

type Tally struct{ N int }

func Edit(ctx context.Context, d Doc) (Doc, error)           { return d, nil }
func Size(ctx context.Context, d Doc) (int, error)           { return len(d.Text), nil }
func Mark(ctx context.Context, d Doc, t *Tally) (Doc, error) { t.N++; return d, nil }
func Done(d Doc) bool                                        { return true }
func Pick(d Doc) string                                      { return "x" }
func Pair(a, b Doc) Doc                                      { return a }
func CheckInt(n int) error                                   { return errors.New("no") }

var Values = flujo.Pipeline("values",
	flujo.Step("retries", Edit, flujo.Retries(-1)),
	flujo.Step("timeout", Edit, flujo.Timeout(0)),
	flujo.Step("backoff", Edit, flujo.Backoff(2*time.Second, time.Second)),
	flujo.Step("ttl", Edit, flujo.CacheTTL(-time.Second)),
	flujo.Loop("loop", flujo.Step("body", Edit), Done, flujo.MaxLoops(0)),
	flujo.Parallel("par", Pair, flujo.Step("p1", Edit), flujo.Step("p2", Edit)).
		With(flujo.Merge(flujo.MergeStrategy(7)), flujo.OnBranchFailure(flujo.BranchFailurePolicy(5))),
)

var Kinds = flujo.Pipeline("kinds",
	flujo.Step("merge", Edit, flujo.Merge(flujo.KeepFirst)),
	flujo.Step("maxloops", Edit, flujo.MaxLoops(3), flujo.Concurrency(2), flujo.Default(flujo.Step("d", Edit))),
	flujo.Pipeline("sub", flujo.Step("leaf", Edit)).With(flujo.Retries(2), flujo.Cache()),
	flujo.Step("validate", Edit, flujo.Validate(CheckInt)),
	flujo.Step("fallback", Edit, flujo.Fallback(flujo.Step("wrongtype", Size))),
	flujo.Step("nilfallback", Edit, flujo.Fallback(nil)),
	flujo.Branch("branch", Pick, map[string]flujo.Node{"x": flujo.Step("x", Edit)}, flujo.Default(nil)),
	flujo.Step("zero", Edit, flujo.Option{}),
	flujo.Pipeline("guarded", flujo.Step("g", Edit)).With(flujo.BreakerCounts(Counts)),
	flujo.Step("nilcounts", Edit, flujo.BreakerCounts(nil)),
)

func Counts(err error) bool { return err != nil }

var Counted = flujo.Map[Doc, Doc]("counted", flujo.StepS("mark", Mark), flujo.Concurrency(2))

var Empty = flujo.Map[Doc, Doc]("empty", flujo.Step("e", Edit), flujo.Concurrency(0))

// The fallback chain of deep is eleven deep.
var Deep = flujo.Step("deep", Edit, flujo.Fallback(
	flujo.Step("f1", Edit, flujo.Fallback(
		flujo.Step("f2", Edit, flujo.Fallback(
			flujo.Step("f3", Edit, flujo.Fallback(
				flujo.Step("f4", Edit, flujo.Fallback(
					flujo.Step("f5", Edit, flujo.Fallback(
						flujo.Step("f6", Edit, flujo.Fallback(
							flujo.Step("f7", Edit, flujo.Fallback(
								flujo.Step("f8", Edit, flujo.Fallback(
									flujo.Step("f9", Edit, flujo.Fallback(
										flujo.Step("f10", Edit, flujo.Fallback(
											flujo.Step("f11", Edit)))))))))))))))))))))))
