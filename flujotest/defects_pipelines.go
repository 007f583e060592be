package flujotest

import (
	"context"

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
)

// SpareTags returns the tags of a job whose tagger failed.
func SpareTags(_ context.Context, j Job) ([]string, error) {
	j.Calls.inc("spare")
	return []string{j.Name, "spare"}, nil
}
