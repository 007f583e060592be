package analysis

import (
	"go/types"
	"unicode"
	"unicode/utf8"
)

// ExecutorNames returns the names flujogen declares for the pipeline
// variable v: the executor type and its constructor, XExecutor and
// NewXExecutor for an exported X, xExecutor and newXExecutor otherwise.
func ExecutorNames(v string) (typ, ctor string) {
	r, size := utf8.DecodeRuneInString(v)
	if unicode.IsUpper(r) {
		return v + "Executor", "New" + v + "Executor"
	}
	return v + "Executor", "new" + string(unicode.ToUpper(r)) + v[size:] + "Executor"
}

// checkExecutorNames reports pipelines whose generated names are already
// taken, by the package's own declarations or by another pipeline's
// generated names: the generated file would not compile.
func (a *analyzer) checkExecutorNames(p *pkgInfo, pipes []*varDecl) {
	taken := map[string]*varDecl{}
	for _, v := range pipes {
		typ, ctor := ExecutorNames(v.name.Name)
		for _, name := range []string{typ, ctor} {
			if other, ok := taken[name]; ok {
				a.errorf(a.pos(v.name.Pos()), "pipeline %s: flujogen would declare %s for it and for pipeline %s at %s; rename one of the variables",
					v.name.Name, name, other.name.Name, a.pos(other.name.Pos()))
				continue
			}
			taken[name] = v
			if obj := p.tpkg.Scope().Lookup(name); obj != nil {
				a.errorf(a.pos(v.name.Pos()), "pipeline %s: flujogen would declare %s for it, but the package declares %s %s at %s; rename one of them",
					v.name.Name, name, objKind(obj), name, a.pos(obj.Pos()))
			}
		}
	}
}

// objKind names the kind of a package-level declaration.
func objKind(obj types.Object) string {
	switch obj.(type) {
	case *types.TypeName:
		return "the type"
	case *types.Func:
		return "the func"
	case *types.Const:
		return "the const"
	}
	return "the var"
}
