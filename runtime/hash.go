package runtime

import (
	"hash/maphash"
	"math"
	"math/bits"
	"math/rand/v2"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// Canonical hashing order: the contract between the inline hashers that
// flujogen emits and ReflectHasher. Both must feed the same primitives, in the
// same order, for equal values; TestInlineMatchesReflect holds them to it.
//
// A value of static type T adds to the running Hash h as follows:
//
//   - T, not an interface, implements Hashable: h.AddUint(v.Hash64()). This
//     wins over every rule below. Go's method sets decide: *T implements it
//     when T does, and a struct embedding a Hashable type implements it by
//     promotion, which leaves its other fields out; declare Hash64 on the
//     outer type to count them. A pointer type that implements Hashable adds
//     h.AddNil() when nil.
//   - time.Time: h.AddTime(v), which reads the instant only: equal instants
//     (time.Time.Equal) hash equal whatever their location, and the
//     monotonic reading is ignored.
//   - bool: h.AddBool(v).
//   - int, int8, int16, int32, int64: h.AddInt(int64(v)).
//   - uint, uint8, uint16, uint32, uint64, uintptr: h.AddUint(uint64(v)).
//   - float32, float64: h.AddFloat(float64(v)); -0 equals +0 and every NaN
//     equals every other NaN.
//   - complex64, complex128: h.AddComplex(complex128(v)).
//   - string: h.AddString(v).
//   - struct: its fields in declaration order, each by its own rule. Embedded
//     and unexported fields count like any other; blank (_) fields are
//     skipped. No delimiter is added: the static type fixes the layout.
//   - array [N]E: when E's kind is uint8, h.AddBytes(v[:]); otherwise the N
//     elements in index order. The length is static and not added.
//   - slice []E: nil adds h.AddNil(). Otherwise, when E's kind is uint8,
//     h.AddBytes(v); else h.AddLen(len(v)) and then the elements in order.
//   - map[K]V: nil adds h.AddNil(). Otherwise each entry is hashed on its
//     own, e := h.Entry(), key then value added to e, and the entries' e.Sum64()
//     are summed (uint64 wrap-around); then h.AddLen(len(v)).AddUint(sum).
//     The sum makes the result independent of iteration order.
//   - pointer *E: nil adds h.AddNil(); otherwise h.AddNotNil() and then *v.
//   - interface: nil adds h.AddNil(); otherwise h.AddNotNil(), then
//     h.AddString(id) where id is the dynamic type's identity (see
//     hashTypeIdentity: package paths included), then the dynamic value.
//   - func, chan, unsafe.Pointer: not hashable; the reflective hasher reports
//     an error naming the path, and flujogen refuses the type.
//
// The key is h.Sum64(). Strings and byte slices are hashed whole and then
// mixed in, and variable-size sequences carry their length, so ("ab","c")
// and ("a","bc") differ, as do [][]int{{1,2},{3}} and {{1},{2,3}}.

// Hashable is implemented by types that hash themselves. Equal values must
// return equal results; the result is mixed into the seeded hash, so it need
// not be seeded itself.
type Hashable interface {
	Hash64() uint64
}

// Mixing constants: odd 64-bit values with well spread bits (from wyhash).
const (
	hashK0 = 0xa0761d6478bd642f
	hashK1 = 0xe7037ed1a0b428db
	hashK2 = 0x8ebc6af09c88c6e3

	// Tags for structure, chosen outside the range of lengths (< 2^63).
	hashTagNil    = 0xfffffffffffffff1
	hashTagNotNil = 0xfffffffffffffff3
	hashTagFalse  = 0x7a3c5ea1b46d8f20
	hashTagTrue   = 0x5f1e9c27d8b3a461

	// hashNaN is the single bit pattern every NaN is hashed as.
	hashNaN = 0x7ff8000000000001
)

// hashMix folds v into the accumulator: a 64x64->128 multiply whose halves
// are xored. It depends on acc^v only; with a secret seed in acc an outsider
// cannot aim a value at the multiply's fixed points.
func hashMix(acc, v uint64) uint64 {
	hi, lo := bits.Mul64(acc^v, hashK1)
	return hi ^ lo
}

// hashFinal spreads the accumulator's entropy over every output bit.
func hashFinal(acc uint64) uint64 {
	hi, lo := bits.Mul64(acc^hashK2, hashK0)
	return hi ^ lo ^ acc
}

// hashFloatBits returns the canonical bits of f: +0 for -0, one NaN for all.
func hashFloatBits(f float64) uint64 {
	if f != f {
		return hashNaN
	}
	return math.Float64bits(f + 0) // -0 + 0 is +0
}

// hashString, hashBytes, hashTime and hashComplex stay out of line so that the methods
// calling them fit the inlining budget; a call was needed for the string
// hash anyway.
//
// maphash.Comparable hashes a string in one pass of the runtime's AES-based
// hash; maphash.String goes in 128-byte chunks and is several times slower on
// long strings (about 6 vs 8 ns at 32 bytes, 74 vs 656 ns at 4 KiB).
func hashString(acc uint64, seed maphash.Seed, s string) uint64 {
	return hashMix(acc, maphash.Comparable(seed, s))
}

func hashBytes(acc uint64, seed maphash.Seed, b []byte) uint64 {
	// The string aliases b only for the duration of the call.
	return hashMix(acc, maphash.Comparable(seed, unsafe.String(unsafe.SliceData(b), len(b))))
}

func hashStableString(acc uint64, s string) uint64 {
	return hashMix(acc, xxhash.Sum64String(s))
}

func hashStableBytes(acc uint64, b []byte) uint64 {
	return hashMix(acc, xxhash.Sum64(b))
}

func hashTime(acc uint64, t time.Time) uint64 {
	return hashMix(hashMix(acc, uint64(t.Unix())), uint64(t.Nanosecond()))
}

//go:noinline
func hashComplex(acc uint64, c complex128) uint64 {
	return hashMix(hashMix(acc, hashFloatBits(real(c))), hashFloatBits(imag(c)))
}

func hashBoolBits(b bool) uint64 {
	if b {
		return hashTagTrue
	}
	return hashTagFalse
}

// Hash is the running state of an in-process hash with a random seed, the
// kind the executors use for cache keys. Its methods return the updated
// state, so generated code reads
//
//	h := e.seed
//	h = h.AddString(in.Name).AddInt(int64(in.N))
//	key := h.Sum64()
//
// Every method inlines and allocates nothing. Results are stable within one
// process for one seed, and differ between seeds and processes. The zero
// Hash has no seed and must not be used: start from NewHash.
type Hash struct {
	acc  uint64
	key  uint64 // the starting accumulator, for Entry
	seed maphash.Seed
}

// NewHash returns the starting state of a hash with a fresh random seed.
// Each executor takes one when it is built.
func NewHash() Hash {
	k := rand.Uint64()
	return Hash{acc: k, key: k, seed: maphash.MakeSeed()}
}

// AddBool adds b.
func (h Hash) AddBool(b bool) Hash { h.acc = hashMix(h.acc, hashBoolBits(b)); return h }

// AddInt adds a signed integer of any width, converted to int64.
func (h Hash) AddInt(v int64) Hash { h.acc = hashMix(h.acc, uint64(v)); return h }

// AddUint adds an unsigned integer of any width, converted to uint64.
func (h Hash) AddUint(v uint64) Hash { h.acc = hashMix(h.acc, v); return h }

// AddFloat adds a float; -0 and +0 hash equal, and so do all NaNs.
func (h Hash) AddFloat(f float64) Hash { h.acc = hashMix(h.acc, hashFloatBits(f)); return h }

// AddComplex adds the real and then the imaginary part, as AddFloat does.
func (h Hash) AddComplex(c complex128) Hash {
	h.acc = hashComplex(h.acc, c)
	return h
}

// AddString adds s, hashed whole with the seed's string hash.
func (h Hash) AddString(s string) Hash {
	h.acc = hashString(h.acc, h.seed, s)
	return h
}

// AddBytes adds b, hashed whole like a string; nil and empty hash equal.
func (h Hash) AddBytes(b []byte) Hash {
	h.acc = hashBytes(h.acc, h.seed, b)
	return h
}

// AddTime adds the instant t denotes: seconds and nanoseconds since the Unix
// epoch. The location and the monotonic reading do not count.
func (h Hash) AddTime(t time.Time) Hash {
	h.acc = hashTime(h.acc, t)
	return h
}

// AddLen adds the length of a non-nil slice or map, before its elements.
func (h Hash) AddLen(n int) Hash { h.acc = hashMix(h.acc, uint64(n)); return h }

// AddNil marks a nil pointer, slice, map or interface.
func (h Hash) AddNil() Hash { h.acc = hashMix(h.acc, hashTagNil); return h }

// AddNotNil marks a non-nil pointer or interface, before what it refers to.
func (h Hash) AddNotNil() Hash { h.acc = hashMix(h.acc, hashTagNotNil); return h }

// Entry returns a fresh state with h's seed, for hashing one map entry on
// its own (see the ordering contract above).
func (h Hash) Entry() Hash { h.acc = h.key ^ hashK2; return h }

// Sum64 returns the hash of everything added so far.
func (h Hash) Sum64() uint64 { return hashFinal(h.acc) }

// StableHash is the running state of a hash that agrees across processes and
// machines for one seed, for keys that leave the process. It has the methods
// of Hash with the same contract; strings and bytes go through xxHash64.
// Being predictable, it must not key a cache that untrusted input can flood.
type StableHash struct {
	acc uint64
	key uint64
}

// NewStableHash returns the starting state of a stable hash for seed. Any
// seed, zero included, is valid.
func NewStableHash(seed uint64) StableHash {
	k := hashMix(seed, hashK0)
	return StableHash{acc: k, key: k}
}

// AddBool adds b.
func (h StableHash) AddBool(b bool) StableHash { h.acc = hashMix(h.acc, hashBoolBits(b)); return h }

// AddInt adds a signed integer of any width, converted to int64.
func (h StableHash) AddInt(v int64) StableHash { h.acc = hashMix(h.acc, uint64(v)); return h }

// AddUint adds an unsigned integer of any width, converted to uint64.
func (h StableHash) AddUint(v uint64) StableHash { h.acc = hashMix(h.acc, v); return h }

// AddFloat adds a float; -0 and +0 hash equal, and so do all NaNs.
func (h StableHash) AddFloat(f float64) StableHash {
	h.acc = hashMix(h.acc, hashFloatBits(f))
	return h
}

// AddComplex adds the real and then the imaginary part, as AddFloat does.
func (h StableHash) AddComplex(c complex128) StableHash {
	h.acc = hashComplex(h.acc, c)
	return h
}

// AddString adds s, hashed whole with xxHash64.
func (h StableHash) AddString(s string) StableHash {
	h.acc = hashStableString(h.acc, s)
	return h
}

// AddBytes adds b, hashed whole like a string; nil and empty hash equal.
func (h StableHash) AddBytes(b []byte) StableHash {
	h.acc = hashStableBytes(h.acc, b)
	return h
}

// AddTime adds the instant t denotes, as Hash.AddTime does.
func (h StableHash) AddTime(t time.Time) StableHash {
	h.acc = hashTime(h.acc, t)
	return h
}

// AddLen adds the length of a non-nil slice or map, before its elements.
func (h StableHash) AddLen(n int) StableHash { h.acc = hashMix(h.acc, uint64(n)); return h }

// AddNil marks a nil pointer, slice, map or interface.
func (h StableHash) AddNil() StableHash { h.acc = hashMix(h.acc, hashTagNil); return h }

// AddNotNil marks a non-nil pointer or interface, before what it refers to.
func (h StableHash) AddNotNil() StableHash { h.acc = hashMix(h.acc, hashTagNotNil); return h }

// Entry returns a fresh state with h's seed, for hashing one map entry.
func (h StableHash) Entry() StableHash { h.acc = h.key ^ hashK2; return h }

// Sum64 returns the hash of everything added so far.
func (h StableHash) Sum64() uint64 { return hashFinal(h.acc) }
