package analysis

import (
	"go/ast"
)

// contextUnused reports whether the step function f provably never uses
// its context.Context parameter: a Func has none; a Step or StepS whose
// declaration is loaded leaves it unnamed, names it _, or never mentions it
// in its body. Anything else (a body that is not loaded, a method
// expression, whose context is its receiver) counts as a use.
//
// The generator relies on it to reuse the cancellable contexts of Parallel
// branches and Map workers: a context nobody but the executor can see may
// be recycled once the run ends, since no step can have kept it.
func (a *analyzer) contextUnused(kind Kind, f *funcArg) bool {
	if kind == KindFunc {
		return true
	}
	if f == nil || f.bad || f.isNil || f.ref.IsMethodExpr {
		return false
	}
	p := a.byPath[f.ref.PkgPath]
	if p == nil {
		return false
	}
	decl := p.funcs[f.ref.Name]
	if decl == nil || decl.Body == nil || decl.Recv != nil {
		return false
	}
	params := decl.Type.Params.List
	if len(params) == 0 {
		return false
	}
	if len(params[0].Names) == 0 {
		return true
	}
	ctx := params[0].Names[0]
	if ctx.Name == "_" {
		return true
	}
	obj := p.info.Defs[ctx]
	if obj == nil {
		return false
	}
	used := false
	ast.Inspect(decl.Body, func(n ast.Node) bool {
		if used {
			return false
		}
		if id, ok := n.(*ast.Ident); ok && p.info.Uses[id] == obj {
			used = true
		}
		return true
	})
	return !used
}
