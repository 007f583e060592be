package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/flujo/flujo/internal/analysis"
)

// Pipeline state in generated executors. A Parallel gives each branch that
// may write the state its own copy, in which only the fields of the
// branch's static write set (the analysis's) are deep-copied: the branch
// does not write the others, so it may share them. After the branches, the
// merge strategy copies back, field by field, the written fields whose
// value changed, as the ExecutorCore does. A StepS attempt works on a copy
// limited the same way to its step's write set.
//
// With enable_context_optimization off, copies are whole deep copies and
// every branch that reads the state gets one, as in the ExecutorCore.

// stateFields returns the fields of the state type, nil when it is not a
// struct: the state is then one field, the whole value.
func (pg *pipelineGen) stateFields() []analysis.Field {
	t := pg.g.model.Types[pg.stateKey]
	if t == nil || t.Kind != analysis.TypeStruct {
		return nil
	}
	return t.Fields
}

// stateField returns the state field named name.
func (pg *pipelineGen) stateField(name string) (analysis.Field, bool) {
	for _, f := range pg.stateFields() {
		if f.Name == name {
			return f, true
		}
	}
	return analysis.Field{}, false
}

// cowLimited reports whether copies are limited to write sets.
func (pg *pipelineGen) cowLimited() bool { return pg.g.cfg.Optimization.EnableContextOptimization }

// writeSet resolves the fields a write set names; whole reports that the
// copy must be whole (every field written, a state that is not a struct,
// or copies not limited).
func (pg *pipelineGen) writeSet(all bool, fields []string) (names []string, whole bool) {
	if all || pg.stateFields() == nil || !pg.cowLimited() {
		return nil, true
	}
	return fields, false
}

// stateCopy returns statements declaring dst as a copy of *src, the state,
// with the fields of the write set deep-copied (all of them when whole).
// With assign, dst exists and is assigned.
func (pg *pipelineGen) stateCopy(dst, src string, names []string, whole bool, pos string, assign ...bool) []jen.Code {
	g := pg.g
	op := " := "
	if len(assign) > 0 && assign[0] {
		op = " = "
	}
	if whole {
		return []jen.Code{c(dst+op+"{}", g.copyExpr(pg.stateKey, jen.Op("*").Id(src), pos))}
	}
	out := []jen.Code{c(dst + op + "*" + src)}
	for _, name := range names {
		f, ok := pg.stateField(name)
		if !ok {
			g.errorf(pos, "internal error: the write set names %s, which the state type %s does not have", name, pg.stateKey)
			continue
		}
		if g.copyFunc(f.Type, pos) != "" {
			out = append(out, c(dst+"."+name+" = {}", g.copyExpr(f.Type, jen.Id(src+"."+name), pos)))
		}
	}
	return out
}

// branchState describes how one Parallel branch runs with the state.
type branchState struct {
	copied bool     // the branch works on its own copy w<i>
	whole  bool     // the copy is whole
	fields []string // the fields it may write (every field when whole)
}

// parallelState plans the state of a Parallel's branches. Under
// ErrorOnConflict, branches that may write one field are no error: the
// generated code compares their copies at run time, as the ExecutorCore
// does (conflictCode).
func (pg *pipelineGen) parallelState(n *analysis.Node) []branchState {
	g := pg.g
	pi := n.Parallel
	out := make([]branchState, len(n.Children))
	if pg.stateKey == "" || len(pi.Branches) != len(n.Children) {
		return out
	}
	for i, bw := range pi.Branches {
		writes := bw.All || len(bw.Fields) > 0
		if !bw.ReadsState || (!writes && pg.cowLimited()) {
			continue
		}
		names, whole := pg.writeSet(bw.All, bw.Fields)
		if whole {
			names = nil
			for _, f := range pg.stateFields() {
				if f.Name != "_" {
					names = append(names, f.Name)
				}
			}
		}
		out[i] = branchState{copied: true, whole: whole, fields: names}
	}
	if n.Options.Merge != analysis.NoMerge {
		for _, name := range pg.mergedFields(out) {
			if f, ok := pg.stateField(name); ok {
				g.equalExpr(f.Type, "a", "b", n.Pos)
			} else if pg.stateFields() == nil {
				g.equalExpr(pg.stateKey, "a", "b", n.Pos)
			}
		}
	}
	return out
}

// mergedFields returns the fields some branch may write, in the state
// type's order; for a state that is not a struct, the one name "".
func (pg *pipelineGen) mergedFields(bs []branchState) []string {
	if pg.stateFields() == nil {
		for _, b := range bs {
			if b.copied {
				return []string{""}
			}
		}
		return nil
	}
	var out []string
	for _, f := range pg.stateFields() {
		for _, b := range bs {
			if b.copied && contains(b.fields, f.Name) {
				out = append(out, f.Name)
				break
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// mergeCode returns the statements that merge the branches' copies back
// into *r.State: for each written field, the value of the last (MergeUpdate)
// or first (KeepFirst) successful branch whose copy changed it.
func (pg *pipelineGen) mergeCode(n *analysis.Node, bs []branchState) []jen.Code {
	if n.Options.Merge == analysis.NoMerge {
		return nil
	}
	var out []jen.Code
	for _, name := range pg.mergedFields(bs) {
		key, sel := pg.stateKey, ""
		if name != "" {
			f, _ := pg.stateField(name)
			key, sel = f.Type, "."+name
		}
		var writers []int
		for i, b := range bs {
			if b.copied && (name == "" || contains(b.fields, name)) {
				writers = append(writers, i)
			}
		}
		if n.Options.Merge != analysis.KeepFirst {
			// The last changed copy wins: test from the last writer back.
			for l, r := 0, len(writers)-1; l < r; l, r = l+1, r-1 {
				writers[l], writers[r] = writers[r], writers[l]
			}
		}
		dst := "*r.State"
		if sel != "" {
			dst = "r.State" + sel
		}
		var chain []string
		for _, i := range writers {
			w := fmt.Sprintf("sc.w%d%s", i, sel)
			chain = append(chain, fmt.Sprintf("if sc.results[%d].Success && %s {\n%s = %s\n}", i, pg.g.differExpr(key, w, dst, n.Pos), dst, w))
		}
		out = append(out, c(strings.Join(chain, " else ")))
	}
	return out
}

// conflictCheck returns the statements that fail a Parallel merging with
// ErrorOnConflict when two successful branches changed one state field,
// and emits the method they call. The rule is the ExecutorCore's: branches
// in order, each one's changed fields in the state type's order, the first
// field changed by a second branch is the conflict, named with the first
// branch that changed it. Only fields two branches may write are compared.
// The state is not touched.
func (pg *pipelineGen) conflictCheck(f *jen.File, n *analysis.Node, bs []branchState) []jen.Code {
	if n.Options.Merge != analysis.ErrorOnConflict || pg.stateKey == "" {
		return nil
	}
	var fields []string // fields at least two copied branches may write
	for _, name := range pg.mergedFields(bs) {
		k := 0
		for _, b := range bs {
			if b.copied && (name == "" || contains(b.fields, name)) {
				k++
			}
		}
		if k > 1 {
			fields = append(fields, name)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	names := make([]string, len(n.Children))
	for i, ch := range n.Children {
		names[i] = strq(ch.Name)
	}
	branchNames := fmt.Sprintf("[%d]string{%s}", len(names), strings.Join(names, ", "))
	method := pg.conflictsName(n)
	body := []jen.Code{c(fmt.Sprintf("var first [%d]int // per field, the first branch that changed it, plus one", len(fields)))}
	seen := make([]bool, len(fields))
	for i, b := range bs {
		if !b.copied {
			continue
		}
		var checks []string
		conflicts := 0
		for k, name := range fields {
			if name != "" && !contains(b.fields, name) {
				continue
			}
			key, sel, suffix, orig := pg.stateKey, "", "", "*st"
			if name != "" {
				orig = "st." + name
				fd, _ := pg.stateField(name)
				key, sel, suffix = fd.Type, "."+name, " + "+strq("."+name)
			}
			w := fmt.Sprintf("sc.w%d%s", i, sel)
			if !seen[k] {
				// No branch before this one may have changed it.
				seen[k] = true
				checks = append(checks, fmt.Sprintf("if %s {\nfirst[%d] = %d\n}", pg.g.differExpr(key, w, orig, n.Pos), k, i+1))
				continue
			}
			conflicts++
			checks = append(checks, fmt.Sprintf("if %s {\nif first[%d] != 0 {\nreturn &{}{Parallel: %s, Field: {}[{}]().String()%s, Branches: [2]string{%s[first[%d]-1], %s}}\n}\nfirst[%d] = %d\n}",
				pg.g.differExpr(key, w, orig, n.Pos), k, strq(n.Name), suffix, branchNames, k, names[i], k, i+1))
		}
		if len(checks) == 0 {
			continue
		}
		var args []jen.Code
		for range conflicts {
			args = append(args, qf("MergeConflictError"), jen.Qual("reflect", "TypeFor"), pg.stateType())
		}
		body = append(body, c(fmt.Sprintf("if sc.results[%d].Success {\n%s\n}", i, strings.Join(checks, "\n")), args...))
	}
	body = append(body, c("return nil"))
	f.Comment(method + " reports a *flujo.MergeConflictError when two successful branches of parallel " + strq(n.Name) + " changed one state field.")
	f.Func().Params(jen.Id("e").Op("*").Id(pg.X)).Id(method).Params(jen.Id("st").Op("*").Add(pg.stateType()), jen.Id("sc").Op("*").Id(pg.scratchName(n))).Error().Block(body...)
	return []jen.Code{c("if err := e."+method+"(r.State, sc); err != nil {\nres.Err, res.Feedback = err, err.Error()\nreturn *new({}), nil\n}", pg.out(n))}
}

// equalExpr returns an expression reporting whether a and b, of type key,
// are deeply equal as reflect.DeepEqual has it, registering the generated
// function it needs.
func (g *generator) equalExpr(key, a, b, pos string) string {
	if g.valueComparable(key, map[string]bool{}) && !g.hasFloat(key, map[string]bool{}) {
		return "(" + a + " == " + b + ")"
	}
	if name, ok := g.equals[key]; ok {
		return name + "(" + a + ", " + b + ")"
	}
	before := len(g.errs)
	g.checkEqualable(key, pos, map[string]bool{})
	if len(g.errs) > before {
		return "false"
	}
	if g.equals == nil {
		g.equals = map[string]string{}
	}
	name := "flujogenEqual" + g.typeIdent(key)
	g.equals[key] = name
	g.equalOrder = append(g.equalOrder, key)
	return name + "(" + a + ", " + b + ")"
}

// hasFloat reports whether a value of type key holds a float or complex
// number, for which == is not runtime.SameValue's rule (NaN).
func (g *generator) hasFloat(key string, seen map[string]bool) bool {
	t, ok := g.model.Types[key]
	if !ok || seen[key] {
		return false
	}
	seen[key] = true
	switch t.Kind {
	case "float32", "float64", "complex64", "complex128":
		return true
	case analysis.TypeArray:
		return g.hasFloat(t.Elem, seen)
	case analysis.TypeStruct:
		for _, f := range t.Fields {
			if g.hasFloat(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// differExpr is the negation of equalExpr.
func (g *generator) differExpr(key, a, b, pos string) string {
	if g.valueComparable(key, map[string]bool{}) && !g.hasFloat(key, map[string]bool{}) {
		return a + " != " + b
	}
	return "!" + g.equalExpr(key, a, b, pos)
}

// checkEqualable refuses what a generated comparison cannot reach:
// unexported fields of other packages' structs, and recursive types.
func (g *generator) checkEqualable(key, pos string, onPath map[string]bool) {
	t, ok := g.model.Types[key]
	if !ok || g.valueComparable(key, map[string]bool{}) {
		return
	}
	if onPath[key] {
		g.unsupported(pos, "merging state fields of the recursive type "+key)
		return
	}
	onPath[key] = true
	defer delete(onPath, key)
	switch t.Kind {
	case analysis.TypePointer, analysis.TypeSlice, analysis.TypeArray:
		g.checkEqualable(t.Elem, pos, onPath)
	case analysis.TypeMap:
		g.checkEqualable(t.Elem, pos, onPath)
	case analysis.TypeStruct:
		if t.IsTime {
			return
		}
		for _, f := range t.Fields {
			if f.Name == "_" {
				continue
			}
			if !f.Exported && t.PkgPath != g.target {
				g.unsupported(pos, "merging state fields of "+key+": its unexported field "+f.Name+" cannot be compared from generated code")
				continue
			}
			g.checkEqualable(f.Type, pos, onPath)
		}
	}
}

// equalFuncs emits the registered comparison functions.
func (g *generator) equalFuncs(f *jen.File) {
	for i := 0; i < len(g.equalOrder); i++ { // the list grows while emitting
		key := g.equalOrder[i]
		name := g.equals[key]
		t := g.model.Types[key]
		var body []jen.Code
		switch t.Kind {
		case analysis.TypePointer:
			body = []jen.Code{
				c("if a == b { return true }"),
				c("if a == nil || b == nil { return false }"),
				c("return " + g.equalExpr(t.Elem, "*a", "*b", "")),
			}
		case analysis.TypeSlice:
			body = []jen.Code{
				c("if (a == nil) != (b == nil) || len(a) != len(b) { return false }"),
				c("for i := range a {\nif !" + g.equalExpr(t.Elem, "a[i]", "b[i]", "") + " { return false }\n}"),
				c("return true"),
			}
		case analysis.TypeArray:
			body = []jen.Code{
				c("for i := range a {\nif !" + g.equalExpr(t.Elem, "a[i]", "b[i]", "") + " { return false }\n}"),
				c("return true"),
			}
		case analysis.TypeMap:
			body = []jen.Code{
				c("if (a == nil) != (b == nil) || len(a) != len(b) { return false }"),
				c("for k, x := range a {\ny, ok := b[k]\nif !ok || !" + g.equalExpr(t.Elem, "x", "y", "") + " { return false }\n}"),
				c("return true"),
			}
		case analysis.TypeStruct:
			if t.IsTime {
				body = []jen.Code{c("return a == b")}
				break
			}
			var terms []string
			for _, fd := range t.Fields {
				if fd.Name == "_" {
					continue
				}
				terms = append(terms, g.equalExpr(fd.Type, "a."+fd.Name, "b."+fd.Name, ""))
			}
			if len(terms) == 0 {
				terms = []string{"true"}
			}
			body = []jen.Code{c("return " + strings.Join(terms, " &&\n"))}
		case analysis.TypeFunc:
			body = []jen.Code{c("return {}(a, b)", qr("SameFunc"))}
		case analysis.TypeInterface:
			body = []jen.Code{c("return {}(a, b)", qr("SameValue"))}
		case "float32", "float64", "complex64", "complex128":
			body = []jen.Code{c("return a == b || (a != a && b != b)")}
		default:
			body = []jen.Code{c("return a == b")}
		}
		T := g.typ(key, "")
		f.Comment(name + " reports whether a and b are the same value, as runtime.SameValue does.")
		f.Func().Id(name).Params(jen.Id("a"), jen.Id("b").Add(T)).Bool().Block(body...)
	}
}
