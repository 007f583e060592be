package gen

import (
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
)

// The generated file shares its package block with the user's files, and
// its code declares variables of its own (e, p, fail, done, cfg, ...). A
// name of the user's package that the code refers to must not be hidden by
// one of those variables (a step function named fail, a Loop predicate
// named done, a type named e), and an import of the file must not take a
// name the package declares (a package-level runtime or metrics) or that a
// variable hides (a package named cfg). Which variables a file declares is
// known once it is written: a file with such a clash (clashes) is rendered
// again with those names marked, and hygiene renames the variables and
// imports that clash and removes the marks. Other files are rendered once,
// unmarked.

// Marks of the names hygiene settles. Generated identifiers are camel
// case, so no other identifier of the file starts with either.
const (
	refMark = "flujogenRef_" // a name of the package the file is in
	pkgMark = "flujogenPkg_" // the name of an import
)

// qual refers to name of the package at path. A name of the package the
// file is generated into is recorded, and marked under g.mark.
func (g *generator) qual(path, name string) *jen.Statement {
	if path != g.target {
		return jen.Qual(path, name)
	}
	g.refs[name] = true
	if g.mark {
		return jen.Id(refMark + name)
	}
	return jen.Id(name)
}

// clashes reports whether src, a file rendered without marks by a
// generator that referred to the names refs of its own package, has a
// variable named like one of them or like one of its imports, or an import
// named like a name the package declares. names is the package name of
// each path the file may import.
func clashes(src []byte, refs map[string]bool, names map[string]string, declared []string) (bool, error) {
	s, err := scan(src)
	if err != nil {
		return false, err
	}
	vars := s.varNames()
	for r := range refs {
		if vars[r] {
			return true, nil
		}
	}
	for _, spec := range s.file.Imports {
		name, _, err := importName(spec, names)
		if err != nil {
			return false, err
		}
		if vars[name] || slices.Contains(declared, name) {
			return true, nil
		}
	}
	return false, nil
}

// importName returns the name the file gives the import spec, and its
// path.
func importName(spec *ast.ImportSpec, names map[string]string) (name, path string, err error) {
	if path, err = strconv.Unquote(spec.Path.Value); err != nil {
		return "", "", err
	}
	if spec.Name != nil {
		return spec.Name.Name, path, nil
	}
	return names[path], path, nil
}

// scanned is a parsed file with the variables its functions declare.
type scanned struct {
	fset *token.FileSet
	file *ast.File
	// used holds every identifier of the file.
	used map[string]bool
	// vars are the identifiers that refer to each variable (parameters,
	// results, receivers and labels included), order the variables in
	// source order.
	vars  map[*ast.Object][]*ast.Ident
	order []*ast.Object
}

func scan(src []byte) (*scanned, error) {
	s := &scanned{fset: token.NewFileSet(), used: map[string]bool{}, vars: map[*ast.Object][]*ast.Ident{}}
	var err error
	// The parser's resolution of identifiers is enough here: the file
	// declares everything it refers to but the package's names and the
	// imports, which it leaves unresolved.
	if s.file, err = parser.ParseFile(s.fset, "", src, parser.ParseComments); err != nil {
		return nil, err
	}
	fields := fieldNames(s.file)
	ast.Inspect(s.file, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		s.used[id.Name] = true
		if o := id.Obj; o != nil && s.file.Scope.Lookup(id.Name) != o && !fields[id] {
			if _, seen := s.vars[o]; !seen {
				s.order = append(s.order, o)
			}
			s.vars[o] = append(s.vars[o], id)
		}
		return true
	})
	return s, nil
}

func (s *scanned) varNames() map[string]bool {
	names := map[string]bool{}
	for o := range s.vars {
		names[o.Name] = true
	}
	return names
}

// hygiene settles the marked names of src, a file rendered under g.mark
// whose imports are named with pkgMark, names being the package name of
// each path, in a package that declares the unexported names declared, and
// returns the file formatted: variables named like a name of the package
// the file refers to, and imports named like a name the package declares,
// a variable or another import, are renamed.
func hygiene(src []byte, names map[string]string, declared []string) ([]byte, error) {
	s, err := scan(src)
	if err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	for name := range s.used {
		if r, ok := strings.CutPrefix(name, refMark); ok {
			refs[r] = true
		}
	}
	taken := map[string]bool{}
	for _, d := range declared {
		taken[d] = true
	}
	for name := range s.file.Scope.Objects {
		taken[name] = true
	}
	for name := range refs {
		taken[name] = true
	}
	vars := s.varNames()
	fresh := func(base string) string {
		for i := 1; ; i++ {
			name := base + strconv.Itoa(i)
			if !vars[name] && !taken[name] && !s.used[name] {
				taken[name] = true
				return name
			}
		}
	}

	// Edits of src by offset: the new text of an identifier, or of an
	// import's name up to its path.
	type edit struct {
		from, to int
		text     string
	}
	var edits []edit
	offset := func(p token.Pos) int { return s.fset.Position(p).Offset }
	set := func(id *ast.Ident, text string) {
		edits = append(edits, edit{offset(id.Pos()), offset(id.End()), text})
	}
	rename := map[string]string{} // marked import name -> final name
	for _, spec := range s.file.Imports {
		marked, path, err := importName(spec, names)
		if err != nil {
			return nil, err
		}
		want, ok := strings.CutPrefix(marked, pkgMark)
		if !ok {
			continue
		}
		final := want
		if taken[want] || vars[want] {
			final = fresh(want)
		}
		taken[final] = true
		rename[marked] = final
		if final == names[path] {
			edits = append(edits, edit{offset(spec.Name.Pos()), offset(spec.Path.Pos()), ""})
		} else {
			set(spec.Name, final)
		}
	}
	for _, o := range s.order {
		if refs[o.Name] {
			name := fresh(o.Name)
			for _, id := range s.vars[o] {
				set(id, name)
			}
		}
	}
	ast.Inspect(s.file, func(n ast.Node) bool {
		if _, ok := n.(*ast.ImportSpec); ok {
			return false // its name is edited above
		}
		if id, ok := n.(*ast.Ident); ok {
			if final, ok := rename[id.Name]; ok {
				set(id, final)
			} else if name, ok := strings.CutPrefix(id.Name, refMark); ok {
				set(id, name)
			}
		}
		return true
	})
	slices.SortFunc(edits, func(a, b edit) int { return b.from - a.from })
	out := slices.Clone(src)
	for _, e := range edits {
		out = slices.Concat(out[:e.from], []byte(e.text), out[e.to:])
	}
	return format.Source(out)
}

// fieldNames returns the identifiers of the file that name struct fields
// or interface methods: in type declarations and as the keys of struct
// literals. The parser may have resolved them to a variable of the same
// name, but renaming a variable leaves them alone.
func fieldNames(file *ast.File) map[*ast.Ident]bool {
	names := map[*ast.Ident]bool{}
	fields := func(l *ast.FieldList) {
		for _, f := range l.List {
			for _, id := range f.Names {
				names[id] = true
			}
		}
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.StructType:
			fields(x.Fields)
		case *ast.InterfaceType:
			fields(x.Methods)
		case *ast.CompositeLit:
			if _, isMap := x.Type.(*ast.MapType); isMap {
				return true
			}
			for _, e := range x.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if id, ok := kv.Key.(*ast.Ident); ok {
						names[id] = true
					}
				}
			}
		}
		return true
	})
	return names
}
