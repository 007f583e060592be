package analysis

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/build/constraint"
	"go/token"
	"go/types"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/flujo/flujo/schema"
)

// analyzer is one analysis run over loaded packages.
type analyzer struct {
	dir    string // absolute; positions are shown relative to it
	fset   *token.FileSet
	pkgs   []*pkgInfo // sorted by import path
	byPath map[string]*pkgInfo
	errs   errorSet
	// notes are the current package's notes (Package.Notes).
	notes []Note
	types *typeTable
	// Plans and write sets are kept by type key and function key: steps
	// sharing a type or a function share the work.
	hashes map[string]*HashPlan
	copies map[string]*CopyPlan
	writes map[string]*writeResult
	// building guards against a variable's declaration referring to
	// itself.
	building map[*varDecl]bool
	// modules are the paths of the roots' modules; needs are the packages
	// of those modules whose source the analysis wanted and did not have.
	modules []string
	needs   map[string]bool
}

// pkgInfo is one loaded package and its indexes.
type pkgInfo struct {
	pkg    *packages.Package
	path   string
	dir    string
	info   *types.Info
	tpkg   *types.Package
	vars   map[string]*varDecl // package-level variables with an initialiser
	order  []*varDecl          // the same, in source order
	funcs  map[string]*ast.FuncDecl
	config *schema.Config
}

// varDecl is a package-level variable and its initialiser.
type varDecl struct {
	pkg  *pkgInfo
	name *ast.Ident
	init ast.Expr // nil for a variable declared without a value
	// constrained says why the variable's file builds only under some
	// build constraints ("" when it builds everywhere).
	constrained string
}

func newAnalyzer(dir string, fset *token.FileSet, pkgs []*packages.Package) *analyzer {
	a := &analyzer{
		dir:      dir,
		fset:     fset,
		byPath:   map[string]*pkgInfo{},
		types:    newTypeTable(),
		hashes:   map[string]*HashPlan{},
		copies:   map[string]*CopyPlan{},
		writes:   map[string]*writeResult{},
		building: map[*varDecl]bool{},
		needs:    map[string]bool{},
	}
	info := func(p *packages.Package) *pkgInfo {
		pi := &pkgInfo{
			pkg:   p,
			path:  p.PkgPath,
			info:  p.TypesInfo,
			tpkg:  p.Types,
			vars:  map[string]*varDecl{},
			funcs: map[string]*ast.FuncDecl{},
		}
		if len(p.GoFiles) > 0 {
			pi.dir = filepath.Dir(p.GoFiles[0])
		}
		files := slices.Clone(p.Syntax)
		slices.SortFunc(files, func(x, y *ast.File) int {
			return strings.Compare(fset.File(x.FileStart).Name(), fset.File(y.FileStart).Name())
		})
		for _, f := range files {
			pi.index(f, fileConstraint(fset, f))
		}
		a.byPath[p.PkgPath] = pi
		return pi
	}
	for _, p := range pkgs {
		a.pkgs = append(a.pkgs, info(p))
		if p.Module != nil && !slices.Contains(a.modules, p.Module.Path) {
			a.modules = append(a.modules, p.Module.Path)
		}
	}
	// The dependencies read from source (Load's extra packages) are read,
	// not analysed: their declarations serve the roots'.
	seen := map[*packages.Package]bool{}
	var deps func(p *packages.Package)
	deps = func(p *packages.Package) {
		for _, imp := range p.Imports {
			if seen[imp] {
				continue
			}
			seen[imp] = true
			if imp.TypesInfo != nil && a.byPath[imp.PkgPath] == nil {
				info(imp)
			}
			deps(imp)
		}
	}
	for _, p := range pkgs {
		deps(p)
	}
	return a
}

// needSource records that the analysis wanted the source of the package at
// path, which it does not have: Load loads it when the package belongs to
// a root's module, and analyses again.
func (a *analyzer) needSource(path string) {
	for _, m := range a.modules {
		if path == m || strings.HasPrefix(path, m+"/") {
			a.needs[path] = true
			return
		}
	}
}

// missing returns, sorted, the packages whose source the analysis wanted
// that extra does not hold.
func (a *analyzer) missing(extra map[string]bool) []string {
	var out []string
	for path := range a.needs {
		if !extra[path] {
			out = append(out, path)
		}
	}
	slices.Sort(out)
	return out
}

// index records the file's package-level variables and functions;
// constrained says why the file builds only under some build constraints.
// Variables without a value of their own (declared without one, or given
// one of the values of a call) are in p.order only, for their notes.
func (p *pkgInfo) index(f *ast.File, constrained string) {
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue
			}
			for _, s := range d.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name == "_" {
						continue
					}
					v := &varDecl{pkg: p, name: n, constrained: constrained}
					switch {
					case len(vs.Values) == len(vs.Names):
						v.init = vs.Values[i]
						p.vars[n.Name] = v
					case len(vs.Values) == 1:
						v.init = vs.Values[0]
					}
					p.order = append(p.order, v)
				}
			}
		case *ast.FuncDecl:
			p.funcs[funcKey(d)] = d
		}
	}
}

// funcKey names a declared function as "Name" or a method as "Recv.Name",
// Recv the receiver's base type name.
func funcKey(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.ParenExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + d.Name.Name
		}
		return d.Name.Name
	}
}

// pos renders a source position for the model and for errors.
func (a *analyzer) pos(p token.Pos) position {
	if !p.IsValid() {
		return position{}
	}
	ps := a.fset.Position(p)
	return position{file: a.display(ps.Filename), line: ps.Line, col: ps.Column}
}

// sourcePos is pos for an object that may come from export data: only
// positions in loaded source files count.
func (a *analyzer) sourcePos(obj types.Object) string {
	if obj == nil || obj.Pkg() == nil || a.byPath[obj.Pkg().Path()] == nil {
		return ""
	}
	return a.pos(obj.Pos()).String()
}

func (a *analyzer) errorf(p position, format string, args ...any) {
	a.errs.add(errorAt(p, format, args...))
}

// notef records a note on the package being analysed.
func (a *analyzer) notef(p position, format string, args ...any) {
	a.notes = append(a.notes, Note{Pos: p.String(), Message: fmt.Sprintf(format, args...)})
}

// run finds every pipeline declaration, checks it and builds the model.
func (a *analyzer) run() *Model {
	m := &Model{Packages: []*Package{}, Types: a.types.types, PackageNames: a.types.pkgNames}
	for _, p := range a.pkgs {
		mp := &Package{
			Path:      p.path,
			Name:      p.pkg.Name,
			Dir:       p.dir,
			Files:     []string{},
			Pipelines: []*Pipeline{},
		}
		if p.pkg.Module != nil {
			mp.Module, mp.ModuleDir = p.pkg.Module.Path, p.pkg.Module.Dir
		}
		for _, f := range p.pkg.GoFiles {
			mp.Files = append(mp.Files, filepath.Base(f))
		}
		slices.Sort(mp.Files)
		for _, name := range p.tpkg.Scope().Names() { // sorted
			if !token.IsExported(name) && name != "_" {
				mp.Declared = append(mp.Declared, name)
			}
		}
		var roots []*nodeBuild
		var decls []*varDecl
		a.notes = nil
		for _, v := range p.order {
			if p.vars[v.name.Name] != v || !a.isNodeDecl(p, v.init) || v.constrained != "" {
				if a.isNodeVar(p, v) {
					mp.Skipped = append(mp.Skipped, Skipped{Var: v.name.Name, Pos: a.pos(v.name.Pos()).String(), Reason: a.skipReason(p, v)})
				}
				continue
			}
			root := a.varNode(v, v.name)
			if root == nil {
				continue
			}
			root.varName = "" // the pipeline itself, not a reference
			roots = append(roots, root)
			decls = append(decls, v)
			a.check(root)
			mp.Pipelines = append(mp.Pipelines, a.pipeline(p, v, root))
		}
		a.checkExecutorNames(p, decls)
		a.checkOverrides(p, decls, roots)
		a.usedBy(p, mp, roots)
		mp.Notes = a.notes
		m.Packages = append(m.Packages, mp)
	}
	return m
}

// isNodeDecl reports whether a variable's initialiser declares a node: a
// DSL constructor call or a With call on one.
func (a *analyzer) isNodeDecl(p *pkgInfo, e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	fn, _ := a.callee(p, call.Fun)
	return fn.isNode() || fn == dslWith
}

// isNodeVar reports whether the package-level variable v has the DSL's
// Node type.
func (a *analyzer) isNodeVar(p *pkgInfo, v *varDecl) bool {
	obj := p.info.Defs[v.name]
	if obj == nil {
		return false
	}
	return isNodeType(obj.Type())
}

// skipReason says why the Node variable v gets no executor of its own.
func (a *analyzer) skipReason(p *pkgInfo, v *varDecl) string {
	if v.constrained != "" && a.isNodeDecl(p, v.init) {
		return fmt.Sprintf("%s is declared in %s, which builds only under a build constraint (%s), but the generated file builds everywhere: %s gets no generated executor and runs on the ExecutorCore only; declare it in a file without build constraints to generate one",
			v.name.Name, filepath.Base(a.fset.Position(v.name.Pos()).Filename), v.constrained, v.name.Name)
	}
	if v.init == nil {
		return fmt.Sprintf("%s is a flujo.Node declared without a value and set at run time, which flujogen cannot follow: it gets no generated executor and runs on the ExecutorCore only; declare it with the DSL (var %s = flujo.Pipeline(...)) to generate one",
			v.name.Name, v.name.Name)
	}
	var id *ast.Ident
	switch x := ast.Unparen(v.init).(type) {
	case *ast.Ident:
		id = x
	case *ast.SelectorExpr:
		id = x.Sel
	}
	if id != nil {
		if _, ok := p.info.Uses[id].(*types.Var); ok {
			return fmt.Sprintf("%s is another name for %s: it gets no executor of its own; use the executor of %s", v.name.Name, types.ExprString(v.init), types.ExprString(v.init))
		}
	}
	return fmt.Sprintf("%s is a flujo.Node made by %s at run time, which flujogen cannot follow: it gets no generated executor and runs on the ExecutorCore only; declare it with the DSL (var %s = flujo.Pipeline(...)) to generate one",
		v.name.Name, types.ExprString(v.init), v.name.Name)
}

// usedBy fills Pipeline.UsedBy from the references between declarations.
func (a *analyzer) usedBy(p *pkgInfo, mp *Package, roots []*nodeBuild) {
	users := map[string]map[string]bool{}
	for i, r := range roots {
		owner := mp.Pipelines[i].Var
		r.walk(func(n *nodeBuild) {
			if n.varName != "" && n.pkg == p && n.varName != owner {
				if users[n.varName] == nil {
					users[n.varName] = map[string]bool{}
				}
				users[n.varName][owner] = true
			}
		})
	}
	for _, pl := range mp.Pipelines {
		for u := range users[pl.Var] {
			pl.UsedBy = append(pl.UsedBy, u)
		}
		slices.Sort(pl.UsedBy)
	}
}

// fileConstraint says what limits where the file builds: its //go:build
// line, or its name when it ends in an operating system or architecture
// (x_linux.go). It returns "" for a file that builds everywhere.
func fileConstraint(fset *token.FileSet, f *ast.File) string {
	for _, c := range f.Comments {
		if c.Pos() > f.Package {
			break
		}
		for _, l := range c.List {
			if constraint.IsGoBuild(l.Text) {
				return l.Text
			}
		}
	}
	// A file named for an operating system or architecture matches no
	// context of an unknown one; its content is not what decides here.
	name := filepath.Base(fset.File(f.FileStart).Name())
	ctx := build.Context{GOOS: "flujogen", GOARCH: "flujogen", Compiler: "gc",
		OpenFile: func(string) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("package p\n")), nil }}
	if ok, err := ctx.MatchFile(".", name); err == nil && !ok {
		return "its name ends in an operating system or architecture"
	}
	return ""
}
