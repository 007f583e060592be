package cachestate

import (
	"context"
	"time"

	"github.com/flujo/flujo"
)

type Tally struct{ N int }

func Count(ctx context.Context, s string, st *Tally) (int, error) { st.N++; return st.N, nil }

// A StepS reads the state, which is not part of the cache key.
var Cached = flujo.StepS("counted", Count, flujo.Cache())

var CachedTTL = flujo.Pipeline("ttl", flujo.StepS("counted", Count).With(flujo.CacheTTL(time.Minute)))

// flujo.json turns the cache on for cfgstate.count.
var Configured = flujo.Pipeline("cfgstate", flujo.StepS("count", Count))
