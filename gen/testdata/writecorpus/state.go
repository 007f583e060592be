// Package writecorpus is the write-set corpus: StepS bodies that write
// their state in every way Go allows, and some that only read it. Each case
// runs alone in a one-branch Parallel under every merge strategy (behind a
// wrapper that also writes Mark under the strategies that merge, so that a
// field missing from its write set is lost rather than written in place),
// on the ExecutorCore and on the generated executor, from equal fresh
// states; results and final states must be equal (gen/writecorpus_test.go,
// which runs engines_test.go in a temporary module). Pairs of writing
// branches show the strategies' order. internal/analysis's
// TestWriteCorpusSound checks that what each case changes is in its static
// write set.
//
// A case is an exported func(context.Context, In, *State) (In, error) in
// cases.go or cases_more.go (hand-written) or cases_gen.go (field writes x
// ways to reach the state, from gen/writecorpus_gen_test.go); a case whose
// name starts with Read must have an empty static write set. Regenerate
// cases_gen.go and pipelines_gen.go (the case list and the pipelines) with
// go test ./gen -run TestWriteCorpusSources -update.
//
// Cases must be deterministic: wait for goroutines, no time, no
// randomness, and leave package variables as they found them. State holds
// no bytes.Buffer and no interface field, and names its func and chan
// types: flujogen refuses to merge those (see the issue 12 report).
package writecorpus

import "context"

// In selects the case: the pipelines route on Case.
type In struct {
	Case string
	N    int
}

// Inner is a nested struct with reference fields.
type Inner struct {
	N    int
	Tags []string
	M    map[string]int
}

// Counter has pointer-receiver methods that write and a value method that
// reads.
type Counter struct{ N int }

func (c *Counter) Inc()      { c.N++ }
func (c *Counter) Add(n int) { c.N += n }
func (c Counter) Get() int   { return c.N }

// Incer is implemented by *Counter.
type Incer interface{ Inc() }

// Loud counts the calls of its String method, which fmt runs.
type Loud struct{ Calls int }

func (l *Loud) String() string { l.Calls++; return "loud" }

// Doc's MarshalJSON writes through its pointer; encoding/json runs it.
type Doc struct{ Seen *int }

func (d Doc) MarshalJSON() ([]byte, error) { *d.Seen++; return []byte(`{}`), nil }

// Tape is an io.Writer that keeps what it is given.
type Tape struct{ Data []byte }

func (t *Tape) Write(p []byte) (int, error) { t.Data = append(t.Data, p...); return len(p), nil }

// Base is embedded in State: its field and method are promoted.
type Base struct{ Hits int }

func (b *Base) Hit() { b.Hits++ }

// Label has a String method that only reads.
type Label string

func (l Label) String() string { return "label:" + string(l) }

// Target is decoded into by encoding/json.
type Target struct{ V int }

// IntFunc and IntChan are named: the generated executor writes the
// types of the fields it merges by name.
type (
	IntFunc func() int
	IntChan chan int
)

// MyInt converts *int.
type MyInt int

// State has a field of every kind.
type State struct {
	Int      int
	Other    int
	Str      string
	Float    float64
	Bool     bool
	Bytes    []byte
	Slice    []int
	Strs     []string
	Map      map[string]int
	Ptr      *int
	Arr      [3]int
	Inner    Inner
	PInner   *Inner
	Counter  Counter
	PCounter *Counter
	Loud     Loud
	PLoud    *Loud
	Doc      Doc
	Tape     Tape
	Fn       IntFunc
	Base
	Ch        IntChan
	Matrix    [][]int
	Lists     map[string][]int
	Label     Label
	Target    Target
	Untouched string
	// Mark is written by the wrappers the merging pipelines run the
	// cases behind (pipelines_gen.go).
	Mark int
}

func one() int { return 1 }
func two() int { return 2 }

// NewState returns a fresh state; every call returns an equal one that
// shares nothing with the others. Slices have room beyond their length, so
// that appending to an alias writes the field's backing array.
func NewState() *State {
	seven := 7
	seen := 0
	slice := make([]int, 3, 8)
	copy(slice, []int{1, 2, 3})
	return &State{
		Int:      1,
		Other:    2,
		Str:      "s",
		Float:    1.5,
		Bytes:    append(make([]byte, 0, 8), "abc"...),
		Slice:    slice,
		Strs:     append(make([]string, 0, 4), "a", "b"),
		Map:      map[string]int{"a": 1, "b": 2},
		Ptr:      &seven,
		Arr:      [3]int{1, 2, 3},
		Inner:    Inner{N: 1, Tags: []string{"t"}, M: map[string]int{"a": 1}},
		PInner:   &Inner{N: 2, Tags: []string{"p"}, M: map[string]int{"p": 1}},
		PCounter: &Counter{N: 5},
		PLoud:    &Loud{},
		Doc:      Doc{Seen: &seen},
		Fn:       one,
		Ch:       make(chan int, 4),
		Matrix:   [][]int{{1, 2}, {3, 4}},
		Lists:    map[string][]int{"a": append(make([]int, 0, 4), 1, 2)},
		Label:    "l",
	}
}

// Keep and Keep2 are the joins of the Parallels.
func Keep(a In) In { return a }

func Keep2(a, b In) In { return b }

// Route picks the case.
func Route(in In) string { return in.Case }

// Start is the step the pipelines begin with.
func Start(in In) In { return in }

// Case is one case of the corpus.
type Case struct {
	Name string
	Fn   func(context.Context, In, *State) (In, error)
}
