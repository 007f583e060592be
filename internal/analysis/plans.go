package analysis

import (
	"go/types"
)

// hashPlan returns the plan for hashing values of t, following the
// canonical order of the runtime's hashing primitives.
func (a *analyzer) hashPlan(t types.Type) *HashPlan {
	k := a.types.describe(t, a)
	if p, ok := a.hashes[k]; ok {
		return p
	}
	b := &hashBuilder{a: a, plan: &HashPlan{Hashable: true}, stack: map[string]bool{}, recursive: map[string]bool{}}
	root := b.build(t, "in", "")
	if b.plan.Hashable {
		b.plan.Root = root
	} else {
		b.plan.Named, b.plan.Reflective = nil, false
	}
	a.hashes[k] = b.plan
	return b.plan
}

type hashBuilder struct {
	a    *analyzer
	plan *HashPlan
	// stack holds the named types being built; recursive those found
	// referring to themselves.
	stack, recursive map[string]bool
}

// build plans the value at path of type t; fieldPos is the position of the
// innermost struct field on the path, for messages.
func (b *hashBuilder) build(t types.Type, path, fieldPos string) *HashNode {
	k := b.a.types.describe(t, b.a)
	t = types.Unalias(t)
	n := &HashNode{Path: path, Type: k}
	if hasHashMethod(t) {
		n.How = HashMethod
		return n
	}
	if isTime(t) {
		n.How = HashTime
		return n
	}
	if _, ok := t.(*types.TypeParam); ok {
		b.unhashable(path, k, "type parameter", fieldPos)
		return n
	}
	if _, ok := t.(*types.Named); ok {
		if b.stack[k] {
			b.recursive[k] = true
			n.How, n.Ref = HashRef, k
			return n
		}
		b.stack[k] = true
		body := b.structure(t, n, path, fieldPos)
		delete(b.stack, k)
		if b.recursive[k] {
			if b.plan.Named == nil {
				b.plan.Named = map[string]*HashNode{}
			}
			b.plan.Named[k] = body
			return &HashNode{Path: path, Type: k, How: HashRef, Ref: k}
		}
		return body
	}
	return b.structure(t, n, path, fieldPos)
}

func (b *hashBuilder) structure(t types.Type, n *HashNode, path, fieldPos string) *HashNode {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsBoolean != 0:
			n.How = HashBool
		case u.Kind() == types.UnsafePointer:
			b.unhashable(path, n.Type, "unsafe.Pointer", fieldPos)
		case u.Info()&types.IsUnsigned != 0:
			n.How = HashUint
		case u.Info()&types.IsInteger != 0:
			n.How = HashInt
		case u.Info()&types.IsFloat != 0:
			n.How = HashFloat
		case u.Info()&types.IsComplex != 0:
			n.How = HashComplex
		case u.Info()&types.IsString != 0:
			n.How = HashString
		default:
			b.unhashable(path, n.Type, u.Name(), fieldPos)
		}
	case *types.Struct:
		n.How = HashStruct
		n.Fields = []*HashField{}
		for i := range u.NumFields() {
			f := u.Field(i)
			if f.Name() == "_" {
				continue
			}
			fp := path + "." + f.Name()
			n.Fields = append(n.Fields, &HashField{Name: f.Name(), Plan: b.build(f.Type(), fp, b.a.sourcePos(f))})
		}
	case *types.Array:
		if isByte(u.Elem()) {
			n.How = HashBytes
			return n
		}
		n.How = HashArray
		n.Elem = b.build(u.Elem(), path+"[i]", fieldPos)
	case *types.Slice:
		if isByte(u.Elem()) {
			n.How = HashBytes
			return n
		}
		n.How = HashSlice
		n.Elem = b.build(u.Elem(), path+"[i]", fieldPos)
		n.CycleCheck = hashHasRef(n.Elem)
	case *types.Map:
		n.How = HashMap
		n.Key = b.build(u.Key(), "key("+path+")", fieldPos)
		n.Elem = b.build(u.Elem(), path+"[k]", fieldPos)
		n.CycleCheck = hashHasRef(n.Elem)
	case *types.Pointer:
		n.How = HashPointer
		ep := "*" + path
		if _, ok := u.Elem().Underlying().(*types.Struct); ok {
			ep = path // fields read through the pointer as in Go: in.Next.Name
		}
		n.Elem = b.build(u.Elem(), ep, fieldPos)
		n.CycleCheck = hashHasRef(n.Elem)
	case *types.Interface:
		n.How = HashInterface
		b.plan.Reflective = true
	case *types.Signature:
		b.unhashable(path, n.Type, "func", fieldPos)
	case *types.Chan:
		b.unhashable(path, n.Type, "chan", fieldPos)
	default:
		b.unhashable(path, n.Type, "type without a hashing rule", fieldPos)
	}
	return n
}

// unhashable records the first part that cannot be hashed.
func (b *hashBuilder) unhashable(path, typ, what, pos string) {
	if !b.plan.Hashable {
		return
	}
	b.plan.Hashable = false
	b.plan.Unhashable = &Unhashable{Path: path, Type: typ, Reason: what, Pos: pos}
}

// hashHasRef reports whether a plan refers to a recursive type, so values
// may form cycles through it.
func hashHasRef(n *HashNode) bool {
	if n == nil {
		return false
	}
	if n.How == HashRef {
		return true
	}
	for _, f := range n.Fields {
		if hashHasRef(f.Plan) {
			return true
		}
	}
	return hashHasRef(n.Elem) || hashHasRef(n.Key)
}

func isByte(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Kind() == types.Uint8
}

// copyPlan returns the plan for deep-copying values of t, as the dynamic
// engine copies cache hits: everything reference-typed is duplicated,
// funcs and chans are shared.
func (a *analyzer) copyPlan(t types.Type) *CopyPlan {
	k := a.types.describe(t, a)
	if p, ok := a.copies[k]; ok {
		return p
	}
	b := &copyBuilder{a: a, plan: &CopyPlan{NeedsCopy: hasRefs(t, map[types.Type]bool{})}, stack: map[string]bool{}, recursive: map[string]bool{}}
	b.plan.Root = b.build(t, "out")
	b.plan.Shared = sharedParts(t, "out", map[types.Type]bool{}, nil)
	a.copies[k] = b.plan
	return b.plan
}

type copyBuilder struct {
	a                *analyzer
	plan             *CopyPlan
	stack, recursive map[string]bool
}

func (b *copyBuilder) build(t types.Type, path string) *CopyNode {
	k := b.a.types.describe(t, b.a)
	t = types.Unalias(t)
	n := &CopyNode{Path: path, Type: k, How: CopyValue}
	if !hasRefs(t, map[types.Type]bool{}) {
		switch t.Underlying().(type) {
		case *types.Signature, *types.Chan:
			n.How = CopyShared
		default:
			if b, ok := t.Underlying().(*types.Basic); ok && b.Kind() == types.UnsafePointer {
				n.How = CopyShared
			}
		}
		return n
	}
	if _, ok := t.(*types.Named); ok {
		if b.stack[k] {
			b.recursive[k] = true
			n.How, n.Ref = CopyRef, k
			return n
		}
		b.stack[k] = true
		body := b.structure(t, n, path)
		delete(b.stack, k)
		if b.recursive[k] {
			if b.plan.Named == nil {
				b.plan.Named = map[string]*CopyNode{}
			}
			b.plan.Named[k] = body
			return &CopyNode{Path: path, Type: k, How: CopyRef, Ref: k}
		}
		return body
	}
	return b.structure(t, n, path)
}

func (b *copyBuilder) structure(t types.Type, n *CopyNode, path string) *CopyNode {
	if _, ok := t.(*types.TypeParam); ok {
		n.How = CopyInterface
		b.plan.Reflective = true
		return n
	}
	switch u := t.Underlying().(type) {
	case *types.Struct:
		n.How = CopyStruct
		for i := range u.NumFields() {
			f := u.Field(i)
			if !hasRefs(f.Type(), map[types.Type]bool{}) {
				continue
			}
			n.Fields = append(n.Fields, &CopyField{Name: f.Name(), Plan: b.build(f.Type(), path+"."+f.Name())})
		}
	case *types.Array:
		n.How = CopyArray
		n.Elem = b.build(u.Elem(), path+"[i]")
	case *types.Slice:
		n.How = CopySlice
		n.Elem = b.build(u.Elem(), path+"[i]")
		n.CycleCheck = copyHasRef(n.Elem)
	case *types.Map:
		n.How = CopyMap
		if hasRefs(u.Key(), map[types.Type]bool{}) {
			n.Key = b.build(u.Key(), "key("+path+")")
		}
		n.Elem = b.build(u.Elem(), path+"[k]")
		n.CycleCheck = copyHasRef(n.Elem) || copyHasRef(n.Key)
	case *types.Pointer:
		n.How = CopyPointer
		ep := "*" + path
		if _, ok := u.Elem().Underlying().(*types.Struct); ok {
			ep = path
		}
		n.Elem = b.build(u.Elem(), ep)
		n.CycleCheck = copyHasRef(n.Elem)
	case *types.Interface:
		n.How = CopyInterface
		b.plan.Reflective = true
	}
	return n
}

func copyHasRef(n *CopyNode) bool {
	if n == nil {
		return false
	}
	if n.How == CopyRef {
		return true
	}
	for _, f := range n.Fields {
		if copyHasRef(f.Plan) {
			return true
		}
	}
	return copyHasRef(n.Elem) || copyHasRef(n.Key)
}

// sharedParts lists the paths of funcs, chans and unsafe pointers within
// t, which a deep copy shares with the original.
func sharedParts(t types.Type, path string, visiting map[types.Type]bool, out []string) []string {
	if visiting[t] {
		return out
	}
	visiting[t] = true
	defer delete(visiting, t)
	switch u := t.Underlying().(type) {
	case *types.Signature, *types.Chan:
		return append(out, path)
	case *types.Basic:
		if u.Kind() == types.UnsafePointer {
			return append(out, path)
		}
	case *types.Struct:
		for i := range u.NumFields() {
			f := u.Field(i)
			out = sharedParts(f.Type(), path+"."+f.Name(), visiting, out)
		}
	case *types.Pointer:
		out = sharedParts(u.Elem(), path, visiting, out)
	case *types.Slice:
		out = sharedParts(u.Elem(), path+"[i]", visiting, out)
	case *types.Array:
		out = sharedParts(u.Elem(), path+"[i]", visiting, out)
	case *types.Map:
		out = sharedParts(u.Elem(), path+"[k]", visiting, out)
	}
	return out
}
