package schema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// jsonNode is where one value of a JSON document sits in its bytes.
type jsonNode struct {
	keyStart   int      // offset of the member's key, or -1 (root, array element)
	start, end int      // the value's bytes
	members    []string // member names of an object, in document order
}

// jsonIndex maps every JSON pointer of a syntactically valid document to
// the bytes of its value, so problems found on the decoded document can be
// reported at file:line:col.
type jsonIndex struct {
	data       []byte
	lineStarts []int
	nodes      map[string]*jsonNode
	badNumbers []string // pointers of numbers no exact arithmetic can hold
}

// indexJSON indexes data, which must already have decoded without error.
func indexJSON(data []byte) (*jsonIndex, error) {
	x := &jsonIndex{data: data, nodes: map[string]*jsonNode{}, lineStarts: []int{0}}
	for i, c := range data {
		if c == '\n' {
			x.lineStarts = append(x.lineStarts, i+1)
		}
	}
	sc := jsonScanner{x: x}
	pos, err := sc.value(sc.skip(0), "", -1)
	if err != nil {
		return nil, err
	}
	if pos = sc.skip(pos); pos != len(data) {
		return nil, fmt.Errorf("unexpected data at offset %d", pos)
	}
	return x, nil
}

// position returns the 1-based line and byte column of offset.
func (x *jsonIndex) position(offset int) (line, col int) {
	i := sort.Search(len(x.lineStarts), func(i int) bool { return x.lineStarts[i] > offset }) - 1
	return i + 1, offset - x.lineStarts[i] + 1
}

// lookup returns the node at pointer, or the nearest ancestor that exists
// (a member the document leaves out is reported at its object).
func (x *jsonIndex) lookup(pointer string) *jsonNode {
	for {
		if n, ok := x.nodes[pointer]; ok {
			return n
		}
		i := strings.LastIndexByte(pointer, '/')
		if i < 0 {
			return x.nodes[""]
		}
		pointer = pointer[:i]
	}
}

// raw returns the text of the value at pointer.
func (x *jsonIndex) raw(pointer string) string {
	n, ok := x.nodes[pointer]
	if !ok {
		return ""
	}
	return string(x.data[n.start:n.end])
}

// escapeToken escapes one JSON pointer reference token (RFC 6901).
func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

type jsonScanner struct {
	x *jsonIndex
}

func (s jsonScanner) skip(i int) int {
	d := s.x.data
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

func (s jsonScanner) errAt(i int, what string) error {
	return fmt.Errorf("offset %d: expected %s", i, what)
}

// value scans the value starting at i and returns the offset after it.
func (s jsonScanner) value(i int, pointer string, keyStart int) (int, error) {
	d := s.x.data
	if i >= len(d) {
		return i, s.errAt(i, "a value")
	}
	n := &jsonNode{keyStart: keyStart, start: i}
	s.x.nodes[pointer] = n
	var end int
	var err error
	switch c := d[i]; {
	case c == '{':
		end, err = s.object(i, pointer, n)
	case c == '[':
		end, err = s.array(i, pointer)
	case c == '"':
		end, err = s.str(i)
	case c == 't':
		end, err = s.literal(i, "true")
	case c == 'f':
		end, err = s.literal(i, "false")
	case c == 'n':
		end, err = s.literal(i, "null")
	default:
		end, err = s.number(i)
		if err == nil {
			if _, ok := new(big.Rat).SetString(string(d[i:end])); !ok {
				s.x.badNumbers = append(s.x.badNumbers, pointer)
			}
		}
	}
	n.end = end
	return end, err
}

func (s jsonScanner) object(i int, pointer string, n *jsonNode) (int, error) {
	d := s.x.data
	seen := map[string]bool{}
	i = s.skip(i + 1)
	if i < len(d) && d[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return i, s.errAt(i, "a member name")
		}
		keyStart := i
		keyEnd, err := s.str(i)
		if err != nil {
			return i, err
		}
		var name string
		if err := json.Unmarshal(d[keyStart:keyEnd], &name); err != nil {
			return i, s.errAt(i, "a member name")
		}
		child := pointer + "/" + escapeToken(name)
		// A duplicate (runtime.CheckDocument reports it) is listed once.
		if !seen[name] {
			seen[name] = true
			n.members = append(n.members, name)
		}
		i = s.skip(keyEnd)
		if i >= len(d) || d[i] != ':' {
			return i, s.errAt(i, "':'")
		}
		if i, err = s.value(s.skip(i+1), child, keyStart); err != nil {
			return i, err
		}
		i = s.skip(i)
		if i < len(d) && d[i] == ',' {
			i = s.skip(i + 1)
			continue
		}
		if i < len(d) && d[i] == '}' {
			return i + 1, nil
		}
		return i, s.errAt(i, "',' or '}'")
	}
}

func (s jsonScanner) array(i int, pointer string) (int, error) {
	d := s.x.data
	i = s.skip(i + 1)
	if i < len(d) && d[i] == ']' {
		return i + 1, nil
	}
	for k := 0; ; k++ {
		var err error
		if i, err = s.value(i, fmt.Sprintf("%s/%d", pointer, k), -1); err != nil {
			return i, err
		}
		i = s.skip(i)
		if i < len(d) && d[i] == ',' {
			i = s.skip(i + 1)
			continue
		}
		if i < len(d) && d[i] == ']' {
			return i + 1, nil
		}
		return i, s.errAt(i, "',' or ']'")
	}
}

func (s jsonScanner) str(i int) (int, error) {
	d := s.x.data
	for j := i + 1; j < len(d); j++ {
		switch d[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return len(d), s.errAt(i, "the end of the string")
}

func (s jsonScanner) literal(i int, lit string) (int, error) {
	if !strings.HasPrefix(string(s.x.data[i:min(i+len(lit), len(s.x.data))]), lit) {
		return i, s.errAt(i, lit)
	}
	return i + len(lit), nil
}

func (s jsonScanner) number(i int) (int, error) {
	d := s.x.data
	j := i
	for j < len(d) && strings.IndexByte("+-0123456789.eE", d[j]) >= 0 {
		j++
	}
	if j == i {
		return i, s.errAt(i, "a value")
	}
	return j, nil
}
