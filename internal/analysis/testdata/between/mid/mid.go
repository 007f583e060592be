// Package mid stands between app and lib: it is not named when loading,
// but its step returns a type of lib, which is.
package mid

import (
	"context"

	"example.com/flujotest/between/lib"
)

func Load(ctx context.Context, id string) (lib.Order, error) { return lib.Order{ID: id}, nil }
