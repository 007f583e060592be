package runtime

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// TypeFingerprint returns 16 hexadecimal digits that identify the
// structure of a step's input and output types: kinds, element, key and
// field types recursively, field names, tags and embedding, and the package
// path and name of named types. A change to either type changes the
// fingerprint, so a shared cache entry written for the old types is never
// read for the new ones. Executors compute it once, when they are built; it
// uses reflection and allocates.
func TypeFingerprint(in, out reflect.Type) string {
	var b strings.Builder
	seen := map[reflect.Type]int{}
	describeType(&b, in, seen)
	b.WriteString("->")
	describeType(&b, out, seen)
	return fmt.Sprintf("%016x", xxhash.Sum64String(b.String()))
}

// describeType writes the structure of t to b. Named types are numbered
// the first time they appear and referred to by number afterwards, which
// ends the recursion of recursive types.
func describeType(b *strings.Builder, t reflect.Type, seen map[reflect.Type]int) {
	if t == nil {
		b.WriteString("nil")
		return
	}
	if t.Name() != "" {
		if i, ok := seen[t]; ok {
			b.WriteString("@" + strconv.Itoa(i))
			return
		}
		seen[t] = len(seen)
		b.WriteString(strconv.Quote(t.PkgPath()) + "." + t.Name() + "=")
	}
	b.WriteString(t.Kind().String())
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		b.WriteByte('(')
		describeType(b, t.Elem(), seen)
		b.WriteByte(')')
	case reflect.Array:
		b.WriteString("[" + strconv.Itoa(t.Len()) + "](")
		describeType(b, t.Elem(), seen)
		b.WriteByte(')')
	case reflect.Chan:
		b.WriteString("[" + t.ChanDir().String() + "](")
		describeType(b, t.Elem(), seen)
		b.WriteByte(')')
	case reflect.Map:
		b.WriteByte('(')
		describeType(b, t.Key(), seen)
		b.WriteByte(',')
		describeType(b, t.Elem(), seen)
		b.WriteByte(')')
	case reflect.Struct:
		b.WriteByte('{')
		for i := range t.NumField() {
			f := t.Field(i)
			if i > 0 {
				b.WriteByte(';')
			}
			if f.Anonymous {
				b.WriteString("embed ")
			}
			b.WriteString(strconv.Quote(f.PkgPath) + "." + f.Name + " " + strconv.Quote(string(f.Tag)) + " ")
			describeType(b, f.Type, seen)
		}
		b.WriteByte('}')
	case reflect.Func:
		b.WriteByte('(')
		for i := range t.NumIn() {
			describeType(b, t.In(i), seen)
			b.WriteByte(',')
		}
		if t.IsVariadic() {
			b.WriteString("...")
		}
		b.WriteString(")(")
		for i := range t.NumOut() {
			describeType(b, t.Out(i), seen)
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case reflect.Interface:
		b.WriteByte('{')
		for i := range t.NumMethod() {
			m := t.Method(i)
			b.WriteString(strconv.Quote(m.PkgPath) + "." + m.Name + " ")
			describeType(b, m.Type, seen)
			b.WriteByte(';')
		}
		b.WriteByte('}')
	}
}

// SharedCacheKey returns the key of a step's result in a shared cache,
// without the store's prefix: "c:<pipeline>/<step>:<types>:<input>", where
// types is the step's TypeFingerprint and input 16 hexadecimal digits of
// the xxhash64 of the input's JSON encoding. Both engines build keys with
// it, so a generated executor and an ExecutorCore of the same pipeline
// share entries.
func SharedCacheKey(prefix string, input []byte) string {
	var buf [16]byte
	h := strconv.AppendUint(buf[:0], xxhash.Sum64(input), 16)
	return prefix + strings.Repeat("0", 16-len(h)) + string(h)
}

// SharedCacheKeyPrefix returns the part of SharedCacheKey that is fixed for
// one step: "c:<pipeline>/<step>:<types>:".
func SharedCacheKeyPrefix(pipeline, step, types string) string {
	return "c:" + pipeline + "/" + step + ":" + types + ":"
}

// CheckSharedCacheTypes reports why results of a step whose input and
// output types are in and out cannot go through a shared cache, or nil
// when they can. A shared entry is found by the JSON encoding of the input
// and hands out an output decoded from JSON, so:
//
//   - two different inputs must encode differently: the input type may
//     hold no field that JSON leaves out (unexported, or tagged "-") and no
//     interface (JSON drops the dynamic type: 3 and 3.0 both encode as 3);
//   - the output must decode into the type the step returned: its declared
//     type may not be an interface.
//
// Types that encode themselves (json.Marshaler, encoding.TextMarshaler) are
// taken as they encode, and types that hash themselves (Hashable) as their
// JSON encoding tells values apart: keep it in step with Hash64. An
// output's unexported fields do not travel. Executors call it once per
// cached step, when they build it; such a step is cached by each replica
// on its own.
func CheckSharedCacheTypes(in, out reflect.Type) error {
	if why := jsonLoses(in, "input", map[reflect.Type]bool{}, true); why != "" {
		return fmt.Errorf("the input type %v: %s", in, why)
	}
	o := out
	for o != nil && o.Kind() == reflect.Pointer {
		o = o.Elem()
	}
	if o == nil || o.Kind() == reflect.Interface {
		return fmt.Errorf("the output type %v is an interface: JSON cannot rebuild the value the step returned", out)
	}
	return nil
}

// CheckCodecType reports why a cache that stores values of type t encoded
// as JSON (cache_compression) would not hand back the value it was given,
// or nil when JSON carries t faithfully: t may not be, nor hold, an
// interface (JSON drops the dynamic type: a hit would be a map, a float64
// or nil), nor hold a field that JSON leaves out (unexported, or tagged
// "-"). Types that encode themselves (json.Marshaler,
// encoding.TextMarshaler) are taken as they encode. With cache_compression,
// both engines store the results of a step whose output type fails it as
// values, deep-copied as without compression, rather than encoded;
// flujogen decides the same from its type model (keep the two in step).
func CheckCodecType(t reflect.Type) error {
	if why := jsonLoses(t, "output", map[reflect.Type]bool{}, false); why != "" {
		return fmt.Errorf("the output type %v: %s", t, why)
	}
	return nil
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// jsonLoses returns what JSON loses of a value of type t, reached at path,
// or "" when it encodes all of it. hashable takes a type that hashes
// itself (Hashable) as told apart by its encoding, as inputs are.
func jsonLoses(t reflect.Type, path string, seen map[reflect.Type]bool, hashable bool) string {
	if t == nil {
		return path + " has no type"
	}
	if t.Kind() == reflect.Interface {
		return path + " is an interface, whose dynamic type JSON drops"
	}
	if seen[t] {
		return ""
	}
	seen[t] = true
	// A method of *T does not encode a T that is not addressable (the
	// input itself, a map value): only t's own method set counts.
	if t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) || (hashable && t.Implements(hashableType)) {
		return ""
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return jsonLoses(t.Elem(), path+"[i]", seen, hashable)
	case reflect.Map:
		return jsonLoses(t.Elem(), path+"[k]", seen, hashable)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			switch {
			case f.Tag.Get("json") == "-":
				return path + "." + f.Name + ` is tagged json:"-"`
			case !f.IsExported() && !(f.Anonymous && embedsStruct(f.Type)):
				// JSON encodes the exported fields of an embedded
				// struct, whatever its name.
				return path + "." + f.Name + " is unexported"
			}
			if why := jsonLoses(f.Type, path+"."+f.Name, seen, hashable); why != "" {
				return why
			}
		}
	}
	return ""
}

// embedsStruct reports whether an embedded field of type t promotes its
// fields in JSON: a struct or a pointer to one.
func embedsStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

// SharedCacheInputAmbiguous reports whether enc, the JSON encoding of an
// input, may stand for other inputs too: JSON writes every invalid UTF-8
// byte of a string as \ufffd, so "a\xff" and "a\xfe" encode alike. Such an
// input is cached locally only. (A valid U+FFFD is written as itself.)
func SharedCacheInputAmbiguous(enc []byte) bool {
	return bytes.Contains(enc, []byte(`\ufffd`))
}
