package schema

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a configuration file.
type Problem struct {
	File string
	// Line and Col locate the offending value (or, for an unknown field,
	// its key): 1-based, the column counted in bytes. Both are 0 when the
	// problem concerns the file as a whole.
	Line, Col int
	// Pointer is the JSON pointer (RFC 6901) of the value; empty for the
	// document itself.
	Pointer string
	// Message says what was expected and what was found.
	Message string

	offset int // byte offset, for sorting
}

// String formats p as "file:line:col: pointer: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Col)
	}
	b.WriteString(": ")
	if p.Pointer != "" {
		b.WriteString(p.Pointer)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error lists every problem of a configuration file, sorted by position.
type Error struct {
	Problems []Problem
	// Err is the underlying error when the file could not be read
	// (errors.Is(err, fs.ErrNotExist) works through it).
	Err error
}

// Error returns one line per problem.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the underlying read error, if any.
func (e *Error) Unwrap() error { return e.Err }

// fileError reports a problem with the file as a whole.
func fileError(name string, err error, format string, args ...any) *Error {
	return &Error{Problems: []Problem{{File: name, Message: fmt.Sprintf(format, args...)}}, Err: err}
}

// sortProblems orders problems by position and drops repeats.
func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.offset, b.offset), strings.Compare(a.Pointer, b.Pointer), strings.Compare(a.Message, b.Message))
	})
	return slices.CompactFunc(ps, func(a, b Problem) bool {
		return a.offset == b.offset && a.Pointer == b.Pointer && a.Message == b.Message
	})
}
