// Package lib declares a type and a step used by package app, directly
// and through package mid.
package lib

import "context"

type Order struct{ ID string }

func Ship(ctx context.Context, o Order) (Order, error) { return o, nil }
