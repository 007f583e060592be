//go:build !flujogen

package hashing

import "github.com/flujo/flujo/runtime"

// The generated hash functions, for the tests that hold them to the
// runtime's canonical order.
var (
	HashPrivate = flujogenHashPrivate
	HashKey     = flujogenHashKey
	HashQuery   = flujogenHashQuery
)

// Hashes returns the sums of v under h with the generated function of its
// type.
func Hashes(h runtime.Hash, v any) uint64 {
	switch v := v.(type) {
	case Private:
		return HashPrivate(h, v).Sum64()
	case Key:
		return HashKey(h, v).Sum64()
	case Query:
		return HashQuery(h, v).Sum64()
	}
	panic("no generated hash function")
}
