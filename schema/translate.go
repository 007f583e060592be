package schema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/flujo/flujo/runtime"
)

// reporter collects the problems of one document, each placed at the
// position of its value in the file.
type reporter struct {
	name     string
	idx      *jsonIndex
	loader   *Loader
	problems []Problem
	// deferred are the schema's findings in the distributed section,
	// which checkDistributed reports.
	deferred []*jsonschema.ValidationError
}

func (r *reporter) err() *Error {
	return &Error{Problems: sortProblems(r.problems)}
}

func (r *reporter) has(pointer string) bool {
	for _, p := range r.problems {
		if p.Pointer == pointer {
			return true
		}
	}
	return false
}

// add reports a problem at the value of pointer (or its nearest ancestor).
func (r *reporter) add(pointer, msg string) {
	n := r.idx.lookup(pointer)
	off := 0
	if n != nil {
		off = n.start
	}
	r.addAt(off, pointer, msg)
}

// addKey reports a problem at the key of the member at pointer.
func (r *reporter) addKey(pointer, msg string) {
	n := r.idx.lookup(pointer)
	off := 0
	if n != nil {
		off = n.start
		if n.keyStart >= 0 {
			off = n.keyStart
		}
	}
	r.addAt(off, pointer, msg)
}

func (r *reporter) addAt(off int, pointer, msg string) {
	line, col := r.idx.position(off)
	r.problems = append(r.problems, Problem{File: r.name, Line: line, Col: col, Pointer: pointer, Message: msg, offset: off})
}

// ruleThen matches the "then" branch of the cross-field rule number $1.
var ruleThen = regexp.MustCompile(`^/\$defs/` + optimizationDef + `/allOf/([0-9]+)/then(/|$)`)

// translate turns a validation error tree into problems worded like
// runtime.Validate words them.
// The findings in the distributed section are set aside for
// checkDistributed.
func (r *reporter) translate(e *jsonschema.ValidationError) {
	r.walk(e, true)
}

// walk translates e and its causes, setting aside those in the
// distributed section when deferDistributed.
func (r *reporter) walk(e *jsonschema.ValidationError, deferDistributed bool) {
	ptr := pointerOf(e.InstanceLocation)
	if deferDistributed && (ptr == "/distributed" || strings.HasPrefix(ptr, "/distributed/")) {
		r.deferred = append(r.deferred, e)
		return
	}
	frag := fragment(e.SchemaURL)
	if m := ruleThen.FindStringSubmatch(frag); m != nil {
		i, _ := strconv.Atoi(m[1])
		if rules := runtime.CrossFieldRules(); i < len(rules) {
			r.crossField(rules[i], ptr)
			return
		}
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		r.add(ptr, r.typeMessage(ptr, k))
	case *kind.Minimum:
		r.add(ptr, fmt.Sprintf("must be >= %s, got %s", ratString(k.Want), r.got(ptr)))
	case *kind.ExclusiveMinimum:
		r.add(ptr, fmt.Sprintf("must be > %s, got %s", ratString(k.Want), r.got(ptr)))
	case *kind.Maximum:
		r.add(ptr, fmt.Sprintf("must be <= %s, got %s", ratString(k.Want), r.got(ptr)))
	case *kind.ExclusiveMaximum:
		r.add(ptr, fmt.Sprintf("must be < %s, got %s", ratString(k.Want), r.got(ptr)))
	case *kind.AdditionalProperties:
		valid := r.loader.properties[frag]
		for _, name := range k.Properties {
			r.addKey(ptr+"/"+escapeToken(name), runtime.UnknownFieldError(name, valid).Message)
		}
	case *kind.Required:
		for _, name := range k.Missing {
			r.add(ptr, fmt.Sprintf("missing required field %q", name))
		}
	case *kind.PropertyNames:
		// The validator reuses the slice of the object's location, so a
		// later sibling may have overwritten it: take the object from the
		// schema location instead. Only "steps" constrains its keys.
		if frag == "/properties/steps/propertyNames" {
			ptr = "/steps"
		}
		// The pattern failure beneath says no more than this.
		r.addKey(ptr+"/"+escapeToken(k.Property), "step key "+patternMessage(stepKeyPattern, strconv.Quote(truncate(k.Property))))
		return
	case *kind.Pattern:
		r.add(ptr, patternMessage(k.Want, r.got(ptr)))
	case *kind.Not:
		if ptr == "/output" {
			r.add(ptr, "must be a file every build compiles, not a test file (ending in _test.go) nor one for an operating system or architecture (such as x_linux.go or x_arm64.go), got "+r.got(ptr))
		} else {
			r.add(ptr, "must not match "+frag+"/not, got "+r.got(ptr))
		}
	case *kind.Const:
		r.add(ptr, fmt.Sprintf("must be %v, got %s", k.Want, r.got(ptr)))
	case *kind.Group, *kind.Reference, *kind.AllOf, *kind.Schema:
		if len(e.Causes) == 0 {
			r.add(ptr, kindMessage(e.ErrorKind))
		}
	default:
		r.add(ptr, kindMessage(e.ErrorKind))
	}
	for _, c := range e.Causes {
		r.walk(c, deferDistributed)
	}
}

// crossField reports a broken dependency between two optimization flags,
// worded as runtime.Validate words it, at the flag that requires the
// other when the file sets it, else at the flag the file turned off.
func (r *reporter) crossField(rule runtime.CrossFieldRule, ptr string) {
	obj := strings.TrimSuffix(strings.TrimSuffix(ptr, "/"+rule.Then), "/"+rule.If)
	ifPtr, thenPtr := obj+"/"+rule.If, obj+"/"+rule.Then
	msg := fmt.Sprintf("requires %s to be true; set %s to true or %s to false", rule.Then, rule.Then, rule.If)
	if _, set := r.idx.nodes[ifPtr]; set {
		r.add(ifPtr, msg)
		return
	}
	msg += fmt.Sprintf(" (%s defaults to true)", rule.If)
	if n, set := r.idx.nodes[thenPtr]; set {
		r.addAt(n.start, ifPtr, msg)
		return
	}
	r.add(ifPtr, msg)
}

func (r *reporter) typeMessage(ptr string, k *kind.Type) string {
	raw := r.idx.raw(ptr)
	if k.Got == "number" && slices.Contains(k.Want, "integer") {
		return "must be an integer, got " + raw
	}
	if name, ok := strings.CutPrefix(ptr, "/optimization/"); ok {
		if f, ok := runtime.LookupConfigField(name); ok {
			return "must be " + f.Allowed() + ", got " + describeValue(raw)
		}
	}
	want := make([]string, len(k.Want))
	for i, w := range k.Want {
		want[i] = typeWords(w)
	}
	return "must be " + strings.Join(want, " or ") + ", got " + r.got(ptr)
}

func typeWords(t string) string {
	switch t {
	case "object":
		return "an object"
	case "array":
		return "an array"
	case "string":
		return "a string"
	case "integer":
		return "an integer"
	case "number":
		return "a number"
	case "boolean":
		return "true or false"
	}
	return t
}

// patternMessage words a pattern failure by what the pattern stands for;
// got describes what was found.
func patternMessage(pattern, got string) string {
	switch pattern {
	case durationPattern:
		return `must be a duration greater than 0 such as "200ms" or "1.5s", got ` + got
	case outputPattern:
		return `must be a Go file name such as "flujo_gen.go" (no directory, not starting with "." or "_", ending in .go), got ` + got
	case stepKeyPattern:
		return `must be "<pipeline>.<step>", got ` + got
	}
	return fmt.Sprintf("must match %s, got %s", pattern, got)
}

// kindMessage is the validator's own wording, for the kinds the schema
// does not use today.
func kindMessage(k jsonschema.ErrorKind) string {
	msg := (&jsonschema.ValidationError{ErrorKind: k}).Error()
	_, after, ok := strings.Cut(msg, ": ")
	if !ok {
		return msg
	}
	return after
}

// got describes the value at ptr as found in the file; in the
// distributed section, with an address's password redacted.
func (r *reporter) got(ptr string) string {
	raw := r.idx.raw(ptr)
	if strings.HasPrefix(ptr, "/distributed") {
		var s string
		if json.Unmarshal([]byte(raw), &s) == nil {
			return "string " + truncate(strconv.Quote(runtime.RedactAddress(s)))
		}
	}
	return describeValue(raw)
}

// describeValue describes raw JSON text the way runtime messages do.
func describeValue(raw string) string {
	switch {
	case raw == "null":
		return "null"
	case raw == "true" || raw == "false":
		return "boolean " + raw
	case strings.HasPrefix(raw, `"`):
		return "string " + truncate(raw)
	case strings.HasPrefix(raw, "["):
		return "an array"
	case strings.HasPrefix(raw, "{"):
		return "an object"
	}
	return truncate(raw)
}

// truncate keeps messages one short line whatever the file holds.
func truncate(s string) string {
	const limit = 60
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func ratString(v *big.Rat) string {
	if v.IsInt() {
		return v.Num().String()
	}
	f, _ := v.Float64()
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func pointerOf(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

// fragment returns the JSON pointer part of a schema location.
func fragment(schemaURL string) string {
	_, frag, _ := strings.Cut(schemaURL, "#")
	return frag
}
