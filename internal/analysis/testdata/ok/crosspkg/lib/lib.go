// Package lib declares steps used by another package.
package lib

import (
	"context"

	"github.com/flujo/flujo"
)

type Order struct{ ID string }

type State struct{ Seen int }

func Load(ctx context.Context, id string) (Order, error) { return Order{ID: id}, nil }

func Mark(ctx context.Context, o Order, st *State) (Order, error) { st.Seen++; return o, nil }

// Loader is a node declared here and used by package app.
var Loader = flujo.Step("load", Load, flujo.Retries(0))
