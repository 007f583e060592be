package gen

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/flujo/flujo/flujoimpl"
)

// moduleRoot is the flujo module's directory, from gen/.
const moduleRoot = ".."

// generatedHeader marks a generated Go file (go help generate).
var generatedHeader = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

// goFile is a parsed Go file of the module tree.
type goFile struct {
	path      string
	file      *ast.File
	generated bool
}

// moduleGoFiles parses every Go file under the module root, the bench
// module's included, except those under .git.
func moduleGoFiles(t *testing.T) []goFile {
	t.Helper()
	fset := token.NewFileSet()
	var files []goFile
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, goFile{path: filepath.ToSlash(path), file: f, generated: generatedHeader.Match(src)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// qualifiedRefs returns the names f refers to, qualified, in the package of
// import path pkg.
func qualifiedRefs(f *ast.File, pkg string) map[string]bool {
	local := ""
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		if p != pkg {
			continue
		}
		local = pkg[strings.LastIndex(pkg, "/")+1:]
		if im.Name != nil {
			local = im.Name.Name
		}
	}
	refs := map[string]bool{}
	if local == "" || local == "_" {
		return refs
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == local {
				refs[sel.Sel.Name] = true
			}
		}
		return true
	})
	return refs
}

// exportedDecls returns the exported package-level names declared by the
// non-test Go files of dir.
func exportedDecls(t *testing.T, dir string) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					names[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							names[s.Name.Name] = true
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								names[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return names
}

// TestSupportSurface checks the committed generated files against the
// support surface: every flujoimpl name they use is listed in
// flujoimpl.Surface, the list names exactly flujoimpl's exported
// identifiers, and every root-package name they use is one that people use
// too: in a non-generated, non-test file outside the root package, in an
// example or in the documentation, in the signature of a root function or
// method, or as an error people match (an error type or an error
// variable). A root name only generated code uses belongs in flujoimpl, not
// in the root package's documentation.
func TestSupportSurface(t *testing.T) {
	surface := map[string]bool{}
	for _, name := range flujoimpl.Surface {
		if surface[name] {
			t.Errorf("flujoimpl.Surface lists %s twice", name)
		}
		surface[name] = true
	}
	decls := exportedDecls(t, filepath.Join(moduleRoot, "flujoimpl"))
	delete(decls, "Surface")
	for name := range decls {
		if !surface[name] {
			t.Errorf("flujoimpl.%s is exported but not listed in flujoimpl.Surface (flujoimpl/surface.go)", name)
		}
	}
	for name := range surface {
		if !decls[name] {
			t.Errorf("flujoimpl.Surface lists %s, which flujoimpl does not declare", name)
		}
	}
	if !surface[supportVersion] {
		t.Errorf("flujoimpl.Surface does not list %s, the version generated code checks", supportVersion)
	}

	files := moduleGoFiles(t)
	rootDecls := exportedDecls(t, moduleRoot)
	genRefs := map[string][]string{} // root name -> generated files using it
	userRefs := rootAPI(t)
	ngen := 0
	for _, f := range files {
		if f.generated && filepath.Base(f.path) == "flujo_gen.go" {
			ngen++
			for name := range qualifiedRefs(f.file, implPath) {
				if !surface[name] {
					t.Errorf("%s: uses flujoimpl.%s, which flujoimpl.Surface does not list", f.path, name)
				}
			}
			for name := range qualifiedRefs(f.file, flujoPath) {
				genRefs[name] = append(genRefs[name], f.path)
			}
			continue
		}
		dir := filepath.Dir(f.path)
		test := strings.HasSuffix(f.path, "_test.go")
		example := test && filepath.Base(f.path) == "example_test.go"
		switch {
		case f.generated, test && !example, strings.Contains(f.path, "/testdata/"),
			dir == filepath.Join(moduleRoot, "flujoimpl"), dir == filepath.Join(moduleRoot, "gen"):
			continue
		}
		for name := range qualifiedRefs(f.file, flujoPath) {
			userRefs[name] = true
		}
	}
	if ngen == 0 {
		t.Fatal("found no generated flujo_gen.go files")
	}
	docRef := regexp.MustCompile(`\bflujo\.([A-Z][A-Za-z0-9_]*)`)
	for _, doc := range markdownFiles(t) {
		src, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range docRef.FindAllSubmatch(src, -1) {
			userRefs[string(m[1])] = true
		}
	}
	var names []string
	for name := range genRefs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !rootDecls[name] {
			continue // a method or field selector never parses as flujo.X; an undeclared name fails to compile anyway
		}
		if !userRefs[name] {
			paths := slices.Compact(genRefs[name])
			t.Errorf("flujo.%s is used by generated code (%s) but by no user-facing code, example or document: move it to flujoimpl", name, strings.Join(paths, ", "))
		}
	}
}

// markdownFiles returns the module's documents: README.md and docs/*.md.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(moduleRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append(docs, filepath.Join(moduleRoot, "README.md"))
}

// rootAPI returns the root package's exported names that its API shows
// people: those its exported functions and methods take or return, its
// error types (which callers match with errors.As) and its error variables
// (errors.Is).
func rootAPI(t *testing.T) map[string]bool {
	t.Helper()
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedTypes | packages.NeedName, Dir: moduleRoot}, flujoPath)
	if err != nil {
		t.Fatal(err)
	}
	if packages.PrintErrors(pkgs) > 0 || len(pkgs) != 1 {
		t.Fatalf("loading %s failed", flujoPath)
	}
	pkg := pkgs[0].Types
	errType := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	api := map[string]bool{}
	scope := pkg.Scope()
	// aliases maps a type declared elsewhere to the root names for it.
	aliases := map[*types.TypeName][]string{}
	for _, name := range scope.Names() {
		if tn, ok := scope.Lookup(name).(*types.TypeName); ok && tn.IsAlias() {
			if named, ok := types.Unalias(tn.Type()).(*types.Named); ok {
				aliases[named.Obj()] = append(aliases[named.Obj()], name)
			}
		}
	}
	// mention records the root names that typ refers to.
	var mention func(typ types.Type)
	mention = func(typ types.Type) {
		if a, ok := typ.(*types.Alias); ok && a.Obj().Pkg() == pkg {
			api[a.Obj().Name()] = true
		}
		switch typ := types.Unalias(typ).(type) {
		case *types.Named:
			if typ.Obj().Pkg() == pkg {
				api[typ.Obj().Name()] = true
			}
			for _, name := range aliases[typ.Obj()] {
				api[name] = true
			}
			for a := range typ.TypeArgs().Types() {
				mention(a)
			}
		case *types.Pointer:
			mention(typ.Elem())
		case *types.Slice:
			mention(typ.Elem())
		case *types.Map:
			mention(typ.Key())
			mention(typ.Elem())
		case *types.Signature:
			for v := range typ.Params().Variables() {
				mention(v.Type())
			}
			for v := range typ.Results().Variables() {
				mention(v.Type())
			}
		}
	}
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch obj := obj.(type) {
		case *types.Func:
			mention(obj.Type())
		case *types.Var:
			if types.Implements(obj.Type(), errType) {
				api[name] = true
			}
		case *types.TypeName:
			if types.Implements(obj.Type(), errType) || types.Implements(types.NewPointer(obj.Type()), errType) {
				api[name] = true
			}
			if named, ok := types.Unalias(obj.Type()).(*types.Named); ok && named.Obj().Pkg() == pkg {
				for m := range named.Methods() {
					if m.Exported() {
						mention(m.Type())
					}
				}
			}
		}
	}
	return api
}
