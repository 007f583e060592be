package gen

import (
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/flujo/flujo/internal/analysis"
)

// typ renders the type of key in Go source. A type the generator cannot
// spell (an anonymous struct, func or interface) is reported at pos.
func (g *generator) typ(key, pos string) *jen.Statement {
	t, ok := g.model.Types[key]
	if !ok {
		if isIdent(key) {
			return jen.Id(key)
		}
		g.errorf(pos, "internal error: the model does not describe type %s", key)
		return jen.Id("any")
	}
	if t.Name != "" {
		var st *jen.Statement
		if t.PkgPath == "" {
			st = jen.Id(t.Name)
		} else {
			st = g.qual(t.PkgPath, t.Name)
		}
		if len(t.TypeArgs) > 0 {
			args := make([]jen.Code, len(t.TypeArgs))
			for i, a := range t.TypeArgs {
				args[i] = g.typ(a, pos)
			}
			st = st.Types(args...)
		}
		return st
	}
	switch t.Kind {
	case analysis.TypePointer:
		return jen.Op("*").Add(g.typ(t.Elem, pos))
	case analysis.TypeSlice:
		return jen.Index().Add(g.typ(t.Elem, pos))
	case analysis.TypeArray:
		return jen.Index(jen.Lit(int(t.Len))).Add(g.typ(t.Elem, pos))
	case analysis.TypeMap:
		return jen.Map(g.typ(t.MapKey, pos)).Add(g.typ(t.Elem, pos))
	case analysis.TypeStruct:
		if len(t.Fields) == 0 {
			return jen.Struct()
		}
	case analysis.TypeInterface:
		if key == "any" || key == "interface{}" {
			return jen.Any()
		}
	case analysis.TypeFunc, analysis.TypeChan:
		// Their kind is no type: an unnamed func or chan type is not
		// described further, so it cannot be written out.
	default:
		if isIdent(string(t.Kind)) {
			return jen.Id(string(t.Kind))
		}
	}
	g.unsupported(pos, "the type "+key+" written out in place (declare a named type for it)")
	return jen.Id("any")
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// fn renders a reference to a step, validator, chooser, predicate or join
// function: a function, an instantiated generic function or a method
// expression.
func (g *generator) fn(f analysis.FuncRef) *jen.Statement {
	var st *jen.Statement
	if f.IsMethodExpr {
		recv := strings.TrimPrefix(f.Recv, "*")
		var rt *jen.Statement
		if f.RecvType != "" {
			key := strings.TrimPrefix(f.RecvType, "*")
			if t, ok := g.model.Types[key]; ok && t.Name != "" {
				rt = g.typ(key, f.Pos) // with its type arguments: Box[int].Get
			}
		}
		if rt == nil {
			rt = g.qual(f.PkgPath, recv)
		}
		if strings.HasPrefix(f.Recv, "*") {
			rt = jen.Op("*").Add(rt)
		}
		return jen.Parens(rt).Dot(f.Name)
	}
	st = g.qual(f.PkgPath, f.Name)
	if len(f.TypeArgs) > 0 {
		args := make([]jen.Code, len(f.TypeArgs))
		for i, a := range f.TypeArgs {
			args[i] = g.typ(a, f.Pos)
		}
		st = st.Types(args...)
	}
	return st
}

// lit renders a Go string literal.
func lit(s string) jen.Code { return jen.Id(strconv.Quote(s)) }

// copyFunc returns the name of the generated deep-copy function for the
// type key, registering it for emission. Types without references need no
// function: "" is returned and assignment copies them.
func (g *generator) copyFunc(key, pos string) string {
	if !g.hasRefs(key, map[string]bool{}) {
		return ""
	}
	if name, ok := g.copies[key]; ok {
		return name
	}
	if g.copies == nil {
		g.copies = map[string]string{}
	}
	name := "flujogenCopy" + g.typeIdent(key)
	g.copies[key] = name
	g.copyOrder = append(g.copyOrder, key)
	g.checkCopyable(key, pos, map[string]bool{})
	return name
}

// jsonLoses returns what JSON loses of a value of type key, or "" when it
// carries all of it: runtime.CheckCodecType's rule (runtime's jsonLoses,
// for outputs), on the type model.
func (g *generator) jsonLoses(key string, seen map[string]bool) string {
	t, ok := g.model.Types[key]
	switch {
	case !ok:
		return key + " is not described"
	case t.Kind == analysis.TypeInterface:
		return key + " is an interface"
	case seen[key] || t.EncodesItself:
		return ""
	}
	seen[key] = true
	switch t.Kind {
	case analysis.TypePointer, analysis.TypeSlice, analysis.TypeArray, analysis.TypeMap:
		return g.jsonLoses(t.Elem, seen)
	case analysis.TypeStruct:
		for _, f := range t.Fields {
			switch {
			case f.JSONSkip:
				return key + "." + f.Name + ` is tagged json:"-"`
			case !f.Exported && !(f.Embedded && g.embedsStruct(f.Type)):
				return key + "." + f.Name + " is unexported"
			}
			if why := g.jsonLoses(f.Type, seen); why != "" {
				return why
			}
		}
	}
	return ""
}

// embedsStruct reports whether key is a struct or a pointer to one: JSON
// encodes the exported fields of such an embedded field, whatever its name.
func (g *generator) embedsStruct(key string) bool {
	t := g.model.Types[key]
	if t != nil && t.Kind == analysis.TypePointer {
		t = g.model.Types[t.Elem]
	}
	return t != nil && t.Kind == analysis.TypeStruct
}

// hasRefs reports whether values of key can reach memory a copy would
// share.
func (g *generator) hasRefs(key string, seen map[string]bool) bool {
	t, ok := g.model.Types[key]
	if !ok {
		return false
	}
	switch t.Kind {
	case analysis.TypePointer, analysis.TypeSlice, analysis.TypeMap, analysis.TypeInterface:
		return true
	case analysis.TypeArray:
		return g.hasRefs(t.Elem, seen)
	case analysis.TypeStruct:
		if t.IsTime || seen[key] { // a Time's *Location is immutable: sharing it is safe
			return false
		}
		seen[key] = true
		for _, f := range t.Fields {
			if g.hasRefs(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// checkStateCopyable reports, at the first step that takes it, a state
// type that generated code could not copy. The copy functions themselves
// are emitted only where code copies (a leaf copies the fields it may
// write; a Parallel's branches, their write sets or the whole state).
func (g *generator) checkStateCopyable(key, pos string) {
	if g.copyChecked[key] {
		return
	}
	if g.copyChecked == nil {
		g.copyChecked = map[string]bool{}
	}
	g.copyChecked[key] = true
	g.checkCopyable(key, pos, map[string]bool{})
}

// checkCopyable reports parts a generated copy cannot reach: unexported
// reference-typed fields of another package's structs, interfaces and
// recursive pointer types.
func (g *generator) checkCopyable(key, pos string, onPath map[string]bool) {
	t, ok := g.model.Types[key]
	if !ok || !g.hasRefs(key, map[string]bool{}) {
		return
	}
	if onPath[key] {
		g.unsupported(pos, "deep copies of the recursive type "+key)
		return
	}
	onPath[key] = true
	defer delete(onPath, key)
	switch t.Kind {
	case analysis.TypeInterface:
		g.unsupported(pos, "deep copies of interface values ("+key+")")
	case analysis.TypePointer, analysis.TypeSlice, analysis.TypeArray:
		g.checkCopyable(t.Elem, pos, onPath)
	case analysis.TypeMap:
		g.checkCopyable(t.MapKey, pos, onPath)
		g.checkCopyable(t.Elem, pos, onPath)
	case analysis.TypeStruct:
		for _, f := range t.Fields {
			if !f.Exported && t.PkgPath != g.target && g.hasRefs(f.Type, map[string]bool{}) {
				g.unsupported(pos, "deep copies of "+key+": its unexported field "+f.Name+" holds references")
				continue
			}
			g.checkCopyable(f.Type, pos, onPath)
		}
	}
}

// copyExpr returns code that yields a deep copy of the expression src of
// type key, using registered copy functions for nested types.
func (g *generator) copyExpr(key string, src jen.Code, pos string) jen.Code {
	name := g.copyFunc(key, pos)
	if name == "" {
		return src
	}
	return jen.Id(name).Call(src)
}

// copyFuncs emits the registered deep-copy functions, in registration
// order (deterministic: emission order is).
func (g *generator) copyFuncs(f *jen.File) {
	for i := 0; i < len(g.copyOrder); i++ { // the list grows while emitting
		key := g.copyOrder[i]
		name := g.copies[key]
		t := g.model.Types[key]
		T := g.typ(key, "")
		var body []jen.Code
		switch t.Kind {
		case analysis.TypePointer:
			body = []jen.Code{
				c("if v == nil { return nil }"),
				c("c := new({})", g.typ(t.Elem, "")),
				c("*c = {}", g.copyExpr(t.Elem, jen.Op("*").Id("v"), "")),
				c("return c"),
			}
		case analysis.TypeSlice:
			body = []jen.Code{c("if v == nil { return nil }"), c("c := make({}, len(v))", T.Clone())}
			if g.hasRefs(t.Elem, map[string]bool{}) {
				body = append(body, c("for i := range v { c[i] = {} }", g.copyExpr(t.Elem, jen.Id("v[i]"), "")))
			} else {
				body = append(body, c("copy(c, v)"))
			}
			body = append(body, c("return c"))
		case analysis.TypeArray:
			body = []jen.Code{c("c := v"), c("for i := range v { c[i] = {} }", g.copyExpr(t.Elem, jen.Id("v[i]"), "")), c("return c")}
		case analysis.TypeMap:
			body = []jen.Code{
				c("if v == nil { return nil }"),
				c("c := make({}, len(v))", T.Clone()),
				c("for k, x := range v { c[k] = {} }", g.copyExpr(t.Elem, jen.Id("x"), "")),
				c("return c"),
			}
		case analysis.TypeStruct:
			body = []jen.Code{c("c := v")}
			for _, fd := range t.Fields {
				if fd.Name == "_" || !g.hasRefs(fd.Type, map[string]bool{}) {
					continue
				}
				sel := jen.Id("v." + fd.Name)
				body = append(body, c("c."+fd.Name+" = {}", g.copyExpr(fd.Type, sel, "")))
			}
			body = append(body, c("return c"))
		default:
			body = []jen.Code{c("return v")}
		}
		f.Comment(name + " returns a deep copy of v.")
		f.Func().Id(name).Params(jen.Id("v").Add(T)).Add(T.Clone()).Block(body...)
	}
}
