package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flujo/flujo/runtime"
)

func TestTableAlignsColumns(t *testing.T) {
	var b strings.Builder
	Table(&b, [][]string{{"a", "bb", ""}, {"ccc", "d", "e"}})
	if got, want := b.String(), "a    bb\nccc  d  e\n"; got != want { // a trailing cell is not padded
		t.Errorf("Table = %q, want %q", got, want)
	}
}

func TestRecommendationsAreSentences(t *testing.T) {
	var b strings.Builder
	Recommendations(&b, nil)
	if got := b.String(); got != none+"\n" {
		t.Errorf("no recommendation: %q", got)
	}
	b.Reset()
	Recommendations(&b, []runtime.Recommendation{
		{ID: "cache-high-eviction", Priority: runtime.PriorityMedium, Description: "The cache evicts a lot", Impact: "The hit rate rises.",
			Change: runtime.ConfigChange{Field: "cache_max_size", Current: 5, Recommended: 10}},
		{ID: "note", Priority: runtime.PriorityLow, Description: "Something seen.", Impact: "nothing to change"},
	})
	want := "Recommendation (medium priority, cache-high-eviction): The cache evicts a lot.\n" +
		"  Set cache_max_size from 5 to 10 (with ImportConfig, or in flujo.json for generated executors, which compile it in). The hit rate rises.\n" +
		"Recommendation (low priority, note): Something seen.\n" +
		"  No configuration change: nothing to change.\n"
	if got := b.String(); got != want {
		t.Errorf("Recommendations =\n%s\nwant\n%s", got, want)
	}
}

func TestWriteJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.json")
	var stdout bytes.Buffer
	if err := WriteJSON(path, &stdout, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]int
	if err := json.Unmarshal(data, &v); err != nil || v["a"] != 1 || stdout.Len() != 0 {
		t.Errorf("file %q (%v), stdout %q", data, err, stdout.String())
	}
	if err := WriteJSON("-", &stdout, 1); err != nil || stdout.String() != "1\n" {
		t.Errorf("-: %q, %v", stdout.String(), err)
	}
	if err := WriteJSON(filepath.Join(path, "no", "such"), &stdout, 1); err == nil || !strings.Contains(err.Error(), "-json: ") {
		t.Errorf("unwritable path: %v", err)
	}
}

func TestCount(t *testing.T) {
	if Count(1, "call", "calls") != "1 call" || Count(0, "call", "calls") != "0 calls" {
		t.Error("Count picks the wrong noun")
	}
}
