package flujo

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Named types over slices and maps, assignable to and from their unnamed
// underlying types, as Go assigns them.
type (
	wordList  []string
	wordCount map[string]int
)

func splitWords(_ context.Context, s string) (wordList, error) { return strings.Fields(s), nil }

func joinWords(_ context.Context, w []string) (string, error) { return strings.Join(w, "+"), nil }

func countWords(w []string) wordCount {
	c := wordCount{}
	for _, x := range w {
		c[x]++
	}
	return c
}

func distinct(_ context.Context, c map[string]int) (int, error) { return len(c), nil }

func upperWord(_ context.Context, w string) (string, error) { return strings.ToUpper(w), nil }

func asWordList(_ context.Context, w []string) (wordList, error) { return w, nil }

func nonEmpty(w []string) error {
	if len(w) == 0 {
		return errors.New("no words")
	}
	return nil
}

func firstWord(w []string) string { return w[0] }

func pickBoth(a, b wordList) []string { return append(append([]string{}, a...), b...) }

// TestAssignableValuesFlowUnchanged: the declaration checks accept an output
// that is assignable to the next input (a wordList where []string is
// expected, a []string where wordList is), as Go does and as generated code
// passes it. The ExecutorCore passes the value itself to steps, Map bodies,
// validators, choosers and joins: never a zero value.
func TestAssignableValuesFlowUnchanged(t *testing.T) {
	c, _ := newTestCore(t, nil)
	ctx := context.Background()
	cases := []struct {
		name string
		node Node
		in   any
		want any
	}{
		{"step", Pipeline("p", Step("split", splitWords), Step("join", joinWords)), "a b a", "a+b+a"},
		{"func", Pipeline("p", Step("split", splitWords), Func("count", countWords), Step("distinct", distinct)), "a b a", 2},
		{"map", Pipeline("p", Step("split", splitWords), Map[string, string]("each", Step("upper", upperWord)), Step("as", asWordList)), "a b", wordList{"A", "B"}},
		{"validator", Pipeline("p", Step("split", splitWords, Validate(nonEmpty)), Step("join", joinWords)), "a", "a"},
		{"chooser", Pipeline("p", Step("split", splitWords), Branch("route", firstWord, map[string]Node{"a": Step("join", joinWords)})), "a b", "a+b"},
		{"join", Pipeline("p", Step("split", splitWords), Parallel("both", pickBoth, Step("l", asWordList), Step("r", asWordList))), "a b", []string{"a", "b", "a", "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Execute(ctx, tc.node, tc.in)
			if err != nil {
				t.Fatalf("run failed: %v", err)
			}
			if !reflect.DeepEqual(res.Output, tc.want) {
				t.Errorf("output %#v, want %#v", res.Output, tc.want)
			}
		})
	}
	// The run's input may be of any type assignable to the root's input.
	res, err := c.Execute(ctx, Step("join", joinWords), wordList{"x", "y"})
	if err != nil || res.Output != "x+y" {
		t.Errorf("a wordList given for []string: %v, %v; want x+y", res.Output, err)
	}
	if _, err := c.Execute(ctx, Step("join", joinWords), 3); err == nil {
		t.Error("an int given for []string ran")
	}
}
