package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// MaxDocumentSize is the largest configuration document, in bytes, that
// Import and the flujo.json loader (schema.Load) accept: 1 MiB.
const MaxDocumentSize = 1 << 20

// utf8BOM is the UTF-8 encoding of U+FEFF, the byte order mark.
var utf8BOM = []byte("\xef\xbb\xbf")

// DocumentError is a problem with a configuration document as a whole
// rather than with one field's value: its size, or a member name given
// twice in one object.
type DocumentError struct {
	// Offset is the byte offset of the problem in the document, -1 when
	// it has none (a size); Line and Col, 1-based, are its position, the
	// column counted in bytes (0 when Offset is -1).
	Offset, Line, Col int
	// Pointer is the JSON pointer of the duplicate member ("" for size).
	Pointer string
	Message string
}

// Error describes the problem and where it is.
func (e *DocumentError) Error() string {
	if e.Offset < 0 {
		return "config document: " + e.Message
	}
	return fmt.Sprintf("config document: %d:%d: %s: %s", e.Line, e.Col, e.Pointer, e.Message)
}

// CheckDocumentSize returns a *DocumentError when a document of n bytes is
// larger than MaxDocumentSize, else nil.
func CheckDocumentSize(n int64) error {
	if n <= MaxDocumentSize {
		return nil
	}
	return &DocumentError{Offset: -1, Message: fmt.Sprintf("too large: %d bytes, the limit is %d bytes (1 MiB)", n, MaxDocumentSize)}
}

// CheckDocument applies the rules that every configuration document
// follows, read by Import or by the flujo.json loader alike:
//   - it holds at most MaxDocumentSize bytes;
//   - a leading UTF-8 byte order mark is allowed, as Windows editors write
//     one; it is replaced by three spaces, so byte columns stay true;
//   - a member name occurs at most once in each object, at any depth
//     (encoding/json would silently keep the last value).
//
// It returns the document to decode (data itself, or a copy with the mark
// blanked) and every problem found, in document order. Malformed JSON is
// left to the decoder, which reports it at its own position.
func CheckDocument(data []byte) ([]byte, []*DocumentError) {
	if err := CheckDocumentSize(int64(len(data))); err != nil {
		return data, []*DocumentError{err.(*DocumentError)}
	}
	if bytes.HasPrefix(data, utf8BOM) {
		data = append([]byte("   "), data[len(utf8BOM):]...)
	}
	return data, duplicateMembers(data)
}

// docFrame is an object or array being scanned by duplicateMembers.
type docFrame struct {
	object  bool
	pointer string
	seen    map[string]int // member name -> offset of its key
	wantKey bool           // an object's next token is a member name
	child   string         // pointer of the value being read
	index   int            // an array's next element
}

// duplicateMembers reports every member name that occurs twice in one
// object of data. It stops quietly at malformed JSON.
func duplicateMembers(data []byte) []*DocumentError {
	var problems []*DocumentError
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*docFrame
	// valueDone moves the innermost container past the value just read.
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	childPointer := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := stack[len(stack)-1]
		if top.object {
			return top.child
		}
		return fmt.Sprintf("%s/%d", top.pointer, top.index)
	}
	for {
		before := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return problems
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
			if name, ok := tok.(string); ok {
				top := stack[n-1]
				start := before + bytes.IndexByte(data[before:], '"')
				top.child = top.pointer + "/" + escapePointerToken(name)
				top.wantKey = false
				if first, dup := top.seen[name]; dup {
					fl, fc := documentPosition(data, first)
					line, col := documentPosition(data, start)
					problems = append(problems, &DocumentError{Offset: start, Line: line, Col: col, Pointer: top.child,
						Message: fmt.Sprintf("duplicate field %q (first at %d:%d)", name, fl, fc)})
				} else {
					top.seen[name] = start
				}
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, &docFrame{object: tok == json.Delim('{'), pointer: childPointer(), seen: map[string]int{}, wantKey: tok == json.Delim('{')})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

// documentPosition returns the 1-based line and byte column of offset.
func documentPosition(data []byte, offset int) (line, col int) {
	before := data[:min(offset, len(data))]
	line = bytes.Count(before, []byte("\n")) + 1
	return line, offset - (bytes.LastIndexByte(before, '\n') + 1) + 1
}

// escapePointerToken escapes one JSON pointer reference token (RFC 6901).
func escapePointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
