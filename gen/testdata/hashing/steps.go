// Package hashing declares cached steps whose inputs exercise every rule of
// the generated hash functions.
package hashing

import (
	"context"
	"time"

	"github.com/flujo/flujo"
)

// Query holds a part of every kind the generated hash adds.
type Query struct {
	Text   string
	Limit  int
	Score  float64
	Tags   []string
	Attrs  map[string]int
	Raw    []byte
	Digest [4]byte
	When   time.Time
	Next   *Page
	Pages  [2]Page
	ID     ID
	Flag   bool
	C      complex128
	U      uint16
	Levels map[Page][]int8
}

// Page is a nested struct.
type Page struct {
	N     int
	Label string
}

// ID hashes itself.
type ID struct{ hi, lo uint64 }

// NewID returns an ID.
func NewID(hi, lo uint64) ID { return ID{hi, lo} }

// Hash64 implements runtime.Hashable.
func (i ID) Hash64() uint64 { return i.hi*31 + i.lo }

// Private has an unexported field that cache keys leave out.
type Private struct {
	Name   string
	secret string
}

// WithSecret returns p with its unexported field set.
func (p Private) WithSecret(s string) Private { p.secret = s; return p }

// Key compares by content: cached with a collision check.
type Key struct {
	Name string
	N    int
}

// Result is a reference-typed output.
type Result struct {
	Hits []string
}

// Search echoes the query's tags.
func Search(_ context.Context, q Query) (Result, error) {
	return Result{Hits: append([]string(nil), q.Tags...)}, nil
}

// Lookup returns the key's length.
func Lookup(_ context.Context, k Key) (int, error) { return len(k.Name) + k.N, nil }

// Greet greets by name.
func Greet(_ context.Context, p Private) (string, error) { return "hello " + p.Name, nil }

var (
	// Searcher is cached and returns references.
	Searcher = flujo.Step("search", Search, flujo.Cache())
	// Looker is cached on a comparable key.
	Looker = flujo.Step("lookup", Lookup, flujo.Cache())
	// Greeter is cached on a value with an unexported field.
	Greeter = flujo.Step("greet", Greet, flujo.Cache())
	// Plain is not cached.
	Plain = flujo.Step("plain", Lookup)
)
