package analysis

import (
	"go/types"
	"reflect"
)

// typeTable holds the structural descriptions of the model's types.
type typeTable struct {
	types map[string]*Type
	// pkgNames names every package a described type or a referenced
	// function comes from, by import path.
	pkgNames map[string]string
}

func newTypeTable() *typeTable {
	return &typeTable{types: map[string]*Type{}, pkgNames: map[string]string{}}
}

// notePackage records the name of p, which generated code may import.
func (tt *typeTable) notePackage(p *types.Package) {
	if p != nil {
		tt.pkgNames[p.Path()] = p.Name()
	}
}

// qualifyPath qualifies every package by its import path, so keys are
// unique across packages.
func qualifyPath(p *types.Package) string { return p.Path() }

// key returns the type's key. Parameter names of a function type are left
// out: they do not change the type.
func (tt *typeTable) key(t types.Type) string {
	if sig, ok := t.(*types.Signature); ok {
		t = unnamedSignature(sig)
	}
	return types.TypeString(t, qualifyPath)
}

// unnamedSignature returns sig without receiver and parameter names.
func unnamedSignature(sig *types.Signature) *types.Signature {
	strip := func(tu *types.Tuple) *types.Tuple {
		vars := make([]*types.Var, tu.Len())
		for i := range vars {
			vars[i] = types.NewParam(tu.At(i).Pos(), tu.At(i).Pkg(), "", tu.At(i).Type())
		}
		return types.NewTuple(vars...)
	}
	return types.NewSignatureType(nil, nil, nil, strip(sig.Params()), strip(sig.Results()), sig.Variadic())
}

// ref describes t and returns its TypeRef.
func (a *analyzer) ref(t types.Type) TypeRef {
	if t == nil {
		return TypeRef{}
	}
	r := TypeRef{Type: a.types.describe(t, a)}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		r.Name = n.Obj().Name()
		if n.Obj().Pkg() != nil {
			r.PkgPath = n.Obj().Pkg().Path()
		}
	}
	return r
}

// describe adds t and the types it is built from to the table and returns
// its key.
func (tt *typeTable) describe(t types.Type, a *analyzer) string {
	k := tt.key(t)
	if _, ok := tt.types[k]; ok {
		return k
	}
	d := &Type{Key: k}
	tt.types[k] = d // before recursing: recursive types refer to themselves
	t = types.Unalias(t)
	if n, ok := t.(*types.Named); ok {
		obj := n.Obj()
		d.Name = obj.Name()
		if obj.Pkg() != nil {
			d.PkgPath = obj.Pkg().Path()
			tt.notePackage(obj.Pkg())
		}
		if targs := n.TypeArgs(); targs != nil {
			for i := range targs.Len() {
				d.TypeArgs = append(d.TypeArgs, tt.describe(targs.At(i), a))
			}
		}
		d.IsTime = isTime(t)
		d.Pos = a.sourcePos(obj)
	}
	if _, ok := t.(*types.TypeParam); ok {
		d.Kind = TypeTypeParam
		return k
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		d.Kind = TypeKind(u.Name())
		if u.Kind() == types.UnsafePointer {
			d.Kind = TypeUnsafePointer
		}
	case *types.Struct:
		d.Kind = TypeStruct
		d.Fields = []Field{}
		for i := range u.NumFields() {
			f := u.Field(i)
			d.Fields = append(d.Fields, Field{
				Name:     f.Name(),
				Type:     tt.describe(f.Type(), a),
				Exported: f.Exported(),
				Embedded: f.Embedded(),
				JSONSkip: reflect.StructTag(u.Tag(i)).Get("json") == "-",
				Pos:      a.sourcePos(f),
			})
		}
	case *types.Pointer:
		d.Kind, d.Elem = TypePointer, tt.describe(u.Elem(), a)
	case *types.Slice:
		d.Kind, d.Elem = TypeSlice, tt.describe(u.Elem(), a)
	case *types.Array:
		d.Kind, d.Elem, d.Len = TypeArray, tt.describe(u.Elem(), a), u.Len()
	case *types.Map:
		d.Kind, d.MapKey, d.Elem = TypeMap, tt.describe(u.Key(), a), tt.describe(u.Elem(), a)
	case *types.Chan:
		d.Kind, d.Elem = TypeChan, tt.describe(u.Elem(), a)
	case *types.Signature:
		d.Kind = TypeFunc
	case *types.Interface:
		d.Kind = TypeInterface
	}
	d.Comparable = types.Comparable(t)
	d.HasHashMethod = hasHashMethod(t)
	if !d.HasHashMethod && !types.IsInterface(t) {
		if _, isPtr := t.Underlying().(*types.Pointer); !isPtr {
			d.PtrHasHashMethod = hasHashMethod(types.NewPointer(t))
		}
	}
	d.ReportsUsage = reportsUsage(t)
	d.EncodesItself = encodesItself(t, "MarshalJSON") || encodesItself(t, "MarshalText")
	return k
}

// encodesItself reports whether t's value method set has name() ([]byte,
// error): MarshalJSON (json.Marshaler) or MarshalText
// (encoding.TextMarshaler).
func encodesItself(t types.Type, name string) bool {
	sig := method(t, name)
	if sig == nil || sig.Params().Len() != 0 || sig.Results().Len() != 2 || sig.Variadic() {
		return false
	}
	s, ok := types.Unalias(sig.Results().At(0).Type()).(*types.Slice)
	if !ok {
		return false
	}
	b, ok := types.Unalias(s.Elem()).(*types.Basic)
	return ok && b.Kind() == types.Byte && types.Identical(sig.Results().At(1).Type(), types.Universe.Lookup("error").Type())
}

// method returns the method name in t's value method set, if any.
func method(t types.Type, name string) *types.Signature {
	obj, _, _ := types.LookupFieldOrMethod(t, false, nil, name)
	f, ok := obj.(*types.Func)
	if !ok {
		return nil
	}
	return f.Type().(*types.Signature)
}

// hasHashMethod reports whether t's value method set has Hash64() uint64,
// the runtime's Hashable interface.
func hasHashMethod(t types.Type) bool {
	sig := method(t, "Hash64")
	if sig == nil || sig.Params().Len() != 0 || sig.Results().Len() != 1 || sig.Variadic() {
		return false
	}
	b, ok := types.Unalias(sig.Results().At(0).Type()).(*types.Basic)
	return ok && b.Kind() == types.Uint64
}

// reportsUsage reports whether t's value method set has Usage()
// flujo.Usage, the DSL's UsageReporter.
func reportsUsage(t types.Type) bool {
	sig := method(t, "Usage")
	return sig != nil && sig.Params().Len() == 0 && sig.Results().Len() == 1 && isRuntimeNamed(sig.Results().At(0).Type(), "Usage")
}

// isTime reports whether t is time.Time.
func isTime(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}

// hasRefs reports whether values of t can reach memory a copy would share:
// pointers, slices, maps and interfaces, at any depth. It mirrors the
// dynamic engine's rule, so both copy the same parts.
func hasRefs(t types.Type, visiting map[types.Type]bool) bool {
	switch u := t.Underlying().(type) {
	case *types.Pointer, *types.Slice, *types.Map, *types.Interface, *types.TypeParam:
		return true
	case *types.Array:
		return hasRefs(u.Elem(), visiting)
	case *types.Struct:
		if visiting[t] {
			return false
		}
		visiting[t] = true
		for i := range u.NumFields() {
			if hasRefs(u.Field(i).Type(), visiting) {
				return true
			}
		}
	}
	return false
}

// messageQualifier names types in messages as the user writes them in
// package p: its own types unqualified, others by package name.
func messageQualifier(p *types.Package) types.Qualifier {
	return func(other *types.Package) string {
		if other == p || (p != nil && other.Path() == p.Path()) {
			return ""
		}
		return other.Name()
	}
}

// typeString renders t for a message about a node of package p.
func typeString(t types.Type, p *pkgInfo) string {
	if t == nil {
		return "nothing"
	}
	return types.TypeString(t, messageQualifier(p.tpkg))
}

// reflectString renders t as reflect.Type.String does (package names,
// not paths), for fingerprints that match the dynamic engine's.
func reflectString(t types.Type) string {
	if t == nil {
		return "nothing"
	}
	return types.TypeString(t, func(p *types.Package) string { return p.Name() })
}

// unnameable returns a named type within t that code in package path
// cannot refer to: unexported and declared elsewhere.
func unnameable(t types.Type, path string, seen map[types.Type]bool) *types.TypeName {
	if seen[t] {
		return nil
	}
	seen[t] = true
	if n, ok := types.Unalias(t).(*types.Named); ok {
		obj := n.Obj()
		if obj.Pkg() != nil && obj.Pkg().Path() != path && !obj.Exported() {
			return obj
		}
		if targs := n.TypeArgs(); targs != nil {
			for i := range targs.Len() {
				if o := unnameable(targs.At(i), path, seen); o != nil {
					return o
				}
			}
		}
		return nil
	}
	switch u := t.(type) {
	case *types.Pointer:
		return unnameable(u.Elem(), path, seen)
	case *types.Slice:
		return unnameable(u.Elem(), path, seen)
	case *types.Array:
		return unnameable(u.Elem(), path, seen)
	case *types.Map:
		if o := unnameable(u.Key(), path, seen); o != nil {
			return o
		}
		return unnameable(u.Elem(), path, seen)
	case *types.Chan:
		return unnameable(u.Elem(), path, seen)
	}
	return nil
}
