package schema

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/flujo/flujo/runtime"
)

//go:embed flujo.schema.json
var embeddedSchema []byte

// Embedded returns the committed flujo.schema.json that loading validates against.
func Embedded() []byte { return bytes.Clone(embeddedSchema) }

// Loader validates and decodes configuration files. It holds the compiled
// schema, so one Loader serves many files; it is safe for concurrent use.
type Loader struct {
	file         *jsonschema.Schema
	optimization *jsonschema.Schema
	distributed  *jsonschema.Schema
	// properties lists the member names each object schema declares, in
	// schema order, keyed by the schema's location ("#" fragment); it
	// feeds the "did you mean" suggestions.
	properties map[string][]string
}

// NewLoader compiles the embedded schema.
func NewLoader() (*Loader, error) {
	return newLoader(embeddedSchema)
}

func newLoader(schemaJSON []byte) (*Loader, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("schema: embedded flujo.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(SchemaURL, doc); err != nil {
		return nil, fmt.Errorf("schema: embedded flujo.schema.json: %w", err)
	}
	l := &Loader{properties: map[string][]string{}}
	if l.file, err = c.Compile(SchemaURL); err != nil {
		return nil, fmt.Errorf("schema: embedded flujo.schema.json: %w", err)
	}
	if l.optimization, err = c.Compile(SchemaURL + "#/$defs/" + optimizationDef); err != nil {
		return nil, fmt.Errorf("schema: embedded flujo.schema.json: %w", err)
	}
	if l.distributed, err = c.Compile(SchemaURL + "#/$defs/" + distributedDef); err != nil {
		return nil, fmt.Errorf("schema: embedded flujo.schema.json: %w", err)
	}
	idx, err := indexJSON(schemaJSON)
	if err != nil {
		return nil, fmt.Errorf("schema: embedded flujo.schema.json: %w", err)
	}
	for ptr, n := range idx.nodes {
		if parent, ok := strings.CutSuffix(ptr, "/properties"); ok {
			l.properties[parent] = n.members
		}
	}
	return l, nil
}

// Load reads and validates the configuration file at path with a new Loader.
func Load(path string) (*Config, error) {
	l, err := NewLoader()
	if err != nil {
		return nil, err
	}
	return l.Load(path)
}

// Parse validates and decodes data, naming it name in problems, with a new Loader.
func Parse(name string, data []byte) (*Config, error) {
	l, err := NewLoader()
	if err != nil {
		return nil, err
	}
	return l.Parse(name, data)
}

// Load reads the configuration file at path and parses it. Every problem
// is reported in an *Error; a missing file, a directory and a file over
// MaxFileSize are problems too.
func (l *Loader) Load(path string) (*Config, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if target, lerr := os.Readlink(path); lerr == nil {
			return nil, fileError(path, err, "is a symbolic link to %s, which does not exist; fix or remove the link", target)
		}
		return nil, fileError(path, err, "no such file")
	case err != nil:
		return nil, fileError(path, err, "cannot read: %v", unwrapPathError(err))
	case fi.IsDir():
		msg := "is a directory, not a configuration file"
		if inner := filepath.Join(path, DefaultFileName); isRegular(inner) {
			msg += fmt.Sprintf(" (did you mean %s?)", inner)
		}
		return nil, fileError(path, nil, "%s", msg)
	case fi.Size() > MaxFileSize:
		return nil, tooLarge(path, fi.Size())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(path, err, "cannot read: %v", unwrapPathError(err))
	}
	defer f.Close()
	// The file may grow after Stat, or not be a regular file at all.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fileError(path, err, "cannot read: %v", unwrapPathError(err))
	}
	return l.Parse(path, data)
}

func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// tooLarge reports a document over the runtime's size limit, in its words.
func tooLarge(name string, size int64) *Error {
	err := runtime.CheckDocumentSize(size)
	return fileError(name, err, "%s", err.(*runtime.DocumentError).Message)
}

// Parse validates data against the schema and decodes it over the
// defaults. It reports every problem at once, sorted by position, in an
// *Error: malformed JSON, duplicate members, schema violations (types,
// ranges, unknown fields with a suggestion, cross-field rules) and what
// only Go checks (a step timeout over MaxTimeout).
func (l *Loader) Parse(name string, data []byte) (*Config, error) {
	// The rules of every configuration document, the runtime's Import
	// included: size, byte order mark (blanked, so columns stay true),
	// duplicate members.
	if len(data) > MaxFileSize {
		return nil, tooLarge(name, int64(len(data)))
	}
	digest := Digest(data)
	data, docProblems := runtime.CheckDocument(data)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fileError(name, nil, "file is empty; a configuration file holds a JSON object such as {}")
	}
	doc, perr := decodeTree(name, data)
	if perr != nil {
		return nil, perr
	}
	idx, err := indexJSON(data)
	if err != nil {
		// encoding/json accepted what the index cannot read: report it
		// rather than guess positions.
		return nil, fileError(name, err, "cannot index JSON: %v", err)
	}
	r := reporter{name: name, idx: idx, loader: l}
	for _, d := range docProblems {
		r.addAt(d.Offset, d.Pointer, d.Message)
	}
	if len(idx.badNumbers) > 0 {
		// Exact arithmetic cannot hold these, so no range check can run.
		for _, ptr := range idx.badNumbers {
			r.add(ptr, "number out of range, got "+describeValue(idx.raw(ptr)))
		}
		return nil, r.err()
	}
	if verr := l.file.Validate(doc); verr != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(verr, &ve) {
			return nil, fileError(name, verr, "%v", verr)
		}
		r.translate(ve)
	}
	r.checkDistributed()
	r.checkTimeouts(doc)
	if len(r.problems) > 0 {
		return nil, r.err()
	}
	cfg, err := r.decode(data)
	if err != nil {
		return nil, err
	}
	cfg.Digest = digest
	return cfg, nil
}

// Digest identifies the bytes of a configuration file, as Config.Digest
// records them: "sha256:" and the first 16 hexadecimal digits of their
// SHA-256.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// decodeTree decodes data for schema validation, reporting malformed JSON
// at the position where decoding stopped.
func decodeTree(name string, data []byte) (any, *Error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	err := dec.Decode(&doc)
	if err == nil {
		off := int(dec.InputOffset())
		if _, terr := dec.Token(); terr != io.EOF {
			off += len(data[off:]) - len(bytes.TrimLeft(data[off:], " \t\r\n"))
			return nil, syntaxError(name, data, off, "invalid JSON: unexpected data after the top-level value")
		}
		return doc, nil
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// Offset counts the byte that failed.
		return nil, syntaxError(name, data, max(int(se.Offset)-1, 0), "invalid JSON: "+se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		end := len(bytes.TrimRight(data, " \t\r\n"))
		return nil, syntaxError(name, data, end, "invalid JSON: unexpected end of file")
	default:
		return nil, fileError(name, err, "invalid JSON: %v", err)
	}
}

func syntaxError(name string, data []byte, off int, msg string) *Error {
	line, col := 1, 1
	for _, c := range data[:min(off, len(data))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &Error{Problems: []Problem{{File: name, Line: line, Col: col, Message: msg, offset: off}}}
}

// checkTimeouts checks what the duration pattern cannot: the upper bound.
func (r *reporter) checkTimeouts(doc any) {
	root, _ := doc.(map[string]any)
	steps, _ := root["steps"].(map[string]any)
	for key, v := range steps {
		o, _ := v.(map[string]any)
		s, ok := o["timeout"].(string)
		if !ok || r.has("/steps/"+escapeToken(key)+"/timeout") {
			continue
		}
		if _, err := parseStepDuration(s); err != nil {
			r.add("/steps/"+escapeToken(key)+"/timeout", err.Error())
		}
	}
}

// decode decodes a document the schema accepted into a Config, strictly,
// and validates the result once more with runtime.Validate.
func (r *reporter) decode(data []byte) (*Config, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var ve *runtime.ValidationError
		if errors.As(err, &ve) {
			r.runtimeProblems(ve)
		} else {
			r.add("", err.Error())
		}
		return nil, r.err()
	}
	cfg := Default()
	cfg.Path = r.name
	if f.Optimization != nil {
		cfg.Optimization = *f.Optimization
	}
	if err := cfg.Optimization.Validate(); err != nil {
		var ve *runtime.ValidationError
		if !errors.As(err, &ve) {
			r.add("/optimization", err.Error())
			return nil, r.err()
		}
		r.runtimeProblems(ve)
		return nil, r.err()
	}
	if f.Steps != nil {
		cfg.Steps = f.Steps
		cfg.StepPos = make(map[string]Position, len(f.Steps))
		for key := range f.Steps {
			if n, ok := r.idx.nodes["/steps/"+escapeToken(key)]; ok && n.keyStart >= 0 {
				line, col := r.idx.position(n.keyStart)
				cfg.StepPos[key] = Position{Line: line, Col: col}
			}
		}
	}
	if f.Output != "" {
		cfg.Output = f.Output
	}
	cfg.Distributed = f.Distributed
	return cfg, nil
}

// checkDistributed reports the problems of the distributed section. The
// schema checks the section for editors; the runtime's parser
// (runtime.ParseDistributedConfig) words the problems, so that both
// loaders say the same and no message shows the address's password, and
// it checks what the schema's patterns cannot (a port from 1 to 65535, a
// URL that parses). The schema's own findings are reported only should
// the runtime find nothing.
func (r *reporter) checkDistributed() {
	n, ok := r.idx.nodes["/distributed"]
	if !ok {
		return
	}
	_, err := runtime.ParseDistributedConfig(r.idx.data[n.start:n.end])
	var ve *runtime.ValidationError
	if !errors.As(err, &ve) {
		if err != nil {
			r.add("/distributed", err.Error())
			return
		}
		for _, e := range r.deferred {
			r.walk(e, false)
		}
		return
	}
	for _, p := range ve.Problems {
		ptr := "/distributed"
		if p.Field != "" {
			ptr += "/" + escapeToken(p.Field)
		}
		if strings.HasPrefix(p.Message, "unknown field") {
			r.addKey(ptr, p.Message)
			continue
		}
		r.add(ptr, p.Message)
	}
}

func (r *reporter) runtimeProblems(ve *runtime.ValidationError) {
	for _, p := range ve.Problems {
		section := "optimization"
		if ve.Section != "" {
			section = ve.Section
		}
		ptr := "/" + section + "/" + escapeToken(p.Field)
		if strings.HasPrefix(p.Message, "unknown field") {
			r.addKey(ptr, p.Message)
			continue
		}
		r.add(ptr, p.Message)
	}
}
