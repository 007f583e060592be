package analysis

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/tools/go/packages"
)

// listMode is what the first go/packages call asks for: the import graph
// and the file lists, without types. Asking go/packages for types of the
// named packages without NeedDeps makes the go command compile every listed
// package, the named ones included, for export data that is never read for
// them; after an edit that compile dominates the whole run.
const listMode = packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
	packages.NeedImports | packages.NeedDeps | packages.NeedModule | packages.NeedTypesSizes

// exportMode is what the second call asks for: the types of the packages
// that the source-checked ones import, from export data, which the go
// command keeps cached until a dependency changes.
const exportMode = packages.NeedName | packages.NeedImports | packages.NeedTypes

// parseMode is go/packages' own parser mode, minus object resolution that
// go/types does not need.
const parseMode = parser.AllErrors | parser.ParseComments | parser.SkipObjectResolution

// srcPkg is a package type-checked from source: a root, a dependency the
// analysis reads (an extra one), or a dependency of either that itself
// imports one.
type srcPkg struct {
	pkg  *packages.Package // listed by the first call; filled in here
	root bool
	// full is set for roots and extra packages: their function bodies are
	// checked and their type information kept, for the analysis to read.
	full  bool
	files []*ast.File // parallel to pkg.CompiledGoFiles; nil where unreadable
	errs  []packages.Error
}

// loadSource fills in the syntax and types of the listed roots, and of the
// packages they depend on whose import paths extra holds: it parses and
// type-checks them from source, and loads only the packages they import
// from export data. Roots that depend on one another are checked in
// dependency order and see each other's types, as do the packages between
// them. The errors of every package a root depends on are added to the
// root's, so a dependency that does not compile is reported too.
func loadSource(ctx context.Context, base packages.Config, roots []*packages.Package, extra map[string]bool) error {
	fset := base.Fset
	order, srcs := sourceSet(roots, extra)

	// The export set: what the source packages import from outside it.
	// None of it depends on a root, so loading it compiles no root.
	var exportIDs []string
	seen := map[string]bool{}
	for _, s := range order {
		for _, imp := range s.pkg.Imports {
			if srcs[imp.ID] == nil && imp.PkgPath != "unsafe" && !seen[imp.ID] {
				seen[imp.ID] = true
				exportIDs = append(exportIDs, imp.ID)
			}
		}
	}
	slices.Sort(exportIDs)

	// Export data is loaded while the sources are parsed.
	type depsResult struct {
		pkgs []*packages.Package
		err  error
	}
	depsDone := make(chan depsResult, 1)
	go func() {
		if len(exportIDs) == 0 {
			depsDone <- depsResult{}
			return
		}
		cfg := base
		cfg.Mode = exportMode
		pkgs, err := packages.Load(&cfg, exportIDs...)
		depsDone <- depsResult{pkgs, err}
	}()

	parseSources(fset, order)

	res := <-depsDone
	if res.err != nil {
		return fmt.Errorf("loading dependencies: %w", res.err)
	}
	deps := make(map[string]*packages.Package, len(res.pkgs))
	for _, d := range res.pkgs {
		deps[d.ID] = d
	}
	for _, s := range order {
		for path, imp := range s.pkg.Imports {
			if d := deps[imp.ID]; d != nil {
				s.pkg.Imports[path] = d
			}
		}
	}

	for _, s := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.check(fset, srcs)
	}
	for _, s := range order {
		if s.root {
			s.addDepErrors(srcs)
		}
	}
	return nil
}

// sourceSet returns the packages to check from source, dependencies
// first: the roots and the extra packages (by import path), and every
// package between two of them, whose export data would hold their types
// of its own and so need them compiled.
func sourceSet(roots []*packages.Package, extra map[string]bool) ([]*srcPkg, map[string]*srcPkg) {
	isRoot := make(map[string]bool, len(roots))
	for _, r := range roots {
		isRoot[r.ID] = true
	}
	full := func(p *packages.Package) bool { return isRoot[p.ID] || extra[p.PkgPath] }
	// reaches records whether a package is a root or an extra one, or
	// imports one; a package on an import cycle, which go list reports as
	// an error, counts as not reaching while it is being visited.
	reaches := map[string]bool{}
	var reach func(p *packages.Package) bool
	reach = func(p *packages.Package) bool {
		if r, ok := reaches[p.ID]; ok {
			return r
		}
		reaches[p.ID] = false
		r := full(p)
		for _, imp := range p.Imports {
			if reach(imp) {
				r = true
			}
		}
		reaches[p.ID] = r
		return r
	}
	srcs := map[string]*srcPkg{}
	var order []*srcPkg
	var add func(p *packages.Package)
	add = func(p *packages.Package) {
		if _, ok := srcs[p.ID]; ok || !reach(p) {
			return
		}
		srcs[p.ID] = nil // visiting
		paths := make([]string, 0, len(p.Imports))
		for path := range p.Imports {
			paths = append(paths, path)
		}
		slices.Sort(paths)
		for _, path := range paths {
			add(p.Imports[path])
		}
		s := &srcPkg{pkg: p, root: isRoot[p.ID], full: full(p)}
		srcs[p.ID] = s
		order = append(order, s)
	}
	for _, r := range roots {
		add(r)
	}
	return order, srcs
}

// parseSources parses the files of every package, several at a time.
func parseSources(fset *token.FileSet, order []*srcPkg) {
	type job struct {
		s *srcPkg
		i int
	}
	var jobs []job
	for _, s := range order {
		s.files = make([]*ast.File, len(s.pkg.CompiledGoFiles))
		for i := range s.pkg.CompiledGoFiles {
			jobs = append(jobs, job{s, i})
		}
	}
	errs := make([][]packages.Error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			for j := range next {
				s, name := jobs[j].s, jobs[j].s.pkg.CompiledGoFiles[jobs[j].i]
				src, err := os.ReadFile(name)
				if err != nil {
					errs[j] = []packages.Error{{Pos: name + ":1", Msg: unwrapPathError(err), Kind: packages.ParseError}}
					continue
				}
				f, err := parser.ParseFile(fset, name, src, parseMode)
				s.files[jobs[j].i] = f
				var list scanner.ErrorList
				if errors.As(err, &list) {
					for _, e := range list {
						errs[j] = append(errs[j], packages.Error{Pos: e.Pos.String(), Msg: e.Msg, Kind: packages.ParseError})
					}
				} else if err != nil {
					errs[j] = []packages.Error{{Pos: name + ":1", Msg: err.Error(), Kind: packages.ParseError}}
				}
			}
		})
	}
	for j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	for j, e := range errs {
		jobs[j].s.errs = append(jobs[j].s.errs, e...)
	}
}

func unwrapPathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// check type-checks the package from its parsed files, its imports being
// already checked or loaded, and records the results in its Package.
func (s *srcPkg) check(fset *token.FileSet, srcs map[string]*srcPkg) {
	p := s.pkg
	var files []*ast.File
	for _, f := range s.files {
		if f != nil {
			files = append(files, f)
		}
	}
	p.Fset = fset
	p.Syntax = files
	p.Types = types.NewPackage(p.PkgPath, p.Name)
	if s.full {
		p.TypesInfo = &types.Info{
			Types:        map[ast.Expr]types.TypeAndValue{},
			Defs:         map[*ast.Ident]types.Object{},
			Uses:         map[*ast.Ident]types.Object{},
			Implicits:    map[ast.Node]types.Object{},
			Instances:    map[*ast.Ident]types.Instance{},
			Scopes:       map[ast.Node]*types.Scope{},
			Selections:   map[*ast.SelectorExpr]*types.Selection{},
			FileVersions: map[*ast.File]string{},
		}
	}
	// The type errors are kept until the package is checked: whether one
	// is a use of a generated name depends on the whole package scope.
	var checked []error
	conf := &types.Config{
		Importer: srcImporter(func(path string) (*types.Package, error) {
			return s.importPkg(path, srcs)
		}),
		// Between two packages read in full only the declarations matter.
		IgnoreFuncBodies: !s.full,
		Error:            func(err error) { checked = append(checked, err) },
		Sizes:            p.TypesSizes,
	}
	if p.Module != nil && p.Module.GoVersion != "" {
		conf.GoVersion = "go" + p.Module.GoVersion
	}
	err := types.NewChecker(conf, fset, p.Types, p.TypesInfo).Files(files)
	if err != nil && len(checked) == 0 {
		checked = append(checked, err)
	}
	errs := s.errs
	for _, err := range checked {
		var te types.Error
		if !errors.As(err, &te) {
			errs = append(errs, packages.Error{Pos: "-", Msg: err.Error(), Kind: packages.TypeError})
			continue
		}
		if usesGenerated(fset, files, p.Types, p.TypesInfo, te) {
			continue
		}
		p.TypeErrors = append(p.TypeErrors, te)
		errs = append(errs, packages.Error{Pos: te.Fset.Position(te.Pos).String(), Msg: te.Msg, Kind: packages.TypeError})
	}
	p.Errors = append(p.Errors, errs...)
	p.IllTyped = len(p.Errors) > 0
	for _, imp := range p.Imports {
		if imp.IllTyped {
			p.IllTyped = true
		}
	}
}

// importPkg resolves an import of the package: to a package checked from
// source here, or to one loaded from export data.
func (s *srcPkg) importPkg(path string, srcs map[string]*srcPkg) (*types.Package, error) {
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	imp := s.pkg.Imports[path]
	if imp == nil {
		// go/packages drops the import that closes a cycle.
		if hasCycleError(s.pkg.Errors) {
			return nil, errors.New("import cycle")
		}
		return nil, fmt.Errorf("no metadata for %s", path)
	}
	if src := srcs[imp.ID]; src != nil {
		if src.pkg.Types == nil {
			return nil, fmt.Errorf("import cycle through %s", path)
		}
		return src.pkg.Types, nil
	}
	if imp.Types != nil && imp.Types.Complete() {
		return imp.Types, nil
	}
	for _, e := range imp.Errors {
		return nil, fmt.Errorf("could not load %s: %s", path, e.Msg)
	}
	return nil, fmt.Errorf("could not load %s", path)
}

// addDepErrors adds to a root the errors of the packages it depends on,
// roots excepted: they report their own.
func (s *srcPkg) addDepErrors(srcs map[string]*srcPkg) {
	seen := map[string]bool{s.pkg.ID: true}
	var errs []packages.Error
	var visit func(p *packages.Package)
	visit = func(p *packages.Package) {
		for _, imp := range p.Imports {
			if seen[imp.ID] {
				continue
			}
			seen[imp.ID] = true
			if src := srcs[imp.ID]; src != nil && src.root {
				continue
			}
			errs = append(errs, imp.Errors...)
			visit(imp)
		}
	}
	visit(s.pkg)
	// Every package on an import cycle reports it; the root's own
	// report is enough.
	if hasCycleError(s.pkg.Errors) {
		errs = slices.DeleteFunc(errs, func(e packages.Error) bool { return isCycleError(e) })
	}
	s.pkg.Errors = append(s.pkg.Errors, errs...)
}

func isCycleError(e packages.Error) bool {
	return strings.HasPrefix(e.Msg, "import cycle not allowed")
}

func hasCycleError(errs []packages.Error) bool {
	return slices.ContainsFunc(errs, isCycleError)
}

// srcImporter adapts a function to types.Importer.
type srcImporter func(path string) (*types.Package, error)

func (f srcImporter) Import(path string) (*types.Package, error) { return f(path) }
