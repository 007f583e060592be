package runtime

import (
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
