package schema

import (
	"testing"
)

func TestIndexPositions(t *testing.T) {
	doc := "{\n  \"a\": [1, {\"b~/c\": null}],\n\t\"é\": \"x\\\"y\",\r\n  \"n\": -1.5e3, \"t\": true}"
	x, err := indexJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pointer           string
		line, col, keyCol int
		raw               string
	}{
		{"", 1, 1, 0, doc},
		{"/a", 2, 8, 3, `[1, {"b~/c": null}]`},
		{"/a/0", 2, 9, 0, "1"},
		{"/a/1", 2, 12, 0, `{"b~/c": null}`},
		{"/a/1/b~0~1c", 2, 21, 13, "null"},
		{"/é", 3, 8, 2, `"x\"y"`}, // columns count bytes: "é" is two
		{"/n", 4, 8, 3, "-1.5e3"},
		{"/t", 4, 21, 16, "true"},
	} {
		n, ok := x.nodes[tc.pointer]
		if !ok {
			t.Errorf("%q not indexed", tc.pointer)
			continue
		}
		if line, col := x.position(n.start); line != tc.line || col != tc.col {
			t.Errorf("%q at %d:%d, want %d:%d", tc.pointer, line, col, tc.line, tc.col)
		}
		if tc.keyCol > 0 {
			if _, col := x.position(n.keyStart); col != tc.keyCol {
				t.Errorf("%q key at column %d, want %d", tc.pointer, col, tc.keyCol)
			}
		} else if n.keyStart != -1 {
			t.Errorf("%q has a key at %d, want none", tc.pointer, n.keyStart)
		}
		if got := x.raw(tc.pointer); got != tc.raw {
			t.Errorf("raw(%q) = %q, want %q", tc.pointer, got, tc.raw)
		}
	}
	if got := x.nodes[""].members; len(got) != 4 || got[0] != "a" || got[1] != "é" || got[3] != "t" {
		t.Errorf("members %q, want document order", got)
	}
	// A missing member is reported at its nearest ancestor.
	if n := x.lookup("/a/1/missing/deeper"); n != x.nodes["/a/1"] {
		t.Errorf("lookup of a missing pointer did not fall back to its object")
	}
}

// TestIndexWithDuplicatesAndHugeNumbers: duplicates (which
// runtime.CheckDocument reports) are indexed at their later value and
// listed once; numbers no exact arithmetic holds are found.
func TestIndexWithDuplicatesAndHugeNumbers(t *testing.T) {
	x, err := indexJSON([]byte(`{"a": 1, "b": {"c": 1e999999999, "c": 2}, "a": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := x.nodes[""].members; len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("members %q, want a and b once each", got)
	}
	// The later value wins, as in decoding.
	if got := x.raw("/a"); got != "3" {
		t.Errorf("raw(/a) = %q, want the later value", got)
	}
	if len(x.badNumbers) != 1 || x.badNumbers[0] != "/b/c" {
		t.Errorf("bad numbers %q", x.badNumbers)
	}
}

func TestIndexRejectsWhatItCannotRead(t *testing.T) {
	for _, doc := range []string{`{"a" 1}`, `[1 2]`, `{"a": tru}`, `"open`, `{} {}`, ``, `{"a":}`} {
		if _, err := indexJSON([]byte(doc)); err == nil {
			t.Errorf("indexJSON(%q) succeeded", doc)
		}
	}
}
