// Package hidden returns a type other packages cannot name.
package hidden

import "context"

type secret struct{ v string }

func Make(ctx context.Context, s string) (secret, error) { return secret{s}, nil }
