package analysis

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"slices"
	"time"

	"github.com/flujo/flujo/internal/dsl"
)

// dslFunc is a function or method of the DSL package.
type dslFunc uint8

const (
	dslNone dslFunc = iota
	dslStep
	dslStepS
	dslFunc_
	dslPipeline
	dslParallel
	dslLoop
	dslBranch
	dslMap
	dslWith
)

// dslFuncNamed maps a package-level function of the DSL package to its
// dslFunc; the caller has established that the object is that package's.
func dslFuncNamed(name string) dslFunc {
	switch name {
	case "Step":
		return dslStep
	case "StepS":
		return dslStepS
	case "Func":
		return dslFunc_
	case "Pipeline":
		return dslPipeline
	case "Parallel":
		return dslParallel
	case "Loop":
		return dslLoop
	case "Branch":
		return dslBranch
	case "Map":
		return dslMap
	}
	if o := dsl.Named(name); o != 0 {
		return dslWith + dslFunc(o)
	}
	return dslNone
}

func (f dslFunc) isNode() bool   { return f >= dslStep && f <= dslMap }
func (f dslFunc) isOption() bool { return f > dslWith }

func (f dslFunc) kind() Kind {
	return [...]Kind{dslStep: KindStep, dslStepS: KindStepS, dslFunc_: KindFunc, dslPipeline: KindPipeline,
		dslParallel: KindParallel, dslLoop: KindLoop, dslBranch: KindBranch, dslMap: KindMap}[f]
}

// option is the rule table's option kind of an option function.
func (f dslFunc) option() dsl.Option { return dsl.Option(f - dslWith) }

// callee tells which DSL function a call's function expression denotes,
// by the object it refers to, and returns the identifier that names it
// (the key of its instantiation).
func (a *analyzer) callee(p *pkgInfo, fun ast.Expr) (dslFunc, *ast.Ident) {
	fun = ast.Unparen(fun)
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = ast.Unparen(f.X)
	case *ast.IndexListExpr:
		fun = ast.Unparen(f.X)
	}
	var id *ast.Ident
	switch f := fun.(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return dslNone, nil
	}
	obj, ok := p.info.Uses[id].(*types.Func)
	if !ok || obj.Pkg() == nil || obj.Pkg().Path() != FlujoPath {
		return dslNone, id
	}
	sig := obj.Type().(*types.Signature)
	if recv := sig.Recv(); recv != nil {
		if obj.Name() == "With" && types.IsInterface(recv.Type()) {
			return dslWith, id
		}
		return dslNone, id
	}
	if obj.Pkg().Scope().Lookup(obj.Name()) != obj {
		return dslNone, id
	}
	return dslFuncNamed(obj.Name()), id
}

// nodeBuild is a node as found in the source, with the go/types facts the
// checks need. A declaration referred to twice is built twice: each use
// has its own place in its pipeline.
type nodeBuild struct {
	kind Kind
	name string
	pkg  *pkgInfo
	// pos is the DSL call that declares the node; use is where its parent
	// (or the pipeline variable) refers to it. Errors about the node's
	// place in a pipeline point at use.
	pos, use position
	// varName is the package-level variable the node was taken from.
	varName string
	in, out types.Type
	state   types.Type
	opts    []*optionVal
	// children as in Node.Children; nil entries stand for nodes that could
	// not be read (already reported) or nil literals (nilChild).
	children []*nodeBuild
	nilChild []bool
	fn       *funcArg // leaf function
	join     *funcArg
	until    *funcArg
	chooser  *funcArg
	keys     []string
	// casesBad is set when the cases argument could not be read.
	casesBad bool
	// spread is set when the call's arguments are spread from a slice, so
	// its children are unknown.
	spread  bool
	elemIn  types.Type
	elemOut types.Type
}

// optionVal is one option as written.
type optionVal struct {
	fn       dsl.Option
	pos      position
	n        int64
	d1, d2   time.Duration
	node     *nodeBuild
	nodeNil  bool
	validate *funcArg
	counts   *funcArg // BreakerCounts's function
	vtype    types.Type
	bad      bool // its arguments could not be read; reported already
}

// funcArg is a function argument of a DSL call, resolved.
type funcArg struct {
	ref   FuncRef
	obj   *types.Func
	sig   *types.Signature // the argument's type
	typ   types.Type
	pos   position
	isNil bool
	bad   bool // not a named function; reported already
}

// walk calls f on n and every node it may run, fallbacks and defaults
// included.
func (n *nodeBuild) walk(f func(*nodeBuild)) {
	if n == nil {
		return
	}
	f(n)
	for _, c := range n.children {
		c.walk(f)
	}
	for _, o := range n.opts {
		if o.node != nil {
			o.node.walk(f)
		}
	}
}

// describe names a node as messages do: `step "classify"`, `parallel "enrich"`.
func (n *nodeBuild) describe() string { return dsl.Describe(n.kind.dsl(), n.name) }

// varNode builds the node a package-level variable declares; use is the
// expression that refers to it.
func (a *analyzer) varNode(v *varDecl, use ast.Expr) *nodeBuild {
	if a.building[v] {
		a.errorf(a.pos(use.Pos()), "%s refers to itself through its own declaration", v.name.Name)
		return nil
	}
	a.building[v] = true
	defer delete(a.building, v)
	n := a.node(v.pkg, v.init, "variable "+v.name.Name)
	if n == nil {
		return nil
	}
	if n.varName == "" {
		n.varName = v.name.Name
	}
	n.use = a.pos(use.Pos())
	return n
}

// node builds the node expression e of package p declares. what names e
// for messages ("node 2 of pipeline \"triage\""). It returns nil when e is
// not a node the analysis can read; the problem has been reported then,
// except for a nil literal, which the caller reports in its own words.
func (a *analyzer) node(p *pkgInfo, e ast.Expr, what string) *nodeBuild {
	e = ast.Unparen(e)
	if tv, ok := p.info.Types[e]; ok && tv.IsNil() {
		return nil
	}
	switch x := e.(type) {
	case *ast.Ident, *ast.SelectorExpr:
		id, _ := x.(*ast.Ident)
		if s, ok := x.(*ast.SelectorExpr); ok {
			if _, ok := p.info.Selections[s]; ok {
				a.errorf(a.pos(e.Pos()), "%s is the field or method %s, a value known only at run time; declare the node in a package-level var with the DSL and use that variable", what, types.ExprString(e))
				return nil
			}
			id = s.Sel
		}
		obj, ok := p.info.Uses[id].(*types.Var)
		if !ok || obj.Pkg() == nil || obj.Parent() != obj.Pkg().Scope() {
			a.errorf(a.pos(e.Pos()), "%s is %s, a value known only at run time; declare the node in a package-level var with the DSL and use that variable", what, types.ExprString(e))
			return nil
		}
		dp := a.byPath[obj.Pkg().Path()]
		if dp == nil {
			// A package of the module is loaded and read on the next round
			// (needSource); one of another module is not read.
			a.needSource(obj.Pkg().Path())
			a.errorf(a.pos(e.Pos()), "%s refers to %s, declared in package %s of another module, whose declarations flujogen does not read; declare the node in this module", what, types.ExprString(e), obj.Pkg().Path())
			return nil
		}
		v := dp.vars[obj.Name()]
		if v != nil && isRef(v.init) {
			return a.varNode(v, e) // var A = B: B's node
		}
		if v == nil || !a.isNodeDecl(dp, v.init) {
			a.errorf(a.pos(e.Pos()), "%s refers to variable %s, which is not initialised with a flujo DSL call; flujogen reads nodes from their declarations, so initialise it with flujo.Step, flujo.Pipeline or another DSL function", what, types.ExprString(e))
			return nil
		}
		return a.varNode(v, e)
	case *ast.CallExpr:
		fn, id := a.callee(p, x.Fun)
		switch {
		case fn.isNode():
			return a.construct(p, x, fn, id)
		case fn == dslWith:
			base := a.node(p, x.Fun.(*ast.SelectorExpr).X, what)
			if base == nil {
				return nil
			}
			a.spread(p, x, base.describe()+": With")
			base.opts = append(base.opts, a.options(p, x.Args, base)...)
			return base
		}
		a.errorf(a.pos(e.Pos()), "%s is computed at run time by calling %s; flujogen reads nodes from their declarations, so declare it with the DSL in a package-level var", what, types.ExprString(x.Fun))
		return nil
	case *ast.FuncLit:
		a.errorf(a.pos(e.Pos()), "%s is a func literal, not a node", what)
		return nil
	}
	a.errorf(a.pos(e.Pos()), "%s (%s) is not a node declared with the DSL", what, types.ExprString(e))
	return nil
}

// isRef reports whether e names something, as a variable initialised with
// another variable does.
func isRef(e ast.Expr) bool {
	switch ast.Unparen(e).(type) {
	case *ast.Ident, *ast.SelectorExpr:
		return true
	}
	return false
}

// spread reports a call whose last argument is spread with "...": the
// analysis needs every argument written out.
func (a *analyzer) spread(p *pkgInfo, call *ast.CallExpr, what string) {
	if call.Ellipsis.IsValid() {
		a.errorf(a.pos(call.Ellipsis), "%s: the arguments are spread from a slice with ...; write each one in the call so flujogen can read it", what)
	}
}

// construct builds the node a DSL constructor call declares.
func (a *analyzer) construct(p *pkgInfo, call *ast.CallExpr, fn dslFunc, id *ast.Ident) *nodeBuild {
	n := &nodeBuild{kind: fn.kind(), pkg: p, pos: a.pos(call.Pos())}
	n.use = n.pos
	args := call.Args
	n.name = a.nodeName(p, args[0], fn)
	// The type arguments of the instantiation; missing ones (never, for a
	// package that type-checks) stay nil, which the checks skip.
	targs := make([]types.Type, 3)
	if inst, ok := p.info.Instances[id]; ok {
		for i := range min(inst.TypeArgs.Len(), len(targs)) {
			targs[i] = inst.TypeArgs.At(i)
		}
	}
	desc := n.describe()
	if call.Ellipsis.IsValid() {
		a.spread(p, call, desc)
		args = args[:len(args)-1]
		n.spread = true
	}
	var optArgs []ast.Expr
	switch fn {
	case dslStep, dslStepS, dslFunc_:
		n.in, n.out = targs[0], targs[1]
		if fn == dslStepS {
			n.state = targs[2]
		}
		n.fn = a.funcArg(p, args[1], desc, "function")
		optArgs = args[2:]
	case dslPipeline:
		for i, c := range args[1:] {
			n.addChild(a.node(p, c, fmt.Sprintf("%s: node %d", desc, i+1)), p, c)
		}
		if len(n.children) > 0 {
			first, last := n.children[0], n.children[len(n.children)-1]
			if first != nil && last != nil {
				n.in, n.out = first.in, last.out
			}
		}
	case dslParallel:
		n.join = a.funcArg(p, args[1], desc, "join function")
		for i, c := range args[2:] {
			n.addChild(a.node(p, c, fmt.Sprintf("%s: branch %d", desc, i+1)), p, c)
		}
		if len(n.children) > 0 && n.children[0] != nil {
			n.in = n.children[0].in
		}
		if n.join.sig != nil && n.join.sig.Results().Len() >= 1 {
			n.out = n.join.sig.Results().At(0).Type()
		}
	case dslLoop:
		n.in, n.out = targs[0], targs[0]
		n.addChild(a.node(p, args[1], desc+": body"), p, args[1])
		n.until = a.funcArg(p, args[2], desc, "until predicate")
		optArgs = args[3:]
	case dslBranch:
		n.in = targs[0]
		n.chooser = a.funcArg(p, args[1], desc, "chooser")
		a.cases(p, n, args[2])
		optArgs = args[3:]
		for _, c := range n.children {
			if c != nil {
				n.out = c.out
				break
			}
		}
	case dslMap:
		n.elemIn, n.elemOut = targs[0], targs[1]
		if targs[0] != nil && targs[1] != nil {
			n.in, n.out = types.NewSlice(targs[0]), types.NewSlice(targs[1])
		}
		n.addChild(a.node(p, args[1], desc+": body"), p, args[1])
		optArgs = args[2:]
	}
	n.opts = a.options(p, optArgs, n)
	if fn == dslBranch && n.out == nil {
		if d := n.lastOpt(dsl.Default); d != nil && d.node != nil {
			n.out = d.node.out
		}
	}
	return n
}

func (n *nodeBuild) addChild(c *nodeBuild, p *pkgInfo, e ast.Expr) {
	n.children = append(n.children, c)
	tv := p.info.Types[ast.Unparen(e)]
	n.nilChild = append(n.nilChild, c == nil && tv.IsNil())
}

// lastOpt returns the node's last option of a kind, or nil.
func (n *nodeBuild) lastOpt(fn dsl.Option) *optionVal {
	for i := len(n.opts) - 1; i >= 0; i-- {
		if n.opts[i].fn == fn {
			return n.opts[i]
		}
	}
	return nil
}

// nodeName reads the name argument, which must be a constant string.
func (a *analyzer) nodeName(p *pkgInfo, e ast.Expr, fn dslFunc) string {
	tv := p.info.Types[e]
	if tv.Value == nil || tv.Value.Kind() != constant.String {
		a.errorf(a.pos(e.Pos()), "%s name (%s) is not a constant; flujogen reads names from the source, so write a string constant such as \"classify\"", fn.kind(), types.ExprString(e))
		return types.ExprString(e)
	}
	return constant.StringVal(tv.Value)
}

// cases reads a Branch's cases, which must be a map literal.
func (a *analyzer) cases(p *pkgInfo, n *nodeBuild, e ast.Expr) {
	e = ast.Unparen(e)
	if tv := p.info.Types[e]; tv.IsNil() {
		return
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		a.errorf(a.pos(e.Pos()), "%s: the cases are %s; write them as a map literal, map[string]flujo.Node{...}, so flujogen can read them", n.describe(), types.ExprString(e))
		n.casesBad = true
		return
	}
	type kase struct {
		key  string
		expr ast.Expr
	}
	var cs []kase
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		tv := p.info.Types[kv.Key]
		if tv.Value == nil || tv.Value.Kind() != constant.String {
			a.errorf(a.pos(kv.Key.Pos()), "%s: case key %s is not a constant; write a string constant", n.describe(), types.ExprString(kv.Key))
			n.casesBad = true
			continue
		}
		cs = append(cs, kase{constant.StringVal(tv.Value), kv.Value})
	}
	slices.SortFunc(cs, func(x, y kase) int {
		if x.key < y.key {
			return -1
		}
		if x.key > y.key {
			return 1
		}
		return 0
	})
	for _, c := range cs {
		n.keys = append(n.keys, c.key)
		n.addChild(a.node(p, c.expr, fmt.Sprintf("%s: case %q", n.describe(), c.key)), p, c.expr)
	}
}

// options reads option arguments. Each must be a call of a DSL option
// function, or a package-level variable initialised with one.
func (a *analyzer) options(p *pkgInfo, args []ast.Expr, n *nodeBuild) []*optionVal {
	var out []*optionVal
	for _, e := range args {
		if o := a.option(p, ast.Unparen(e), n, 0); o != nil {
			out = append(out, o)
		}
	}
	return out
}

func (a *analyzer) option(p *pkgInfo, e ast.Expr, n *nodeBuild, depth int) *optionVal {
	desc := n.describe()
	switch x := e.(type) {
	case *ast.CallExpr:
		fn, id := a.callee(p, x.Fun)
		if fn.isOption() {
			return a.optionCall(p, x, fn, id, n)
		}
	case *ast.Ident, *ast.SelectorExpr:
		id, _ := x.(*ast.Ident)
		if s, ok := x.(*ast.SelectorExpr); ok {
			id = s.Sel
		}
		if obj, ok := p.info.Uses[id].(*types.Var); ok && obj.Pkg() != nil && obj.Parent() == obj.Pkg().Scope() && depth < 8 {
			if dp := a.byPath[obj.Pkg().Path()]; dp != nil {
				if v := dp.vars[obj.Name()]; v != nil {
					if call, ok := ast.Unparen(v.init).(*ast.CallExpr); ok {
						if fn, _ := a.callee(dp, call.Fun); fn.isOption() {
							return a.option(dp, call, n, depth+1)
						}
					}
				}
			}
		}
	case *ast.CompositeLit:
		if tv := p.info.Types[x]; tv.Type != nil && isFlujoNamed(tv.Type, "Option") && len(x.Elts) == 0 {
			a.errorf(a.pos(e.Pos()), "%s: zero Option; build options with the DSL's functions", desc)
			return nil
		}
	}
	a.errorf(a.pos(e.Pos()), "%s: option %s is not a call of a flujo option function; write it in the declaration, such as flujo.Retries(2), or in a package-level var initialised with one", desc, types.ExprString(e))
	return nil
}

// optionCall reads one option call; its arguments must be constants, nodes
// or named functions as the option requires.
func (a *analyzer) optionCall(p *pkgInfo, call *ast.CallExpr, fn dslFunc, id *ast.Ident, n *nodeBuild) *optionVal {
	o := &optionVal{fn: fn.option(), pos: a.pos(call.Pos())}
	desc := n.describe()
	name := fn.option().String()
	constArg := func(i int) int64 {
		e := call.Args[i]
		tv := p.info.Types[e]
		if tv.Value == nil {
			o.bad = true
			a.errorf(a.pos(e.Pos()), "%s: %s argument %s is not a constant; flujogen reads options from the source, so write a constant expression such as %s", desc, name, types.ExprString(e), dsl.Rules[fn.option()].Example)
			return 0
		}
		v, exact := constant.Int64Val(constant.ToInt(tv.Value))
		if !exact {
			o.bad = true
			a.errorf(a.pos(e.Pos()), "%s: %s argument %s is not an integer constant", desc, name, types.ExprString(e))
		}
		return v
	}
	switch fn.option() {
	case dsl.Retries, dsl.MaxLoops, dsl.Concurrency, dsl.Merge, dsl.OnBranchFailure:
		o.n = constArg(0)
	case dsl.Timeout, dsl.CacheTTL:
		o.d1 = time.Duration(constArg(0))
	case dsl.Backoff:
		o.d1, o.d2 = time.Duration(constArg(0)), time.Duration(constArg(1))
	case dsl.Fallback, dsl.Default:
		o.node = a.node(p, call.Args[0], desc+": "+name)
		if o.node == nil {
			o.nodeNil = p.info.Types[ast.Unparen(call.Args[0])].IsNil()
			o.bad = !o.nodeNil
		}
	case dsl.Validate:
		if inst, ok := p.info.Instances[id]; ok && inst.TypeArgs.Len() == 1 {
			o.vtype = inst.TypeArgs.At(0)
		}
		o.validate = a.funcArg(p, call.Args[0], desc, "validator")
	case dsl.BreakerCounts:
		o.counts = a.funcArg(p, call.Args[0], desc, "BreakerCounts function")
	}
	return o
}

// funcArg resolves a function argument. Generated code calls the function
// directly, so it must be a named function (possibly instantiated) or a
// method expression; anything else is reported here.
func (a *analyzer) funcArg(p *pkgInfo, e ast.Expr, desc, role string) *funcArg {
	f := &funcArg{pos: a.pos(e.Pos())}
	tv := p.info.Types[e]
	f.typ = tv.Type
	if tv.Type != nil {
		f.sig, _ = tv.Type.Underlying().(*types.Signature)
	}
	if tv.IsNil() {
		f.isNil = true
		return f
	}
	x := ast.Unparen(e)
	bad := func(format string, args ...any) *funcArg {
		f.bad = true
		a.errorf(f.pos, "%s: the %s %s", desc, role, fmt.Sprintf(format, args...))
		return f
	}
	fix := "; generated code calls it directly, so pass a package-level function (declare one that makes this call) or a method expression such as T.Method, whose receiver is the first parameter"
	// A conversion to a named function type keeps the function.
	if call, ok := x.(*ast.CallExpr); ok && len(call.Args) == 1 {
		if ftv := p.info.Types[call.Fun]; ftv.IsType() {
			inner := a.funcArg(p, call.Args[0], desc, role)
			inner.pos, inner.typ, inner.sig = f.pos, f.typ, f.sig
			return inner
		}
	}
	var id *ast.Ident
	var base ast.Expr = x
	switch ix := x.(type) {
	case *ast.IndexExpr:
		base = ast.Unparen(ix.X)
	case *ast.IndexListExpr:
		base = ast.Unparen(ix.X)
	}
	switch b := base.(type) {
	case *ast.FuncLit:
		return bad("is a func literal; declare it as a named function (func name(...) {...}) and pass its name, so generated code can call it directly")
	case *ast.CallExpr:
		return bad("is computed at run time by calling %s%s", types.ExprString(b.Fun), fix)
	case *ast.Ident:
		id = b
	case *ast.SelectorExpr:
		if sel, ok := p.info.Selections[b]; ok {
			switch sel.Kind() {
			case types.MethodExpr:
				m := sel.Obj().(*types.Func)
				f.obj = m
				a.types.notePackage(m.Pkg())
				recv := sel.Recv()
				f.ref = FuncRef{
					PkgPath:      pkgPathOf(m),
					Name:         m.Name(),
					Recv:         types.TypeString(recv, func(*types.Package) string { return "" }),
					RecvType:     a.types.key(recv),
					IsMethodExpr: true,
				}
				a.types.describe(recv, a)
				return a.finishFunc(f, p, x)
			case types.MethodVal:
				return bad("%s is a method value, whose receiver is known only at run time%s", types.ExprString(b), fix)
			default:
				return bad("%s is a struct field holding a function, known only at run time%s", types.ExprString(b), fix)
			}
		}
		id = b.Sel
	default:
		return bad("%s is not a named function or a method expression%s", types.ExprString(x), fix)
	}
	switch obj := p.info.Uses[id].(type) {
	case *types.Func:
		f.obj = obj
		a.types.notePackage(obj.Pkg())
		f.ref = FuncRef{PkgPath: pkgPathOf(obj), Name: obj.Name()}
		return a.finishFunc(f, p, x)
	case *types.Var:
		return bad("%s is a variable holding a function, known only at run time%s", types.ExprString(x), fix)
	}
	return bad("%s is not a named function or a method expression%s", types.ExprString(x), fix)
}

// finishFunc fills the reference's types and positions.
func (a *analyzer) finishFunc(f *funcArg, p *pkgInfo, x ast.Expr) *funcArg {
	var id *ast.Ident
	switch b := x.(type) {
	case *ast.Ident:
		id = b
	case *ast.SelectorExpr:
		id = b.Sel
	case *ast.IndexExpr:
		return a.finishFunc(f, p, ast.Unparen(b.X))
	case *ast.IndexListExpr:
		return a.finishFunc(f, p, ast.Unparen(b.X))
	}
	if id != nil {
		if inst, ok := p.info.Instances[id]; ok {
			for i := range inst.TypeArgs.Len() {
				t := inst.TypeArgs.At(i)
				f.ref.TypeArgs = append(f.ref.TypeArgs, a.types.key(t))
				a.types.describe(t, a)
			}
		}
	}
	if f.typ != nil {
		f.ref.Signature = a.types.key(f.typ)
		a.types.describe(f.typ, a)
	}
	f.ref.Pos = f.pos.String()
	f.ref.DeclPos = a.sourcePos(f.obj)
	return f
}

func pkgPathOf(obj types.Object) string {
	if obj.Pkg() == nil {
		return ""
	}
	return obj.Pkg().Path()
}

// isFlujoNamed reports whether t is the DSL package's named type name.
func isFlujoNamed(t types.Type, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == FlujoPath && n.Obj().Name() == name
}

// isRuntimeNamed reports whether t is the runtime package's type name, the
// root package's aliases of it included.
func isRuntimeNamed(t types.Type, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == RuntimePath && n.Obj().Name() == name
}
