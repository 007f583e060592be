// Package hashing has inputs of every hashable shape and outputs with
// references, for the hashing and copying plans.
package hashing

import (
	"context"
	"time"

	"github.com/flujo/flujo"
)

type Kind uint8

type Point struct{ X, Y float64 }

// ID hashes itself.
type ID struct{ hi, lo uint64 }

func (id ID) Hash64() uint64 { return id.hi ^ id.lo }

// Tree is recursive through a pointer.
type Tree struct {
	Label    string
	Children []*Tree
	Next     *Tree
}

type Input struct {
	Name    string
	Count   int32
	Size    uint
	Ratio   float32
	Z       complex128
	Ok      bool
	Kind    Kind
	Raw     []byte
	Digest  [32]byte
	Corners [4]Point
	Tags    map[string][]int
	Owner   *Point
	When    time.Time
	ID      ID
	Any     any
	Tree    Tree
	_       int
	private string
}

type Result struct {
	Names  []string
	Scores map[string]float64
	Best   *Point
	Inner  struct{ Items []Point }
	Fixed  [2]Point
	Notify func()
	Tree   *Tree
	Plain  int
}

// Priced reports its usage.
type Priced struct{ Text string }

func (Priced) Usage() flujo.Usage { return flujo.Usage{} }

func Analyse(ctx context.Context, in Input) (Result, error) { return Result{}, nil }

func Price(ctx context.Context, in Input) (Priced, error) { return Priced{}, nil }

var Hashing = flujo.Pipeline("hashing",
	flujo.Step("analyse", Analyse, flujo.Cache()),
)

var Pricing = flujo.Step("price", Price, flujo.Cache(), flujo.ImmutableOutput())
