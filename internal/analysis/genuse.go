package analysis

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/tools/go/ast/astutil"
)

// usesGenerated reports whether the type error te, reported while checking
// files as package pkg, is a use of a name that only a generated file
// declares. Packages are loaded with the flujogen build tag, which hides
// the generated files, so code that calls NewXExecutor (in the pipelines'
// package or in another one) cannot see it; the type checker reports the
// name as undefined and checks the rest, and the analysis goes on.
//
// The decision rests on the syntax and the types, not on the message: the
// error stands on an identifier that resolves to nothing, alone or as the
// selector of an imported package, and the package it would belong to
// declares a flujo.Node variable for which flujogen declares that name
// (ExecutorNames, FlujogenRunners and FlujogenRunner).
func usesGenerated(fset *token.FileSet, files []*ast.File, pkg *types.Package, info *types.Info, te types.Error) bool {
	if !te.Pos.IsValid() {
		return false
	}
	var file *ast.File
	for _, f := range files {
		if f.FileStart <= te.Pos && te.Pos <= f.FileEnd {
			file = f
			break
		}
	}
	if file == nil {
		return false
	}
	path, _ := astutil.PathEnclosingInterval(file, te.Pos, te.Pos)
	if len(path) < 2 { // an identifier, then at least its file
		return false
	}
	id, ok := path[0].(*ast.Ident)
	if !ok || id.Pos() != te.Pos || (info != nil && info.Uses[id] != nil) {
		return false
	}
	scope := pkg.Scope().Innermost(te.Pos)
	if scope == nil {
		return false
	}
	owner := pkg
	if sel, ok := path[1].(*ast.SelectorExpr); ok && sel.Sel == id {
		x, ok := sel.X.(*ast.Ident)
		if !ok {
			return false
		}
		_, obj := scope.LookupParent(x.Name, x.Pos())
		pn, ok := obj.(*types.PkgName)
		if !ok {
			return false
		}
		owner = pn.Imported()
		if !token.IsExported(id.Name) {
			return false // not usable from here even once generated
		}
	} else if _, obj := scope.LookupParent(id.Name, id.Pos()); obj != nil {
		return false
	}
	if owner.Scope().Lookup(id.Name) != nil {
		return false
	}
	return declaresGenerated(owner.Scope(), id.Name)
}

// declaresGenerated reports whether flujogen declares name for one of the
// flujo.Node variables of the package scope s.
func declaresGenerated(s *types.Scope, name string) bool {
	if name == "FlujogenRunners" || name == "FlujogenRunner" {
		for _, n := range s.Names() {
			if isNodeObj(s.Lookup(n)) {
				return true
			}
		}
		return false
	}
	base, ok := strings.CutSuffix(name, "Executor")
	if !ok {
		return false
	}
	// The type is VExecutor, the constructor NewVExecutor or newVExecutor
	// (v lower case, V its capitalised form).
	candidates := []string{base}
	if rest, ok := strings.CutPrefix(base, "New"); ok {
		candidates = append(candidates, rest)
	}
	if rest, ok := strings.CutPrefix(base, "new"); ok && rest != "" {
		r, size := utf8.DecodeRuneInString(rest)
		candidates = append(candidates, string(unicode.ToLower(r))+rest[size:])
	}
	for _, v := range candidates {
		if v == "" || !isNodeObj(s.Lookup(v)) {
			continue
		}
		if typ, ctor := ExecutorNames(v); name == typ || name == ctor {
			return true
		}
	}
	return false
}

// isNodeObj reports whether obj is a variable of type flujo.Node.
func isNodeObj(obj types.Object) bool {
	v, ok := obj.(*types.Var)
	return ok && isNodeType(v.Type())
}

// isNodeType reports whether t is the DSL's Node type.
func isNodeType(t types.Type) bool {
	named, ok := types.Unalias(t).(*types.Named)
	return ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == FlujoPath && named.Obj().Name() == "Node"
}
