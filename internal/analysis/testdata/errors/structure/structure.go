package structure

import (
	"context"

	"github.com/flujo/flujo"
)

func Echo(ctx context.Context, s string) (string, error) { return s, nil }

func Key(s string) string { return s }

func One(a string) string { return a }

var NoSteps = flujo.Pipeline("nosteps")

var NilNode = flujo.Pipeline("nilnode", flujo.Step("e", Echo), nil)

var NoBranches = flujo.Parallel("nobranches", One)

var NoCases = flujo.Branch("nocases", Key, nil)

var NilCase = flujo.Branch("nilcase", Key, map[string]flujo.Node{"a": nil})

var NilBody = flujo.Loop[string]("nilbody", nil, func0)

func func0(s string) bool { return true }

var EmptyName = flujo.Step("", Echo)
