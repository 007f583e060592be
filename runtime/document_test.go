package runtime

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestCheckDocument: the rules of every configuration document, which
// Import and the flujo.json loader share (schema.TestLoadFollowsDocumentRules
// runs the same documents through the loader).
func TestCheckDocument(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want []string // DocumentError messages with positions
	}{
		{`{}`, nil},
		{`{"a": 1, "b": {"a": 2}}`, nil},
		{`{"a": 1, "a": 2}`, []string{`config document: 1:10: /a: duplicate field "a" (first at 1:2)`}},
		{"{\n  \"o\": {\"x\": [1, {\"k\": 1, \"k\": 2}], \"x\": 3},\n  \"o\": 1\n}",
			[]string{`config document: 2:27: /o/x/1/k: duplicate field "k" (first at 2:19)`,
				`config document: 2:37: /o/x: duplicate field "x" (first at 2:9)`,
				`config document: 3:3: /o: duplicate field "o" (first at 2:3)`}},
		{`{"a/b": 1, "a/b": 1}`, []string{`config document: 1:12: /a~1b: duplicate field "a/b" (first at 1:2)`}},
		{"\xef\xbb\xbf{\"a\": 1, \"a\": 2}", []string{`config document: 1:13: /a: duplicate field "a" (first at 1:5)`}},
		{`{"a": 1, "a"`, []string{`config document: 1:10: /a: duplicate field "a" (first at 1:2)`}}, // malformed after: the decoder's business
	} {
		_, problems := CheckDocument([]byte(tc.doc))
		var got []string
		for _, p := range problems {
			got = append(got, p.Error())
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%q:\ngot  %q\nwant %q", tc.doc, got, tc.want)
		}
	}
	clean, problems := CheckDocument([]byte("\xef\xbb\xbf{}"))
	if string(clean) != "   {}" || problems != nil {
		t.Errorf("BOM: %q %v, want it blanked", clean, problems)
	}
	big := append([]byte("{}"), bytes.Repeat([]byte(" "), MaxDocumentSize-1)...)
	if _, problems := CheckDocument(big); len(problems) != 1 || problems[0].Error() != "config document: too large: 1048577 bytes, the limit is 1048576 bytes (1 MiB)" {
		t.Errorf("oversized: %v", problems)
	}
	if _, problems := CheckDocument(big[:MaxDocumentSize]); problems != nil {
		t.Errorf("exactly MaxDocumentSize: %v", problems)
	}
}

// TestImportFollowsDocumentRules: Import refuses duplicate members (with
// their position) and oversized documents, and reads a document that starts
// with a byte order mark.
func TestImportFollowsDocumentRules(t *testing.T) {
	base := DefaultOptimizationConfig()
	_, err := base.Import([]byte(`{"telemetry_batch_size": 5, "telemetry_batch_size": 6}`), "json")
	var de *DocumentError
	if !errors.As(err, &de) || de.Line != 1 || de.Col != 29 || de.Pointer != "/telemetry_batch_size" {
		t.Errorf("duplicate: %v", err)
	}
	c, err := base.Import([]byte("\xef\xbb\xbf{\"telemetry_batch_size\": 5}"), "json")
	if err != nil || c.TelemetryBatchSize != 5 {
		t.Errorf("BOM: %v, batch %d", err, c.TelemetryBatchSize)
	}
	big := append([]byte(`{"telemetry_batch_size": 5}`), bytes.Repeat([]byte(" "), MaxDocumentSize)...)
	if _, err := base.Import(big, "json"); !errors.As(err, &de) || !strings.Contains(err.Error(), "too large") {
		t.Errorf("oversized: %v", err)
	}
}
