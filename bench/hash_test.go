package bench

import (
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/mitchellh/hashstructure/v2"

	"github.com/flujo/flujo/runtime"
)

// hashOwner is the nested struct of hashKey.
type hashOwner struct {
	Email string
	Team  string
	Level int32
}

// hashKey is a typical step input used as a cache key: strings, integers,
// a float, a slice and a nested struct.
type hashKey struct {
	Name    string
	Region  string
	ID      int64
	Attempt int
	Score   float64
	Tags    []string
	Owner   hashOwner
	Active  bool
}

func sampleHashKey() hashKey {
	return hashKey{
		Name:    "classify-ticket",
		Region:  "eu-west-1",
		ID:      1234567,
		Attempt: 2,
		Score:   0.875,
		Tags:    []string{"billing", "urgent", "vip"},
		Owner:   hashOwner{Email: "ops@example.com", Team: "support", Level: 3},
		Active:  true,
	}
}

// hashKeyInline and hashOwnerInline are written exactly as flujogen emits
// inline hashers, following the canonical order documented in runtime.
func hashKeyInline(h runtime.Hash, v *hashKey) runtime.Hash {
	h = h.AddString(v.Name).AddString(v.Region).AddInt(v.ID).AddInt(int64(v.Attempt)).AddFloat(v.Score)
	if v.Tags == nil {
		h = h.AddNil()
	} else {
		h = h.AddLen(len(v.Tags))
		for _, s := range v.Tags {
			h = h.AddString(s)
		}
	}
	h = hashOwnerInline(h, &v.Owner)
	h = h.AddBool(v.Active)
	return h
}

func hashOwnerInline(h runtime.Hash, v *hashOwner) runtime.Hash {
	return h.AddString(v.Email).AddString(v.Team).AddInt(int64(v.Level))
}

// stableHashKeyInline is hashKeyInline for the cross-process variant.
func stableHashKeyInline(h runtime.StableHash, v *hashKey) runtime.StableHash {
	h = h.AddString(v.Name).AddString(v.Region).AddInt(v.ID).AddInt(int64(v.Attempt)).AddFloat(v.Score)
	if v.Tags == nil {
		h = h.AddNil()
	} else {
		h = h.AddLen(len(v.Tags))
		for _, s := range v.Tags {
			h = h.AddString(s)
		}
	}
	h = h.AddString(v.Owner.Email).AddString(v.Owner.Team).AddInt(int64(v.Owner.Level))
	h = h.AddBool(v.Active)
	return h
}

// TestHashKeyInlineMatchesReflect checks that the hand-written inline hasher
// benchmarked below is the one the reflective hasher stands in for.
func TestHashKeyInlineMatchesReflect(t *testing.T) {
	seed := runtime.NewHash()
	r, err := runtime.NewReflectHasher(seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []hashKey{sampleHashKey(), {}, {Tags: []string{}}} {
		got, err := r.Hash(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := hashKeyInline(seed, &v).Sum64(); got != want {
			t.Errorf("%+v: reflective %#x, inline %#x", v, got, want)
		}
	}
}

// BenchmarkHash computes a 64-bit key for hashKey four ways: the inline
// hasher generated code uses, the reflective hasher of the dynamic
// ExecutorCore, hashstructure, and JSON encoding plus SHA-256 (what the
// Python original did). Inputs reach the dynamic hashers already boxed in an
// interface, as they reach a dynamic executor.
func BenchmarkHash(b *testing.B) {
	key := sampleHashKey()
	var boxed any = key

	b.Run("struct/flujo", func(b *testing.B) {
		seed := runtime.NewHash()
		b.ReportAllocs()
		for b.Loop() {
			_ = hashKeyInline(seed, &key).Sum64()
		}
	})
	b.Run("struct/flujo-stable", func(b *testing.B) {
		seed := runtime.NewStableHash(42)
		b.ReportAllocs()
		for b.Loop() {
			_ = stableHashKeyInline(seed, &key).Sum64()
		}
	})
	b.Run("struct/flujo-reflect", func(b *testing.B) {
		r, err := runtime.NewReflectHasher(runtime.NewHash())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Hash(boxed); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("struct/hashstructure", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := hashstructure.Hash(boxed, hashstructure.FormatV2, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("struct/json-sha256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := json.Marshal(boxed)
			if err != nil {
				b.Fatal(err)
			}
			_ = sha256.Sum256(data)
		}
	})
}
