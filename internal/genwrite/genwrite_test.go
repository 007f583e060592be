package genwrite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnified(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\n"
	new := "a\nb\nc\nD\ne\nf\ng\nh\n"
	d := Unified("x.go", []byte(old), []byte(new))
	for _, want := range []string{"--- x.go (on disk)", "+++ x.go (generated)", "@@ -1,7 +1,7 @@", "-d\n+D\n"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	if Unified("x.go", []byte(old), []byte(old)) != "" {
		t.Error("equal inputs give a diff")
	}
	want := "--- y.go (on disk)\n+++ y.go (generated)\n@@ -0,0 +1,2 @@\n+p\n+q\n"
	if d := Unified("y.go", nil, []byte("p\nq\n")); d != want {
		t.Errorf("diff of a missing file:\n%s\nwant:\n%s", d, want)
	}
}

func TestWriteOnlyChangedAndOrphans(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "flujo_gen.go")
	data := []byte(Header + "\n\npackage p\n")
	ch, err := Write([]File{{p, data}}, nil)
	if err != nil || len(ch) != 1 {
		t.Fatalf("first write: %v %v", ch, err)
	}
	if ch, err := Write([]File{{p, data}}, nil); err != nil || len(ch) != 0 {
		t.Errorf("unchanged write: %v %v", ch, err)
	}
	other := filepath.Join(dir, "old_gen.go")
	os.WriteFile(other, data, 0o644)
	os.WriteFile(filepath.Join(dir, "hand.go"), []byte("package p\n"), 0o644)
	orphans, err := Orphans([]string{dir}, map[string]bool{p: true})
	if err != nil || len(orphans) != 1 || orphans[0] != other {
		t.Fatalf("orphans %v %v", orphans, err)
	}
	if ch, _ := Check([]File{{p, data}}, orphans); len(ch) != 1 || ch[0].Kind != "orphan" {
		t.Errorf("check: %v", ch)
	}
	if _, err := Write(nil, orphans); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Error("orphan not removed")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
