package genwrite

import (
	"bytes"

	"github.com/rogpeppe/go-internal/diff"
)

// Unified returns the unified diff from old to new of the file at path,
// empty when they are equal. Its header names the file on disk as the old
// side and the generated file as the new one.
func Unified(path string, old, new []byte) string {
	d := diff.Diff(path+" (on disk)", old, path+" (generated)", new)
	if d == nil {
		return ""
	}
	// diff.Diff opens with a "diff old new" line, as git does; a unified
	// diff starts at its "---" line.
	if i := bytes.Index(d, []byte("\n---")); bytes.HasPrefix(d, []byte("diff ")) && i >= 0 {
		d = d[i+1:]
	}
	return string(d)
}
