package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/flujo/flujo/internal/analysis"
)

// Cache keys of generated executors are computed by one generated function
// per cacheable input type, built on runtime.Hash and following the
// canonical order of runtime/hash.go, as the ExecutorCore's reflective
// hasher does. Unexported fields count; generated code can read those of
// its own package only, so an input type holding an unexported field of
// another package's type must hash itself (runtime.Hashable).

// hashFunc returns the name of the generated function that adds a value of
// the type key to a runtime.Hash, registering it for emission. Parts that
// cannot be hashed are reported at pos and "" is returned.
func (g *generator) hashFunc(key, pos string) string {
	if name, ok := g.hashes[key]; ok {
		return name
	}
	before := len(g.errs)
	g.checkHashable(key, pos, "in", map[string]bool{})
	if len(g.errs) > before {
		return ""
	}
	if g.hashes == nil {
		g.hashes = map[string]string{}
	}
	name := "flujogenHash" + g.typeIdent(key)
	g.hashes[key] = name
	g.hashOrder = append(g.hashOrder, key)
	return name
}

// basicKind returns the kind of a basic type with byte and rune resolved.
func basicKind(k analysis.TypeKind) string {
	switch k {
	case "byte":
		return "uint8"
	case "rune":
		return "int32"
	}
	return string(k)
}

// checkHashable reports the first part of key that the generated hash
// cannot add: funcs, chans, interfaces, unsafe pointers, and recursive
// types (whose values may form cycles).
func (g *generator) checkHashable(key, pos, path string, onPath map[string]bool) {
	t, ok := g.model.Types[key]
	if !ok {
		g.errorf(pos, "internal error: the model does not describe type %s", key)
		return
	}
	if t.HasHashMethod || t.IsTime {
		return
	}
	refuse := func(why string) {
		g.errorf(pos, "cannot cache this step: its input's part %s (%s) %s; implement runtime.Hashable (Hash64() uint64) on the input type, or remove Cache()", path, key, why)
	}
	if onPath[key] {
		refuse("is of a recursive type, whose values may form cycles")
		return
	}
	onPath[key] = true
	defer delete(onPath, key)
	switch t.Kind {
	case analysis.TypeStruct:
		for _, f := range t.Fields {
			if f.Name == "_" {
				continue
			}
			if !f.Exported && t.PkgPath != g.target {
				g.errorf(pos, "cannot cache this step: its input's part %s.%s is an unexported field of %s, which generated code cannot read; implement runtime.Hashable (Hash64() uint64) on %s or on a type that holds it, or remove Cache()",
					path, f.Name, key, key)
				return
			}
			g.checkHashable(f.Type, pos, path+"."+f.Name, onPath)
		}
	case analysis.TypeArray, analysis.TypeSlice:
		g.checkHashable(t.Elem, pos, path+"[i]", onPath)
	case analysis.TypePointer:
		g.checkHashable(t.Elem, pos, "*"+path, onPath)
	case analysis.TypeMap:
		g.checkHashable(t.MapKey, pos, "key("+path+")", onPath)
		g.checkHashable(t.Elem, pos, path+"[k]", onPath)
	case analysis.TypeInterface:
		refuse("is an interface, whose dynamic values flujogen cannot hash ahead of time")
	case analysis.TypeFunc, analysis.TypeChan, analysis.TypeUnsafePointer:
		refuse("is a " + string(t.Kind) + ", which has no value to hash")
	case analysis.TypeTypeParam:
		refuse("is a type parameter")
	default:
		switch basicKind(t.Kind) {
		case "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
			"float32", "float64", "complex64", "complex128", "string":
		default:
			refuse("has a kind flujogen cannot hash")
		}
	}
}

// hashCallsMethod reports whether the generated hash of a value of the
// type key calls a Hash64 method, user code whose panic the key function
// must recover (see flujoimpl.KeyPanic). The type is hashable.
func (g *generator) hashCallsMethod(key string, seen map[string]bool) bool {
	t, ok := g.model.Types[key]
	if !ok || seen[key] {
		return false
	}
	if t.HasHashMethod {
		return true
	}
	seen[key] = true
	switch t.Kind {
	case analysis.TypeStruct:
		for _, f := range t.Fields {
			if f.Name != "_" && g.hashCallsMethod(f.Type, seen) {
				return true
			}
		}
	case analysis.TypeArray, analysis.TypeSlice, analysis.TypePointer:
		return g.hashCallsMethod(t.Elem, seen)
	case analysis.TypeMap:
		return g.hashCallsMethod(t.MapKey, seen) || g.hashCallsMethod(t.Elem, seen)
	}
	return false
}

// isByte reports whether the type key's kind is uint8.
func (g *generator) isByte(key string) bool {
	t, ok := g.model.Types[key]
	return ok && basicKind(t.Kind) == "uint8"
}

// valueComparable reports whether == on key compares content: the type is
// comparable and holds no pointer, channel, interface or unsafe pointer,
// so equal values under == are the values that hash equal.
func (g *generator) valueComparable(key string, seen map[string]bool) bool {
	t, ok := g.model.Types[key]
	if !ok || !t.Comparable {
		return false
	}
	if seen[key] {
		return true
	}
	seen[key] = true
	switch t.Kind {
	case analysis.TypePointer, analysis.TypeChan, analysis.TypeInterface, analysis.TypeUnsafePointer:
		return false
	case analysis.TypeArray:
		return g.valueComparable(t.Elem, seen)
	case analysis.TypeStruct:
		for _, f := range t.Fields {
			if !g.valueComparable(f.Type, seen) {
				return false
			}
		}
	}
	return true
}

// hashFuncs emits the registered hash functions.
func (g *generator) hashFuncs(f *jen.File) {
	for _, key := range g.hashOrder {
		name := g.hashes[key]
		hs := &hashStmts{g: g}
		body := hs.value(key, "v", "h", 0)
		body = append(body, c("return h"))
		f.Commentf("%s adds v to h in the canonical order of the runtime's hashing primitives.", name)
		f.Func().Id(name).Params(jen.Id("h").Add(qr("Hash")), jen.Id("v").Add(g.typ(key, ""))).Add(qr("Hash")).Block(body...)
	}
}

// hashStmts renders the statements that add one value to a hash variable.
type hashStmts struct {
	g *generator
}

// value returns statements adding expr, of type key, to the hash variable
// hv. depth numbers the loop variables of nested sequences.
func (hs *hashStmts) value(key, expr, hv string, depth int) []jen.Code {
	g := hs.g
	t := g.model.Types[key]
	set := func(call string, args ...jen.Code) jen.Code { return c(hv+" = "+hv+"."+call, args...) }
	if t.HasHashMethod {
		if t.Kind == analysis.TypePointer {
			return []jen.Code{c("if " + expr + " == nil {\n" + hv + " = " + hv + ".AddNil()\n} else {\n" + hv + " = " + hv + ".AddUint(" + expr + ".Hash64())\n}")}
		}
		return []jen.Code{set("AddUint(" + expr + ".Hash64())")}
	}
	if t.IsTime {
		return []jen.Code{set("AddTime(" + expr + ")")}
	}
	i := fmt.Sprintf("i%d", depth)
	switch t.Kind {
	case analysis.TypeStruct:
		var out []jen.Code
		for _, fd := range t.Fields {
			if fd.Name == "_" {
				continue
			}
			out = append(out, hs.value(fd.Type, expr+"."+fd.Name, hv, depth)...)
		}
		return out
	case analysis.TypeArray:
		if g.isByte(t.Elem) {
			return []jen.Code{set("AddBytes(" + bytesOf(g, t.Elem, expr+"[:]") + ")")}
		}
		return []jen.Code{jen.For(jen.Id(i).Op(":=").Range().Id(expr)).Block(hs.value(t.Elem, expr+"["+i+"]", hv, depth+1)...)}
	case analysis.TypeSlice:
		if g.isByte(t.Elem) {
			return []jen.Code{c("if " + expr + " == nil {\n" + hv + " = " + hv + ".AddNil()\n} else {\n" + hv + " = " + hv + ".AddBytes(" + bytesOf(g, t.Elem, expr) + ")\n}")}
		}
		loop := jen.For(jen.Id(i).Op(":=").Range().Id(expr)).Block(hs.value(t.Elem, expr+"["+i+"]", hv, depth+1)...)
		return []jen.Code{jen.If(jen.Id(expr).Op("==").Nil()).Block(set("AddNil()")).Else().Block(set("AddLen(len("+expr+"))"), loop)}
	case analysis.TypeMap:
		k, x, e, sum := fmt.Sprintf("k%d", depth), fmt.Sprintf("x%d", depth), fmt.Sprintf("e%d", depth), fmt.Sprintf("sum%d", depth)
		entry := []jen.Code{c(e + " := " + hv + ".Entry()")}
		entry = append(entry, hs.value(t.MapKey, k, e, depth+1)...)
		entry = append(entry, hs.value(t.Elem, x, e, depth+1)...)
		entry = append(entry, c(sum+" += "+e+".Sum64()"))
		return []jen.Code{jen.If(jen.Id(expr).Op("==").Nil()).Block(set("AddNil()")).Else().Block(
			c("var "+sum+" uint64"),
			jen.For(jen.List(jen.Id(k), jen.Id(x)).Op(":=").Range().Id(expr)).Block(entry...),
			set("AddLen(len("+expr+")).AddUint("+sum+")"),
		)}
	case analysis.TypePointer:
		inner := hs.value(t.Elem, "(*"+expr+")", hv, depth)
		return []jen.Code{jen.If(jen.Id(expr).Op("==").Nil()).Block(set("AddNil()")).Else().Block(append([]jen.Code{set("AddNotNil()")}, inner...)...)}
	}
	// conv converts expr to the primitive's parameter type unless it has
	// that type already.
	conv := func(to string) string {
		if key == to {
			return expr
		}
		return to + "(" + expr + ")"
	}
	switch basicKind(t.Kind) {
	case "bool":
		return []jen.Code{set("AddBool(" + conv("bool") + ")")}
	case "int", "int8", "int16", "int32", "int64":
		return []jen.Code{set("AddInt(" + conv("int64") + ")")}
	case "uint", "uint8", "uint16", "uint32", "uint64", "uintptr":
		return []jen.Code{set("AddUint(" + conv("uint64") + ")")}
	case "float32", "float64":
		return []jen.Code{set("AddFloat(" + conv("float64") + ")")}
	case "complex64", "complex128":
		return []jen.Code{set("AddComplex(" + conv("complex128") + ")")}
	case "string":
		return []jen.Code{set("AddString(" + conv("string") + ")")}
	}
	// checkHashable refused everything else before emission.
	panic("gen: unhashable kind " + string(t.Kind))
}

// bytesOf converts expr, a slice of a uint8-kinded element type, to []byte
// where the element type is a named one.
func bytesOf(g *generator, elem, expr string) string {
	t := g.model.Types[elem]
	if t == nil || t.Name == "" || t.Name == "byte" || t.Name == "uint8" {
		return expr
	}
	// A slice of a named byte type converts to []byte element by element
	// only; such inputs are rare enough to go through a copy.
	return "[]byte(string(" + strings.TrimSpace(expr) + "))"
}
