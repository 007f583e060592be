package analysis

import (
	"cmp"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"
)

// The write-set analysis is sound: a field of the state counts as written
// unless the analysis proves it is not. It looks at every use of the state
// parameter and of every local variable that may refer into the state, and
// classifies the context of the use. A few contexts are proven reads (a
// value without references copied out, a comparison, len, a value method on
// a copy); a few are precise writes (an assignment, ++, delete, an element
// store); the rest, a reference into the state going anywhere the analysis
// does not follow, count as writing what the reference reaches, with the
// reason recorded so that messages can quote it. Calls of functions and
// methods whose source is loaded are followed, so that helpers, method
// values and methods on the state keep precise write sets.

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
// parameter.
func (a *analyzer) stateWrites(f *funcArg) *writeResult {
	key := f.ref.PkgPath + "|" + f.ref.RecvType + "|" + f.ref.Name
	if r, ok := a.writes[key]; ok {
		return r
	}
	r := a.analyseWrites(f)
	sortWrites(r.writes)
	a.writes[key] = r
	return r
}

func sortWrites(ws []StateWrite) {
	slices.SortFunc(ws, func(x, y StateWrite) int {
		return cmp.Or(comparePos(x.Pos, y.Pos), cmp.Compare(x.Field, y.Field), cmp.Compare(x.Kind, y.Kind))
	})
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
		a.needSource(f.ref.PkgPath)
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
	obj := paramObject(p, decl, idx)
	r := &writeResult{}
	if obj == nil {
		return r // the state is never named, so never written
	}
	s := &writeSession{a: a, active: map[string]bool{}}
	s.body(p, decl.Body, obj, alias{ptr: true}, r, "")
	return r
}

// paramObject returns the object of the idx-th parameter of decl (-1: the
// receiver), or nil when it is unnamed or blank.
func paramObject(p *pkgInfo, decl *ast.FuncDecl, idx int) types.Object {
	var list *ast.FieldList
	if idx < 0 {
		list, idx = decl.Recv, 0
	} else {
		list = decl.Type.Params
	}
	if list == nil {
		return nil
	}
	i := 0
	for _, fld := range list.List {
		if len(fld.Names) == 0 {
			i++
			continue
		}
		for _, n := range fld.Names {
			if i == idx {
				if n.Name == "_" {
					return nil
				}
				return p.info.Defs[n]
			}
			i++
		}
	}
	return nil
}

// writeSession analyses one StepS function and the functions it hands its
// state to. active holds the callees being analysed, so recursion ends.
type writeSession struct {
	a      *analyzer
	active map[string]bool
}

// alias says what a variable refers to in the state.
type alias struct {
	// field is the top-level field it refers into; "" for the whole state.
	field string
	// ptr: the variable holds a pointer whose target is state memory.
	// Otherwise it holds a copy of a state value, and only what that copy
	// reaches through a pointer, slice, map, channel, function or interface
	// is state memory.
	ptr bool
}

// accessStep is one step of an access path from an alias.
type accessStep struct {
	sel      string // field name, for a selection
	indirect bool   // a pointer dereference or a map or slice index
	elem     bool   // a map or slice index
}

// body analyses a function body in which root refers to the state as al.
// Writes are added to r; via, when set, prefixes every reason (the call
// that led here).
func (s *writeSession) body(p *pkgInfo, body *ast.BlockStmt, root types.Object, al alias, r *writeResult, via string) {
	w := &writeWalker{s: s, p: p, root: root, aliases: map[types.Object][]alias{root: {al}}, res: r, seen: map[string]bool{}, via: via}
	// Aliases only grow, so this reaches a fixed point; the bound is a
	// guard, and a walk that still grows after it records everything.
	for range 32 {
		n := w.count()
		w.walk(body, true)
		if w.count() == n {
			w.walk(body, false)
			return
		}
	}
	w.record(StateWrite{Kind: WriteAll, Reason: "its references into the state are too many to follow", Pos: s.a.pos(body.Pos()).String()})
}

type writeWalker struct {
	s       *writeSession
	p       *pkgInfo
	root    types.Object
	aliases map[types.Object][]alias
	res     *writeResult
	seen    map[string]bool
	via     string
	collect bool
}

func (w *writeWalker) count() int {
	n := 0
	for _, as := range w.aliases {
		n += len(as)
	}
	return n
}

// addAlias records that obj may refer to the state as al; it reports
// whether that is new.
func (w *writeWalker) addAlias(obj types.Object, al alias) {
	if !slices.Contains(w.aliases[obj], al) {
		w.aliases[obj] = append(w.aliases[obj], al)
	}
}

// walk visits every use of a tracked variable. With collect it only grows
// the aliases; without, it records writes.
func (w *writeWalker) walk(body *ast.BlockStmt, collect bool) {
	w.collect = collect
	ast.PreorderStack(body, nil, func(n ast.Node, stack []ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		obj := w.p.info.Uses[id]
		if obj == nil {
			return true
		}
		als, ok := w.aliases[obj]
		if !ok {
			return true
		}
		for _, al := range als {
			w.use(id, al, stack)
		}
		return true
	})
}

// use classifies one use of a variable that refers to the state as al.
// stack holds the use's ancestors, innermost last.
func (w *writeWalker) use(id *ast.Ident, al alias, stack []ast.Node) {
	info := w.p.info
	var expr ast.Expr = id
	var steps []accessStep
	i := len(stack) - 1
	// Climb the access path: selections of fields, dereferences, indexes,
	// slices, conversions and type assertions keep referring into the
	// state.
climb:
	for ; i >= 0; i-- {
		switch x := stack[i].(type) {
		case *ast.ParenExpr:
		case *ast.SelectorExpr:
			if x.X != expr {
				break climb
			}
			sel, ok := info.Selections[x]
			if !ok || sel.Kind() != types.FieldVal {
				break climb
			}
			t := info.TypeOf(x.X)
			for _, fi := range sel.Index() {
				if p, ok := t.Underlying().(*types.Pointer); ok {
					steps = append(steps, accessStep{indirect: true})
					t = p.Elem()
				}
				st, ok := t.Underlying().(*types.Struct)
				if !ok {
					break climb
				}
				f := st.Field(fi)
				steps = append(steps, accessStep{sel: f.Name()})
				t = f.Type()
			}
		case *ast.StarExpr:
			steps = append(steps, accessStep{indirect: true})
		case *ast.IndexExpr:
			if x.X != expr {
				break climb
			}
			switch info.TypeOf(x.X).Underlying().(type) {
			case *types.Map, *types.Slice:
				steps = append(steps, accessStep{indirect: true, elem: true})
			case *types.Pointer: // pointer to array
				steps = append(steps, accessStep{indirect: true}, accessStep{})
			case *types.Array:
				steps = append(steps, accessStep{})
			default: // a string byte, or a generic function's instance
				break climb
			}
		case *ast.SliceExpr:
			if x.X != expr {
				break climb
			}
			if _, isArr := info.TypeOf(x.X).Underlying().(*types.Array); !isArr {
				steps = append(steps, accessStep{indirect: true})
			}
		case *ast.TypeAssertExpr:
			if x.X != expr || x.Type == nil {
				break climb
			}
		case *ast.CallExpr:
			if !info.Types[x.Fun].IsType() || len(x.Args) != 1 {
				break climb
			}
			if isUnsafePointer(info.TypeOf(x)) {
				w.may(al, steps, expr, "converts "+w.path(expr)+" to unsafe.Pointer, which reaches any field")
				return
			}
		default:
			break climb
		}
		expr = stack[i].(ast.Expr)
	}
	w.context(expr, al, steps, stack[:i+1])
}

// context classifies the use of the access path e (al through steps);
// ancestors holds e's ancestors, innermost last.
func (w *writeWalker) context(e ast.Expr, al alias, steps []accessStep, ancestors []ast.Node) {
	for len(ancestors) > 0 {
		p, ok := ancestors[len(ancestors)-1].(*ast.ParenExpr)
		if !ok {
			break
		}
		e, ancestors = p, ancestors[:len(ancestors)-1]
	}
	var parent ast.Node
	var outer []ast.Node
	if len(ancestors) > 0 {
		parent, outer = ancestors[len(ancestors)-1], ancestors[:len(ancestors)-1]
	}
	info := w.p.info
	switch x := parent.(type) {
	case nil, *ast.ExprStmt, *ast.BinaryExpr, *ast.IfStmt, *ast.ForStmt, *ast.SwitchStmt, *ast.CaseClause, *ast.IncDecStmt, *ast.AssignStmt:
		// Handled below.
	case *ast.UnaryExpr:
		if x.Op == token.AND {
			w.addressed(x, al, steps, outer)
			return
		}
		if x.Op == token.ARROW {
			return // a receive reads the channel
		}
		return // !, -, ^, +: values
	case *ast.SelectorExpr:
		w.selected(x, e, al, steps, outer)
		return
	case *ast.CallExpr:
		w.argument(x, e, al, steps, outer)
		return
	case *ast.IndexExpr:
		if x.Index == e { // a map key or an index
			w.flows(e, al, steps, "used as a map key")
		}
		return
	case *ast.RangeStmt:
		w.ranged(x, e, al, steps)
		return
	case *ast.ValueSpec:
		for i, v := range x.Values {
			if v == e && i < len(x.Names) && len(x.Values) == len(x.Names) {
				w.bind(info.Defs[x.Names[i]], e, al, steps)
				return
			}
		}
		w.flows(e, al, steps, "assigned in a multiple declaration")
		return
	case *ast.TypeSwitchStmt, *ast.TypeAssertExpr:
		w.flows(e, al, steps, "switched on by type")
		return
	case *ast.KeyValueExpr, *ast.CompositeLit:
		w.flows(e, al, steps, "stored in a composite literal")
		return
	case *ast.ReturnStmt:
		w.flows(e, al, steps, "returned")
		return
	case *ast.SendStmt:
		if x.Value == e {
			w.flows(e, al, steps, "sent on a channel")
		}
		return
	case *ast.GoStmt, *ast.DeferStmt:
		return // their call is the parent of the callee
	default:
		w.flows(e, al, steps, "used where the analysis does not follow it")
		return
	}
	switch x := parent.(type) {
	case *ast.IncDecStmt:
		w.write(e, al, steps, WriteAssign)
	case *ast.AssignStmt:
		if idx := slices.Index(x.Lhs, e); idx >= 0 {
			if x.Tok == token.DEFINE {
				return // a new variable, not a use
			}
			if len(steps) == 0 && w.isLocal(e) {
				return // the variable itself is aimed elsewhere
			}
			w.write(e, al, steps, WriteAssign)
			return
		}
		idx := slices.Index(x.Rhs, e)
		if idx == 0 && len(x.Rhs) == 1 && len(x.Lhs) == 2 && commaOK(e) {
			idx = 0 // v, ok := m[k], x.(T) or <-c: v takes the value
		} else if idx < 0 || len(x.Lhs) != len(x.Rhs) {
			w.flows(e, al, steps, "assigned in a multiple assignment")
			return
		}
		lhs := x.Lhs[idx]
		if id, ok := ast.Unparen(lhs).(*ast.Ident); ok && id.Name == "_" {
			return
		}
		if x.Tok == token.DEFINE || x.Tok == token.ASSIGN {
			if obj := w.localObj(lhs); obj != nil {
				w.bind(obj, e, al, steps)
				return
			}
			if _, field, _ := landing(al, steps); field != "" && w.storesInto(lhs) == field {
				return // st.F = append(st.F, v): the write of F is recorded
			}
			w.flows(e, al, steps, "stored in "+types.ExprString(lhs))
			return
		}
		// x op= e: e's value is combined, not stored.
	}
}

// storesInto returns the top-level state field the assignable expression
// lhs lands in, or "" when it is not (known to be) in the state.
func (w *writeWalker) storesInto(lhs ast.Expr) string {
	var sels []string
	e := lhs
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.SelectorExpr:
			sels = append(sels, x.Sel.Name)
			e = x.X
			continue
		case *ast.IndexExpr:
			e = x.X
			continue
		case *ast.StarExpr:
			e = x.X
			continue
		case *ast.Ident:
			als := w.aliases[w.p.info.Uses[x]]
			if len(als) != 1 {
				return ""
			}
			if als[0].field != "" {
				return als[0].field
			}
			if als[0].ptr && len(sels) > 0 {
				return sels[len(sels)-1]
			}
		}
		return ""
	}
}

// write records a precise write of the path e.
func (w *writeWalker) write(e ast.Expr, al alias, steps []accessStep, kind WriteKind) {
	in, field, elem := landing(al, steps)
	if !in {
		return // a local copy
	}
	if elem && kind == WriteAssign {
		kind = WriteElem
	}
	pos := w.s.a.pos(e.Pos()).String()
	if field == "" {
		w.record(StateWrite{Kind: WriteAll, Path: w.path(e), Reason: "the whole state is assigned", Pos: pos})
		return
	}
	w.record(StateWrite{Field: field, Path: w.path(e), Kind: kind, Pos: pos})
}

// may records that what e reaches may be written, for reason.
func (w *writeWalker) may(al alias, steps []accessStep, e ast.Expr, reason string) {
	_, field, _ := landing(al, steps)
	pos := w.s.a.pos(e.Pos()).String()
	if field == "" {
		w.record(StateWrite{Kind: WriteAll, Path: w.path(e), Reason: reason, Pos: pos})
		return
	}
	w.record(StateWrite{Field: field, Path: w.path(e), Kind: WriteMay, Reason: reason, Pos: pos})
}

// flows handles e's value going where the analysis does not follow: a
// write of what it reaches when it carries a reference into the state.
func (w *writeWalker) flows(e ast.Expr, al alias, steps []accessStep, how string) {
	if !w.shares(e, al, steps) {
		return
	}
	w.may(al, steps, e, w.path(e)+" is "+how)
}

// shares reports whether the value of the path e reaches state memory.
func (w *writeWalker) shares(e ast.Expr, al alias, steps []accessStep) bool {
	if len(steps) == 0 && al.ptr {
		return true
	}
	return mayRefer(w.p.info.TypeOf(e))
}

// bind makes the variable obj refer to what e refers to, when e's value
// carries a reference into the state.
func (w *writeWalker) bind(obj types.Object, e ast.Expr, al alias, steps []accessStep) {
	if obj == nil {
		w.flows(e, al, steps, "stored")
		return
	}
	if !w.isLocalObj(obj) {
		w.flows(e, al, steps, "stored in "+obj.Name())
		return
	}
	if !w.shares(e, al, steps) {
		return
	}
	if len(steps) == 0 {
		w.addAlias(obj, al)
		return
	}
	_, field, _ := landing(al, steps)
	w.addAlias(obj, alias{field: field})
}

// addressed handles &e, whose ancestors are outer.
func (w *writeWalker) addressed(u *ast.UnaryExpr, al alias, steps []accessStep, outer []ast.Node) {
	in, field, _ := landing(al, steps)
	if !in {
		return // the address of a local copy
	}
	// The pointer flows on: its context decides, as for any reference.
	w.context(u, alias{field: field, ptr: true}, nil, outer)
}

// selected handles e.Name where Name is a method (e is its receiver).
func (w *writeWalker) selected(x *ast.SelectorExpr, e ast.Expr, al alias, steps []accessStep, outer []ast.Node) {
	info := w.p.info
	sel, ok := info.Selections[x]
	if !ok {
		return // a qualified identifier cannot have a variable as X
	}
	m, ok := sel.Obj().(*types.Func)
	if !ok {
		return
	}
	sig := m.Type().(*types.Signature)
	what := "the method value " + types.ExprString(x)
	if call := callOf(x, outer); call != nil {
		what = "the call " + types.ExprString(call)
	}
	if _, isIface := sel.Recv().Underlying().(*types.Interface); isIface || sig.Recv() == nil {
		w.may(al, steps, e, what+" calls an interface method, which may write what it reaches")
		return
	}
	// A promoted method is called on the embedded field: e.M() is
	// e.Embedded.M(), so its receiver is that field, not e.
	recvType := info.TypeOf(e)
	if idx := sel.Index(); len(idx) > 1 {
		steps = slices.Clip(steps)
		for _, fi := range idx[:len(idx)-1] {
			if p, ok := recvType.Underlying().(*types.Pointer); ok {
				steps = append(steps, accessStep{indirect: true})
				recvType = p.Elem()
			}
			st, ok := recvType.Underlying().(*types.Struct)
			if !ok {
				w.may(al, steps, e, what+" goes through an embedded field the analysis cannot follow")
				return
			}
			f := st.Field(fi)
			steps = append(steps, accessStep{sel: f.Name()})
			recvType = f.Type()
		}
	}
	_, ptrRecv := sig.Recv().Type().Underlying().(*types.Pointer)
	_, ptrExpr := recvType.Underlying().(*types.Pointer)
	if !ptrRecv && !mayRefer(sig.Recv().Type()) {
		return // the method works on a copy that reaches nothing
	}
	recvAl := al
	recvSteps := steps
	if ptrRecv && !ptrExpr {
		// e.M() is (&e).M().
		in, field, _ := landing(al, steps)
		if !in {
			return // a method on a local copy
		}
		recvAl, recvSteps = alias{field: field, ptr: true}, nil
	} else if !w.shares(e, al, steps) {
		return
	}
	w.callee(m, -1, recvAl, recvSteps, e, what)
}

// callOf returns the call whose function is the selector x, or nil.
func callOf(x *ast.SelectorExpr, outer []ast.Node) *ast.CallExpr {
	for i := len(outer) - 1; i >= 0; i-- {
		switch p := outer[i].(type) {
		case *ast.ParenExpr:
			continue
		case *ast.CallExpr:
			if ast.Unparen(p.Fun) == x {
				return p
			}
		}
		return nil
	}
	return nil
}

// argument handles e as the function or an argument of the call x.
func (w *writeWalker) argument(x *ast.CallExpr, e ast.Expr, al alias, steps []accessStep, outer []ast.Node) {
	info := w.p.info
	if ast.Unparen(x.Fun) == e {
		// A function value held in the state may do anything it captured.
		in, field, _ := landing(al, steps)
		if in || mayRefer(info.TypeOf(e)) {
			pos := w.s.a.pos(e.Pos()).String()
			w.record(StateWrite{Kind: WriteAll, Path: w.path(e), Reason: "calls the function value " + w.path(e) + " held in the state" + fieldNote(field), Pos: pos})
		}
		return
	}
	if info.Types[x.Fun].IsType() {
		// A conversion: unsafe.Pointer reaches any field; any other keeps
		// referring where e does.
		if isUnsafePointer(info.TypeOf(x)) {
			w.may(alias{ptr: al.ptr}, nil, e, "converts "+w.path(e)+" to unsafe.Pointer, which reaches any field")
			return
		}
		w.context(x, al, steps, outer)
		return
	}
	argIdx := slices.Index(x.Args, e)
	switch w.builtin(x) {
	case "":
	case "len", "cap", "min", "max", "print", "println", "real", "imag", "complex", "new", "make":
		return
	case "delete", "clear":
		w.write(e, al, append(slices.Clip(steps), accessStep{indirect: true, elem: true}), WriteElem)
		return
	case "copy":
		if argIdx == 0 {
			w.write(e, al, append(slices.Clip(steps), accessStep{indirect: true, elem: true}), WriteElem)
		} else if s, ok := info.TypeOf(e).Underlying().(*types.Slice); ok && mayRefer(s.Elem()) {
			w.may(al, steps, e, "its elements, which refer into the state, are copied out of "+w.path(e))
		}
		return
	case "append":
		if argIdx == 0 {
			// append writes the backing array beyond the length when it
			// has room, and its result shares it.
			w.write(e, al, append(slices.Clip(steps), accessStep{indirect: true, elem: true}), WriteElem)
			w.context(x, al, append(slices.Clip(steps), accessStep{indirect: true}), outer)
			return
		}
		if x.Ellipsis.IsValid() && argIdx == len(x.Args)-1 {
			if s, ok := info.TypeOf(e).Underlying().(*types.Slice); ok && !mayRefer(s.Elem()) {
				return
			}
		}
		w.flows(e, al, steps, "appended to a slice")
		return
	case "panic":
		w.flows(e, al, steps, "passed to panic")
		return
	default:
		w.flows(e, al, steps, "passed to "+w.builtin(x))
		return
	}
	fn := w.calleeObj(x.Fun)
	name := types.ExprString(x.Fun)
	if f, ok := fn.(*types.Func); ok && f.Pkg() != nil && f.Pkg().Path() == "unsafe" {
		w.may(alias{ptr: al.ptr}, nil, e, name+" is given "+w.path(e)+", and unsafe reaches any field")
		return
	}
	if !w.shares(e, al, steps) {
		return
	}
	if f, ok := fn.(*types.Func); ok && readOnlyCall(f, info.TypeOf(e)) {
		return
	}
	if f, ok := fn.(*types.Func); ok && argIdx >= 0 && !x.Ellipsis.IsValid() {
		sig := f.Type().(*types.Signature)
		if sig.Recv() != nil {
			argIdx-- // a method expression: the receiver comes first
		}
		if argIdx < sig.Params().Len() && !(sig.Variadic() && argIdx >= sig.Params().Len()-1) {
			in, field, _ := landing(al, steps)
			calleeAl := alias{field: field, ptr: in && len(steps) > 0}
			if len(steps) == 0 {
				calleeAl = al
			}
			w.callee(f, argIdx, calleeAl, nil, e, "the call "+types.ExprString(x))
			return
		}
	}
	w.may(al, steps, e, w.path(e)+" is passed to "+name+", which the analysis cannot follow")
}

// callee follows a call of fn that receives the state as al (through
// steps) in its parameter idx (-1: the receiver), when fn's source is
// loaded; otherwise what the argument reaches counts as written.
func (w *writeWalker) callee(fn *types.Func, idx int, al alias, steps []accessStep, e ast.Expr, what string) {
	if w.collect {
		return
	}
	fn = fn.Origin()
	p := w.s.a.byPath[pkgPathOf(fn)]
	var decl *ast.FuncDecl
	if p != nil {
		decl = p.funcs[objFuncKey(fn)]
	}
	if decl == nil || decl.Body == nil {
		reason := what + " goes to code whose source is not loaded"
		if p != nil {
			reason = what + " goes to a function whose body is not available"
		} else {
			w.s.a.needSource(pkgPathOf(fn))
		}
		w.may(al, steps, e, reason)
		return
	}
	obj := paramObject(p, decl, idx)
	if obj == nil {
		return // the callee never names it
	}
	if len(steps) > 0 {
		in, field, _ := landing(al, steps)
		al = alias{field: field, ptr: in}
	}
	key := pkgPathOf(fn) + "|" + objFuncKey(fn) + "|" + al.field + "|" + strconv.FormatBool(al.ptr) + "|" + strconv.Itoa(idx)
	if w.s.active[key] {
		return // a recursive call: its writes are being recorded already
	}
	w.s.active[key] = true
	defer delete(w.s.active, key)
	r := &writeResult{}
	via := what + " at " + w.s.a.pos(e.Pos()).String()
	if w.via != "" {
		via = w.via + ", then " + via
	}
	w.s.body(p, decl.Body, obj, al, r, via)
	for _, sw := range r.writes {
		w.record(sw)
	}
}

// ranged handles e as the ranged expression of x.
func (w *writeWalker) ranged(x *ast.RangeStmt, e ast.Expr, al alias, steps []accessStep) {
	info := w.p.info
	if x.X != e {
		// e is the key or value: written each iteration with =.
		if x.Tok == token.ASSIGN {
			w.write(e, al, steps, WriteAssign)
		}
		return
	}
	t := info.TypeOf(e)
	if _, isFunc := t.Underlying().(*types.Signature); isFunc {
		w.may(al, steps, e, "ranges over the function value "+w.path(e))
		return
	}
	in, field, _ := landing(al, steps)
	if !in && !mayRefer(t) {
		return
	}
	for _, v := range []ast.Expr{x.Key, x.Value} {
		if v == nil || !mayRefer(info.TypeOf(v)) {
			continue
		}
		if x.Tok == token.DEFINE {
			if obj := info.Defs[identOf(v)]; obj != nil {
				w.addAlias(obj, alias{field: field})
			}
			continue
		}
		if obj := w.localObj(v); obj != nil {
			w.addAlias(obj, alias{field: field})
			continue
		}
		w.may(al, steps, e, "its elements are stored in "+types.ExprString(v))
	}
}

// commaOK reports whether e is a map index, type assertion or receive, the
// expressions that may be assigned with a second, boolean result.
func commaOK(e ast.Expr) bool {
	switch x := ast.Unparen(e).(type) {
	case *ast.IndexExpr, *ast.TypeAssertExpr:
		return true
	case *ast.UnaryExpr:
		return x.Op == token.ARROW
	}
	return false
}

func identOf(e ast.Expr) *ast.Ident {
	id, _ := ast.Unparen(e).(*ast.Ident)
	return id
}

// isLocal reports whether e names a local variable.
func (w *writeWalker) isLocal(e ast.Expr) bool { return w.localObj(e) != nil }

// localObj returns the local variable e names, or nil.
func (w *writeWalker) localObj(e ast.Expr) types.Object {
	id := identOf(e)
	if id == nil || id.Name == "_" {
		return nil
	}
	obj := w.p.info.ObjectOf(id)
	if !w.isLocalObj(obj) {
		return nil
	}
	return obj
}

func (w *writeWalker) isLocalObj(obj types.Object) bool {
	v, ok := obj.(*types.Var)
	return ok && !v.IsField() && v.Pkg() != nil && v.Parent() != nil && v.Parent() != v.Pkg().Scope()
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
	return true, field, elem
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
		if sel, ok := w.p.info.Selections[f]; ok && sel.Kind() != types.MethodExpr {
			return nil // a method call: its receiver is handled as a selection
		}
		return w.p.info.Uses[f.Sel]
	case *ast.IndexExpr:
		return w.calleeObj(f.X)
	case *ast.IndexListExpr:
		return w.calleeObj(f.X)
	}
	return nil
}

// readOnlyCall reports standard library functions known to only read their
// argument of type t: they neither write through it nor call user methods
// on it (fmt calls String and Error, encoding/json MarshalJSON), nor return
// it.
func readOnlyCall(f *types.Func, t types.Type) bool {
	if f.Pkg() == nil || f.Type().(*types.Signature).Recv() != nil {
		return false
	}
	switch f.Pkg().Path() + "." + f.Name() {
	case "fmt.Sprint", "fmt.Sprintf", "fmt.Sprintln", "fmt.Errorf", "fmt.Print", "fmt.Printf", "fmt.Println",
		"encoding/json.Marshal", "encoding/json.MarshalIndent", "reflect.DeepEqual":
		// These reach user code only through methods.
		return !hasUserMethods(t, map[types.Type]bool{})
	case "strings.Join", "strings.Contains", "strings.HasPrefix", "strings.HasSuffix", "strings.EqualFold",
		"slices.Contains", "slices.Index", "slices.Equal", "maps.Equal", "bytes.Equal", "bytes.Contains":
		// Comparisons with ==, which never calls user code.
		return true
	}
	return false
}

// hasUserMethods reports whether a value of type t may reach a value whose
// type has methods declared outside the standard library (or an interface,
// whose dynamic value may have some).
func hasUserMethods(t types.Type, visiting map[types.Type]bool) bool {
	if visiting[t] {
		return false
	}
	visiting[t] = true
	if n, ok := t.(*types.Named); ok && n.Obj().Pkg() != nil && !isStdlib(n.Obj().Pkg().Path()) {
		if n.NumMethods() > 0 {
			return true
		}
		if types.NewMethodSet(types.NewPointer(n)).Len() > 0 {
			return true
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Interface, *types.TypeParam, *types.Signature:
		return true
	case *types.Pointer:
		return hasUserMethods(u.Elem(), visiting)
	case *types.Slice:
		return hasUserMethods(u.Elem(), visiting)
	case *types.Array:
		return hasUserMethods(u.Elem(), visiting)
	case *types.Map:
		return hasUserMethods(u.Key(), visiting) || hasUserMethods(u.Elem(), visiting)
	case *types.Chan:
		return hasUserMethods(u.Elem(), visiting)
	case *types.Struct:
		for i := range u.NumFields() {
			if hasUserMethods(u.Field(i).Type(), visiting) {
				return true
			}
		}
	}
	return false
}

// isStdlib reports whether an import path is the standard library's: its
// first element has no dot.
func isStdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// mayRefer reports whether a value of type t may refer to other memory:
// through a pointer, slice, map, channel, function, interface or
// unsafe.Pointer, at any depth.
func mayRefer(t types.Type) bool {
	if t == nil {
		return true
	}
	return mayReferIn(t, map[types.Type]bool{})
}

func mayReferIn(t types.Type, visiting map[types.Type]bool) bool {
	switch u := t.Underlying().(type) {
	case *types.Pointer, *types.Slice, *types.Map, *types.Interface, *types.TypeParam, *types.Chan, *types.Signature:
		return true
	case *types.Basic:
		return u.Kind() == types.UnsafePointer
	case *types.Array:
		return mayReferIn(u.Elem(), visiting)
	case *types.Struct:
		if visiting[t] {
			return false
		}
		visiting[t] = true
		for i := range u.NumFields() {
			if mayReferIn(u.Field(i).Type(), visiting) {
				return true
			}
		}
	case *types.Tuple:
		for i := range u.Len() {
			if mayReferIn(u.At(i).Type(), visiting) {
				return true
			}
		}
	}
	return false
}

func isUnsafePointer(t types.Type) bool {
	b, ok := t.(*types.Basic)
	return ok && b.Kind() == types.UnsafePointer
}

func (w *writeWalker) record(sw StateWrite) {
	if w.collect {
		return
	}
	if w.via != "" && !strings.Contains(sw.Reason, w.via) {
		if sw.Reason == "" {
			sw.Reason = "reached from " + w.via
		} else {
			sw.Reason += ", reached from " + w.via
		}
	}
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

// path renders an expression from the state: "Counts[key]" for
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

func fieldNote(field string) string {
	if field == "" {
		return ""
	}
	return " (field " + field + ")"
}

// objFuncKey is how pkgInfo.funcs names f: "Name" or "Recv.Name".
func objFuncKey(f *types.Func) string {
	sig := f.Type().(*types.Signature)
	if sig.Recv() == nil {
		return f.Name()
	}
	t := sig.Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := t.(*types.Named); ok {
		return n.Obj().Name() + "." + f.Name()
	}
	return f.Name()
}

// comparePos orders "file:line:col" positions numerically.
func comparePos(a, b string) int {
	fa, la, ca := parsePos(a)
	fb, lb, cb := parsePos(b)
	return cmp.Or(cmp.Compare(fa, fb), cmp.Compare(la, lb), cmp.Compare(ca, cb))
}
