// Package templates holds the text templates for what flujogen writes that
// is not Go: the starter flujo.json and the configuration reference. The
// templates are embedded; each function takes plain data and returns bytes,
// so callers decide where the bytes go.
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"strings"
	"text/template"
)

//go:embed *.tmpl
var files embed.FS

// Setting is one configuration field and its value as JSON text.
type Setting struct {
	Name  string
	Value string // JSON text, e.g. `true`, `0.9`, `null`
}

// StarterData is what the starter flujo.json shows.
type StarterData struct {
	SchemaURL    string
	Optimization []Setting // every optimization field, in schema order
	Output       string
}

// StarterConfig renders a starter flujo.json.
func StarterConfig(d StarterData) ([]byte, error) {
	return render("starter.json.tmpl", d)
}

// ReferenceData is what the configuration reference documents.
type ReferenceData struct {
	// Command regenerates the document; the reference names it.
	Command     string
	Title       string
	Description string
	// Example is a complete flujo.json.
	Example  string
	Sections []Section
	Rules    []Rule
	Profiles []Profile
}

// Section is one object of the configuration file.
type Section struct {
	Name, Pointer, Description string
	Fields                     []Field
}

// Field is one row of a section's table.
type Field struct {
	Name, Type, Default, Range, Description string
}

// Rule says that when If is true, Then must be true.
type Rule struct {
	If, Then string
}

// Profile is a named preset and the settings where it differs from the defaults.
type Profile struct {
	Name, Description string
	Settings          []Setting
}

// ConfigReference renders the Markdown configuration reference.
func ConfigReference(d ReferenceData) ([]byte, error) {
	return render("config.md.tmpl", d)
}

func render(name string, data any) ([]byte, error) {
	t, err := template.New(name).Funcs(template.FuncMap{
		"json": func(v any) (string, error) {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				return "", err
			}
			return strings.TrimSuffix(b.String(), "\n"), nil
		},
		// cell makes text safe inside a Markdown table cell.
		"cell": func(s string) string {
			return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
		},
		// code wraps non-empty text in backticks.
		"code": func(s string) string {
			if s == "" {
				return ""
			}
			return "`" + s + "`"
		},
	}).ParseFS(files, name)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
