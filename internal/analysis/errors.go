package analysis

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem found while loading or analysing, at a position in
// the source.
type Error struct {
	// File, Line and Col locate the problem; File is empty when the
	// problem has no position, and Line and Col are 0 when unknown.
	File      string
	Line, Col int
	// Msg says what is wrong and, where there is one, how to fix it.
	Msg string
}

// Pos renders the position as "file:line:col", "file:line", "file" or "".
func (e *Error) Pos() string {
	return formatPos(e.File, e.Line, e.Col)
}

// Error renders "file:line:col: message", or the message alone when the
// problem has no position.
func (e *Error) Error() string {
	if p := e.Pos(); p != "" {
		return p + ": " + e.Msg
	}
	return e.Msg
}

func formatPos(file string, line, col int) string {
	switch {
	case file == "":
		return ""
	case line == 0:
		return file
	case col == 0:
		return file + ":" + strconv.Itoa(line)
	}
	return file + ":" + strconv.Itoa(line) + ":" + strconv.Itoa(col)
}

// ErrorList is every problem of one run, sorted by position, without
// duplicates. Load returns it as its error; errors.As finds it.
type ErrorList []*Error

// Error renders one problem per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// errorSet collects problems, ignoring repeats: a node declared once and
// used by several pipelines is checked once per use.
type errorSet struct {
	seen map[Error]bool
	list ErrorList
}

func (s *errorSet) add(e Error) {
	if s.seen == nil {
		s.seen = map[Error]bool{}
	}
	if s.seen[e] {
		return
	}
	s.seen[e] = true
	s.list = append(s.list, &e)
}

// sorted returns the problems ordered by file, line, column and message;
// problems without a position come first.
func (s *errorSet) sorted() ErrorList {
	l := slices.Clone(s.list)
	slices.SortFunc(l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	return l
}

// parsePos splits a "file:line:col", "file:line" or "file" position as
// go/packages reports them. "" and "-" mean no position.
func parsePos(pos string) (file string, line, col int) {
	if pos == "" || pos == "-" {
		return "", 0, 0
	}
	file = pos
	// Up to two trailing numeric parts; a Windows drive letter is never
	// numeric, so it stays in the file name.
	var nums []int
	for range 2 {
		i := strings.LastIndexByte(file, ':')
		if i < 0 {
			break
		}
		n, err := strconv.Atoi(file[i+1:])
		if err != nil {
			break
		}
		nums = append(nums, n)
		file = file[:i]
	}
	switch len(nums) {
	case 1:
		line = nums[0]
	case 2:
		line, col = nums[1], nums[0]
	}
	return file, line, col
}

// errorAt builds an Error at a position rendered by the model's rules.
func errorAt(p position, format string, args ...any) Error {
	return Error{File: p.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)}
}

// position is a resolved source position, the file already in display
// form.
type position struct {
	file      string
	line, col int
}

func (p position) String() string { return formatPos(p.file, p.line, p.col) }
