package flujotest

import (
	"context"
	goruntime "runtime"
	"time"

	"github.com/flujo/flujo"
)

// Declarations of the rules in defects_rules.go.
var (
	// CachedTagsWithFallback is a cached step whose fallback answers when
	// it fails.
	CachedTagsWithFallback = flujo.Step("tags", Tags, flujo.Cache(), flujo.Retries(0), flujo.Fallback(flujo.Step("spare", SpareTags)))
	// PanicAtTwoDepths runs the same panic at two depths: the case "top"
	// at the branch's level, the case "deep" inside a pipeline.
	PanicAtTwoDepths = flujo.Branch("route", ByName, map[string]flujo.Node{
		"top":  flujo.Step("panic", Panic, flujo.Retries(0)),
		"deep": flujo.Pipeline("inner", flujo.Step("panicdeep", Panic, flujo.Retries(0))),
	})
	// GoexitStep calls runtime.Goexit on a job named "exit".
	GoexitStep = flujo.Step("exit", ExitOnExit, flujo.Retries(0))
	// GoexitTimed is GoexitStep under a Timeout: it runs on a goroutine
	// of its own.
	GoexitTimed = flujo.Step("exit", ExitOnExit, flujo.Retries(0), flujo.Timeout(time.Hour))
	// GoexitParallel runs GoexitStep beside Echo.
	GoexitParallel = flujo.Parallel("fan", JoinTwo, flujo.Step("exit", ExitOnExit, flujo.Retries(0)), flujo.Step("echo", Echo))
	// GoexitMap runs GoexitStep on each element, two at a time.
	GoexitMap = flujo.Map[Job, Job]("each", flujo.Step("exit", ExitOnExit, flujo.Retries(0)), flujo.Concurrency(2))
)

// ExitOnExit calls runtime.Goexit, as t.Fatal does, on a job named "exit",
// and returns any other job.
func ExitOnExit(_ context.Context, j Job) (Job, error) {
	j.Calls.inc("exit")
	if j.Name == "exit" {
		goruntime.Goexit()
	}
	return j, nil
}

// SpareTags returns the tags of a job whose tagger failed.
func SpareTags(_ context.Context, j Job) ([]string, error) {
	j.Calls.inc("spare")
	return []string{j.Name, "spare"}, nil
}
