package analysis

import (
	"cmp"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"
)

// writeResult is what one StepS function may write of its state.
type writeResult struct {
	all    bool
	writes []StateWrite
}

// fields returns the top-level fields written, sorted; with all, every
// field of the struct state.
func (r *writeResult) fields(state types.Type) []string {
	set := map[string]bool{}
	if r.all && state != nil {
		if st, ok := state.Underlying().(*types.Struct); ok {
			for i := range st.NumFields() {
				set[st.Field(i).Name()] = true
			}
		}
	}
	for _, w := range r.writes {
		if w.Field != "" {
			set[w.Field] = true
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// stateWrites analyses what a StepS function may write through its *S
// parameter: assignments to fields, writes to map and slice elements, and
// pointers into the state that escape, which count as writing the field
// they point into, or everything when they point at the whole state.
func (a *analyzer) stateWrites(f *funcArg) *writeResult {
	key := f.ref.PkgPath + "|" + f.ref.RecvType + "|" + f.ref.Name
	if r, ok := a.writes[key]; ok {
		return r
	}
	r := a.analyseWrites(f)
	slices.SortFunc(r.writes, func(x, y StateWrite) int {
		return cmp.Or(comparePos(x.Pos, y.Pos), cmp.Compare(x.Field, y.Field), cmp.Compare(x.Kind, y.Kind))
	})
	a.writes[key] = r
	return r
}

func (a *analyzer) analyseWrites(f *funcArg) *writeResult {
	p := a.byPath[f.ref.PkgPath]
	name := f.ref.Name
	if f.ref.IsMethodExpr {
		name = strings.TrimPrefix(f.ref.Recv, "*") + "." + name
		if i := strings.IndexByte(name, '['); i >= 0 {
			name = name[:i] + name[strings.IndexByte(name, '.'):]
		}
	}
	unknown := func(reason string) *writeResult {
		return &writeResult{all: true, writes: []StateWrite{{Kind: WriteAll, Reason: reason, Pos: f.pos.String()}}}
	}
	if p == nil {
		return unknown("the source of " + f.ref.PkgPath + "." + name + " is not loaded, so its writes are unknown")
	}
	decl := p.funcs[name]
	if decl == nil || decl.Body == nil {
		return unknown("the body of " + name + " is not available, so its writes are unknown")
	}
	// The *S parameter: the third of a function; a method expression's
	// receiver is its first parameter, so the second of the method.
	idx := 2
	if f.ref.IsMethodExpr {
		idx = 1
	}
	var param *ast.Ident
	i := 0
	for _, fld := range decl.Type.Params.List {
		if len(fld.Names) == 0 {
			i++
			continue
		}
		for _, n := range fld.Names {
			if i == idx {
				param = n
			}
			i++
		}
	}
	r := &writeResult{}
	if param == nil || param.Name == "_" {
		return r // the state is never named, so never written
	}
	obj := p.info.Defs[param]
	if obj == nil {
		return r
	}
	w := &writeWalker{a: a, p: p, root: obj, aliases: map[types.Object]alias{obj: {ptr: true}}, res: r, seen: map[string]bool{}}
	for range 8 {
		n := len(w.aliases)
		w.walk(decl.Body, true)
		if len(w.aliases) == n {
			break
		}
	}
	w.walk(decl.Body, false)
	return r
}

// alias is a local variable whose value refers into the state.
type alias struct {
	// field is the top-level field it refers into; "" for the whole state.
	field string
	// ptr: the variable holds a pointer whose target is state memory.
	// Otherwise it holds a copy of a state value, and only what that copy
	// reaches through a pointer, slice or map is state memory.
	ptr bool
}

// accessStep is one step of an access path from an alias.
type accessStep struct {
	sel      string // field name, for a selection
	indirect bool   // a pointer dereference or a map or slice index
	elem     bool   // a map or slice index
}

type writeWalker struct {
	a       *analyzer
	p       *pkgInfo
	root    types.Object
	aliases map[types.Object]alias
	res     *writeResult
	seen    map[string]bool
}

func (w *writeWalker) walk(body *ast.BlockStmt, collect bool) {
	ast.Inspect(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.AssignStmt:
			w.assign(x.Lhs, x.Rhs, x.Tok, collect)
		case *ast.DeclStmt:
			if g, ok := x.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					lhs := make([]ast.Expr, len(vs.Names))
					for i, n := range vs.Names {
						lhs[i] = n
					}
					w.assign(lhs, vs.Values, token.DEFINE, collect)
				}
			}
		case *ast.IncDecStmt:
			if !collect {
				w.lvalue(x.X, false)
			}
		case *ast.RangeStmt:
			w.rangeStmt(x, collect)
		case *ast.CallExpr:
			if !collect {
				w.call(x)
			}
		case *ast.ReturnStmt:
			if !collect {
				for _, r := range x.Results {
					w.escape(r, "returned")
				}
			}
		case *ast.SendStmt:
			if !collect {
				w.escape(x.Value, "sent on a channel")
			}
		case *ast.CompositeLit:
			if !collect {
				for _, el := range x.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						el = kv.Value
					}
					w.escape(el, "stored in a composite literal")
				}
			}
		}
		return true
	})
}

func (w *writeWalker) assign(lhs, rhs []ast.Expr, tok token.Token, collect bool) {
	if len(lhs) != len(rhs) {
		if !collect {
			for _, l := range lhs {
				w.lvalue(l, false)
			}
		}
		return
	}
	for i, l := range lhs {
		r := rhs[i]
		if tok != token.ASSIGN && tok != token.DEFINE {
			if !collect {
				w.lvalue(l, false)
			}
			continue
		}
		if obj := w.local(l); obj != nil {
			if collect {
				if al, ok := w.aliasOf(r); ok {
					if _, had := w.aliases[obj]; !had {
						w.aliases[obj] = al
					}
				}
			}
			continue
		}
		if collect {
			continue
		}
		if !w.lvalue(l, false) {
			w.escape(r, "stored in "+types.ExprString(l))
		}
	}
}

func (w *writeWalker) rangeStmt(x *ast.RangeStmt, collect bool) {
	if x.Tok == token.ASSIGN && !collect {
		if x.Key != nil {
			w.lvalue(x.Key, false)
		}
		if x.Value != nil {
			w.lvalue(x.Value, false)
		}
	}
	if !collect || x.Value == nil {
		return
	}
	obj := w.local(x.Value)
	if obj == nil || !hasRefs(w.p.info.TypeOf(x.Value), map[types.Type]bool{}) {
		return
	}
	if al, steps, ok := w.resolve(x.X); ok {
		_, field, _ := landing(al, steps)
		if _, had := w.aliases[obj]; !had {
			w.aliases[obj] = alias{field: field}
		}
	}
}

// local returns the local variable e names, or nil.
func (w *writeWalker) local(e ast.Expr) types.Object {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok || id.Name == "_" {
		return nil
	}
	obj := w.p.info.ObjectOf(id)
	v, ok := obj.(*types.Var)
	if !ok || v.IsField() || v.Pkg() == nil || v.Parent() == nil || v.Parent() == v.Pkg().Scope() {
		return nil
	}
	return v
}

// aliasOf tells what a local variable assigned e refers to.
func (w *writeWalker) aliasOf(e ast.Expr) (alias, bool) {
	e = ast.Unparen(e)
	if call, ok := e.(*ast.CallExpr); ok && w.builtin(call) == "append" && len(call.Args) > 0 {
		return w.aliasOf(call.Args[0])
	}
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		al, steps, ok := w.resolve(u.X)
		if !ok {
			return alias{}, false
		}
		_, field, _ := landing(al, steps)
		return alias{field: field, ptr: true}, true
	}
	al, steps, ok := w.resolve(e)
	if !ok {
		return alias{}, false
	}
	if len(steps) == 0 {
		return al, true
	}
	if !hasRefs(w.p.info.TypeOf(e), map[types.Type]bool{}) {
		return alias{}, false
	}
	_, field, _ := landing(al, steps)
	return alias{field: field}, true
}

// resolve splits e into the alias it starts from and the access steps
// after it.
func (w *writeWalker) resolve(e ast.Expr) (alias, []accessStep, bool) {
	e = ast.Unparen(e)
	info := w.p.info
	switch x := e.(type) {
	case *ast.Ident:
		al, ok := w.aliases[info.ObjectOf(x)]
		return al, nil, ok
	case *ast.SelectorExpr:
		sel, ok := info.Selections[x]
		if !ok || sel.Kind() != types.FieldVal {
			return alias{}, nil, false
		}
		al, steps, ok := w.resolve(x.X)
		if !ok {
			return alias{}, nil, false
		}
		t := info.TypeOf(x.X)
		for _, i := range sel.Index() {
			if p, ok := t.Underlying().(*types.Pointer); ok {
				steps = append(steps, accessStep{indirect: true})
				t = p.Elem()
			}
			st, ok := t.Underlying().(*types.Struct)
			if !ok {
				return alias{}, nil, false
			}
			f := st.Field(i)
			steps = append(steps, accessStep{sel: f.Name()})
			t = f.Type()
		}
		return al, steps, true
	case *ast.StarExpr:
		al, steps, ok := w.resolve(x.X)
		return al, append(steps, accessStep{indirect: true}), ok
	case *ast.IndexExpr:
		tv := info.Types[x.X]
		if tv.Type == nil {
			return alias{}, nil, false
		}
		al, steps, ok := w.resolve(x.X)
		if !ok {
			return alias{}, nil, false
		}
		switch u := tv.Type.Underlying().(type) {
		case *types.Map, *types.Slice:
			steps = append(steps, accessStep{indirect: true, elem: true})
		case *types.Pointer: // pointer to array
			steps = append(steps, accessStep{indirect: true}, accessStep{})
			_ = u
		case *types.Array:
			steps = append(steps, accessStep{})
		default:
			return alias{}, nil, false
		}
		return al, steps, true
	case *ast.SliceExpr:
		al, steps, ok := w.resolve(x.X)
		if !ok {
			return alias{}, nil, false
		}
		if _, isArr := info.TypeOf(x.X).Underlying().(*types.Array); !isArr {
			steps = append(steps, accessStep{indirect: true})
		}
		return al, steps, true
	case *ast.CallExpr:
		if len(x.Args) == 1 && info.Types[x.Fun].IsType() {
			return w.resolve(x.Args[0])
		}
	case *ast.TypeAssertExpr:
		return w.resolve(x.X)
	}
	return alias{}, nil, false
}

// landing tells whether an access from al through steps reaches state
// memory, the top-level field it is in ("" when it is the whole state or
// unknown), and whether it goes through a map or slice element.
func landing(al alias, steps []accessStep) (in bool, field string, elem bool) {
	field = al.field
	for _, s := range steps {
		if s.indirect {
			in = true
		}
		if s.sel != "" && field == "" {
			field = s.sel
		}
		if s.elem && in {
			elem = true
		}
	}
	if !al.ptr && !in {
		return false, field, false
	}
	return in, field, elem
}

// lvalue records a write when e, written to, is state memory; it reports
// whether it was.
func (w *writeWalker) lvalue(e ast.Expr, forceElem bool) bool {
	al, steps, ok := w.resolve(e)
	if !ok {
		return false
	}
	if forceElem {
		steps = append(steps, accessStep{indirect: true, elem: true})
	}
	in, field, elem := landing(al, steps)
	if !in {
		return false
	}
	kind := WriteAssign
	if elem {
		kind = WriteElem
	}
	if field == "" {
		w.record(StateWrite{Kind: WriteAll, Path: w.path(e), Reason: "assigns the whole state", Pos: w.a.pos(e.Pos()).String()})
		return true
	}
	w.record(StateWrite{Field: field, Path: w.path(e), Kind: kind, Pos: w.a.pos(e.Pos()).String()})
	return true
}

// escape records a write when e's value gives access to state memory and
// goes where the analysis cannot follow.
func (w *writeWalker) escape(e ast.Expr, how string) {
	field, ok := w.shares(e)
	if !ok {
		return
	}
	pos := w.a.pos(e.Pos()).String()
	if field == "" {
		w.record(StateWrite{Kind: WriteAll, Path: w.path(e), Reason: "the state pointer is " + how, Pos: pos})
		return
	}
	w.record(StateWrite{Field: field, Path: w.path(e), Kind: WriteElem, Reason: "a reference into the field is " + how, Pos: pos})
}

// shares reports whether e's value reaches state memory, and in which
// field.
func (w *writeWalker) shares(e ast.Expr) (string, bool) {
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		al, steps, ok := w.resolve(u.X)
		if !ok {
			return "", false
		}
		in, field, _ := landing(al, steps)
		if in || hasRefs(w.p.info.TypeOf(u.X), map[types.Type]bool{}) {
			return field, true
		}
		return "", false
	}
	al, steps, ok := w.resolve(e)
	if !ok {
		return "", false
	}
	if len(steps) == 0 && al.ptr {
		return al.field, true
	}
	if !hasRefs(w.p.info.TypeOf(e), map[types.Type]bool{}) {
		return "", false
	}
	_, field, _ := landing(al, steps)
	return field, true
}

func (w *writeWalker) call(x *ast.CallExpr) {
	info := w.p.info
	if tv := info.Types[x.Fun]; tv.IsType() {
		return // a conversion
	}
	switch w.builtin(x) {
	case "":
	case "delete", "clear", "copy":
		if len(x.Args) > 0 {
			w.lvalue(x.Args[0], true)
		}
		return
	case "append":
		// The appended values are stored in the slice, which may go
		// anywhere; the elements of a spread slice are copied, so only
		// what they refer to is shared.
		for i, arg := range x.Args[1:] {
			if x.Ellipsis.IsValid() && i == len(x.Args)-2 {
				if s, ok := info.TypeOf(arg).Underlying().(*types.Slice); ok && !hasRefs(s.Elem(), map[types.Type]bool{}) {
					continue
				}
			}
			w.escape(arg, "appended to a slice")
		}
		return
	default: // len, cap, append, min, max, print, ...: read only
		return
	}
	name := types.ExprString(x.Fun)
	if readOnlyFunc(w.calleeObj(x.Fun)) {
		return
	}
	if s, ok := ast.Unparen(x.Fun).(*ast.SelectorExpr); ok {
		if sel, ok := info.Selections[s]; ok && sel.Kind() == types.MethodVal {
			m := sel.Obj().(*types.Func)
			recv := m.Type().(*types.Signature).Recv().Type()
			_, ptrRecv := recv.Underlying().(*types.Pointer)
			_, ptrExpr := info.TypeOf(s.X).Underlying().(*types.Pointer)
			if ptrRecv && !ptrExpr {
				w.escape(&ast.UnaryExpr{OpPos: s.X.Pos(), Op: token.AND, X: s.X}, "the receiver of "+name)
			} else {
				w.escape(s.X, "the receiver of "+name)
			}
		}
	}
	for _, arg := range x.Args {
		w.escape(arg, "passed to "+name)
	}
}

// builtin returns the name of the builtin x calls, or "".
func (w *writeWalker) builtin(x *ast.CallExpr) string {
	id, ok := ast.Unparen(x.Fun).(*ast.Ident)
	if !ok {
		return ""
	}
	if b, ok := w.p.info.Uses[id].(*types.Builtin); ok {
		return b.Name()
	}
	return ""
}

func (w *writeWalker) calleeObj(fun ast.Expr) types.Object {
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		return w.p.info.Uses[f]
	case *ast.SelectorExpr:
		return w.p.info.Uses[f.Sel]
	case *ast.IndexExpr:
		return w.calleeObj(f.X)
	case *ast.IndexListExpr:
		return w.calleeObj(f.X)
	}
	return nil
}

// readOnlyFunc reports standard library functions known not to write
// through their arguments, so passing state to them is a read.
func readOnlyFunc(obj types.Object) bool {
	f, ok := obj.(*types.Func)
	if !ok || f.Pkg() == nil || f.Type().(*types.Signature).Recv() != nil {
		return false
	}
	switch f.Pkg().Path() + "." + f.Name() {
	case "fmt.Sprint", "fmt.Sprintf", "fmt.Sprintln", "fmt.Errorf", "fmt.Print", "fmt.Printf", "fmt.Println",
		"fmt.Fprint", "fmt.Fprintf", "fmt.Fprintln", "fmt.Append", "fmt.Appendf", "fmt.Appendln",
		"strings.Join", "strings.Contains", "strings.HasPrefix", "strings.HasSuffix", "strings.EqualFold",
		"slices.Contains", "slices.Index", "slices.Equal", "slices.Max", "slices.Min", "slices.Clone",
		"maps.Clone", "maps.Keys", "maps.Values", "maps.Equal", "encoding/json.Marshal", "reflect.DeepEqual":
		return true
	}
	return false
}

func (w *writeWalker) record(sw StateWrite) {
	k := sw.Pos + "|" + sw.Field + "|" + string(sw.Kind)
	if w.seen[k] {
		return
	}
	w.seen[k] = true
	if sw.Kind == WriteAll {
		w.res.all = true
	}
	w.res.writes = append(w.res.writes, sw)
}

// path renders a written expression from the state: "Counts[key]" for
// st.Counts[key] when st is the parameter.
func (w *writeWalker) path(e ast.Expr) string {
	s := types.ExprString(e)
	root := w.root.Name()
	s = strings.TrimPrefix(s, "&")
	if rest, ok := strings.CutPrefix(s, root+"."); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(s, "(*"+root+")."); ok {
		return rest
	}
	return s
}

// comparePos orders "file:line:col" positions numerically.
func comparePos(a, b string) int {
	fa, la, ca := parsePos(a)
	fb, lb, cb := parsePos(b)
	return cmp.Or(cmp.Compare(fa, fb), cmp.Compare(la, lb), cmp.Compare(ca, cb))
}
