package schema

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/invopop/jsonschema"
)

// Reference describes the schema for people: every member of every object
// with its type, default, range and description, and the rules between
// members. The configuration reference (docs/config.md) is rendered from it.
type Reference struct {
	Title, Description string
	Sections           []Section
	Rules              []Rule
}

// Section is one object of a configuration file.
type Section struct {
	Name        string // how the docs name the object, e.g. "optimization"
	Pointer     string // JSON pointer of the object, "<pipeline>.<step>" standing for any step key
	Description string
	Fields      []Field
}

// Field is one member of an object.
type Field struct {
	Name        string
	Type        string // JSON type(s), e.g. "integer or null"
	Default     string // JSON text of the default, "" when there is none
	Range       string // allowed numbers, e.g. "≥ 1, ≤ 1000000"; "" when unbounded or not a number
	Description string
}

// Rule is a dependency between two boolean optimization fields: when If is
// true (after defaults), Then must be true.
type Rule struct {
	If, Then string
}

// Describe returns the Reference of the schema that Generate produces.
func Describe() (*Reference, error) {
	s, err := build()
	if err != nil {
		return nil, err
	}
	ref := &Reference{Title: s.Title, Description: s.Description}
	ref.Sections = append(ref.Sections, section("flujo.json", "", "The members of the top-level object.", s))
	opt := s.Definitions[optimizationDef]
	ref.Sections = append(ref.Sections, section("optimization", "/optimization", opt.Description, opt))
	step := s.Definitions[stepOverrideDef]
	ref.Sections = append(ref.Sections, section("steps", "/steps/<pipeline>.<step>", step.Description, step))
	dist := s.Definitions[distributedDef]
	ref.Sections = append(ref.Sections, section("distributed", "/distributed", dist.Description, dist))
	for _, c := range opt.AllOf {
		if c.If == nil || c.Then == nil || c.If.Properties.Len() != 1 || c.Then.Properties.Len() != 1 {
			return nil, fmt.Errorf("schema: unexpected allOf entry %q in %s", c.Comments, optimizationDef)
		}
		ref.Rules = append(ref.Rules, Rule{If: c.If.Properties.Oldest().Key, Then: c.Then.Properties.Oldest().Key})
	}
	return ref, nil
}

func section(name, pointer, description string, s *jsonschema.Schema) Section {
	sec := Section{Name: name, Pointer: pointer, Description: description}
	for p := s.Properties.Oldest(); p != nil; p = p.Next() {
		sec.Fields = append(sec.Fields, Field{
			Name:        p.Key,
			Type:        typeOf(p.Value),
			Default:     defaultOf(p.Value),
			Range:       rangeOf(p.Value),
			Description: p.Value.Description,
		})
	}
	return sec
}

func typeOf(s *jsonschema.Schema) string {
	switch {
	case s.Type != "":
		return s.Type
	case s.Ref != "":
		return "object"
	}
	if ts, ok := s.Extras["type"].([]string); ok {
		return strings.Join(ts, " or ")
	}
	return ""
}

func defaultOf(s *jsonschema.Schema) string {
	if d, ok := s.Extras["default"]; ok && d == nil {
		return "null"
	}
	if s.Default == nil {
		return ""
	}
	b, err := json.Marshal(s.Default)
	if err != nil {
		return fmt.Sprint(s.Default)
	}
	return string(b)
}

func rangeOf(s *jsonschema.Schema) string {
	var parts []string
	if s.Minimum != "" {
		parts = append(parts, "≥ "+string(s.Minimum))
	}
	if s.ExclusiveMinimum != "" {
		parts = append(parts, "> "+string(s.ExclusiveMinimum))
	}
	if s.Maximum != "" {
		parts = append(parts, "≤ "+string(s.Maximum))
	}
	return strings.Join(parts, ", ")
}
