package runtime

import (
	"math"
	"math/bits"
	"strconv"
	"testing"
	"time"
)

// hashState is the method set Hash and StableHash share; tests written
// against it exercise both variants with one body.
type hashState[H any] interface {
	AddBool(bool) H
	AddInt(int64) H
	AddUint(uint64) H
	AddFloat(float64) H
	AddComplex(complex128) H
	AddString(string) H
	AddBytes([]byte) H
	AddTime(time.Time) H
	AddLen(int) H
	AddNil() H
	AddNotNil() H
	Entry() H
	Sum64() uint64
}

func TestHashPrimitivesEqualities(t *testing.T) {
	t.Run("Hash", func(t *testing.T) { testHashEqualities(t, NewHash()) })
	t.Run("StableHash", func(t *testing.T) { testHashEqualities(t, NewStableHash(7)) })
}

func testHashEqualities[H hashState[H]](t *testing.T, h H) {
	negZero := math.Copysign(0, -1)
	nan1 := math.NaN()
	nan2 := math.Float64frombits(0xfff8_0000_dead_beef)
	utc := time.Date(2024, 3, 1, 12, 0, 0, 500, time.UTC)
	tokyo := utc.In(time.FixedZone("JST", 9*3600))
	withMono := time.Now()
	noMono := withMono.Round(0)

	equal := []struct {
		name string
		a, b uint64
	}{
		{"-0 == +0", h.AddFloat(negZero).Sum64(), h.AddFloat(0).Sum64()},
		{"NaN == NaN with another payload", h.AddFloat(nan1).Sum64(), h.AddFloat(nan2).Sum64()},
		{"float32 NaN == float64 NaN", h.AddFloat(float64(float32(nan1))).Sum64(), h.AddFloat(nan2).Sum64()},
		{"complex -0", h.AddComplex(complex(negZero, negZero)).Sum64(), h.AddComplex(0).Sum64()},
		{"same instant, other location", h.AddTime(utc).Sum64(), h.AddTime(tokyo).Sum64()},
		{"monotonic reading ignored", h.AddTime(withMono).Sum64(), h.AddTime(noMono).Sum64()},
		{"nil bytes == empty bytes", h.AddBytes(nil).Sum64(), h.AddBytes([]byte{}).Sum64()},
		{"bytes == string", h.AddBytes([]byte("abc")).Sum64(), h.AddString("abc").Sum64()},
		{"deterministic", h.AddString("x").AddInt(3).Sum64(), h.AddString("x").AddInt(3).Sum64()},
		{"Entry restarts", h.AddInt(1).Entry().AddInt(9).Sum64(), h.AddInt(2).Entry().AddInt(9).Sum64()},
	}
	for _, c := range equal {
		if c.a != c.b {
			t.Errorf("%s: %#x != %#x", c.name, c.a, c.b)
		}
	}

	differ := []struct {
		name string
		a, b uint64
	}{
		{"string boundaries", h.AddString("ab").AddString("c").Sum64(), h.AddString("a").AddString("bc").Sum64()},
		{"slice boundaries",
			h.AddLen(2).AddLen(2).AddInt(1).AddInt(2).AddLen(1).AddInt(3).Sum64(),
			h.AddLen(2).AddLen(1).AddInt(1).AddLen(2).AddInt(2).AddInt(3).Sum64()},
		{"field order", h.AddInt(1).AddInt(2).Sum64(), h.AddInt(2).AddInt(1).Sum64()},
		{"nil vs empty slice", h.AddNil().Sum64(), h.AddLen(0).Sum64()},
		{"nil vs pointer to zero", h.AddNil().Sum64(), h.AddNotNil().AddInt(0).Sum64()},
		{"true vs false", h.AddBool(true).Sum64(), h.AddBool(false).Sum64()},
		{"empty string vs nothing", h.AddString("").Sum64(), h.Sum64()},
		{"zero int vs nothing", h.AddInt(0).Sum64(), h.Sum64()},
		{"+Inf vs -Inf", h.AddFloat(math.Inf(1)).Sum64(), h.AddFloat(math.Inf(-1)).Sum64()},
		{"time nanoseconds", h.AddTime(utc).Sum64(), h.AddTime(utc.Add(1)).Sum64()},
		{"real vs imag", h.AddComplex(complex(1, 0)).Sum64(), h.AddComplex(complex(0, 1)).Sum64()},
	}
	for _, c := range differ {
		if c.a == c.b {
			t.Errorf("%s: both %#x", c.name, c.a)
		}
	}
}

func TestHashSeeds(t *testing.T) {
	a, b := NewHash(), NewHash()
	if a.AddString("k").Sum64() == b.AddString("k").Sum64() {
		t.Error("two random seeds gave the same string hash")
	}
	if a.AddInt(1).Sum64() == b.AddInt(1).Sum64() {
		t.Error("two random seeds gave the same int hash")
	}
	if NewStableHash(1).AddInt(1).Sum64() == NewStableHash(2).AddInt(1).Sum64() {
		t.Error("two stable seeds gave the same hash")
	}
}

// TestStableHashGolden pins the stable variant: its keys may be stored by
// other processes, so any change to the mixing is a breaking change.
func TestStableHashGolden(t *testing.T) {
	got := NewStableHash(0).
		AddString("flujo").AddInt(-42).AddUint(42).AddFloat(1.5).AddBool(true).
		AddBytes([]byte{1, 2, 3}).AddLen(3).AddNil().AddNotNil().
		AddComplex(complex(1, -1)).AddTime(time.Unix(1700000000, 123).UTC()).Sum64()
	const want uint64 = 0xd9283c8bbba4a718
	if got != want {
		t.Fatalf("stable hash changed: got %#x, want %#x", got, want)
	}
}

func TestHashNoCollisionsOnSmallTuples(t *testing.T) {
	h := NewHash()
	seen := make(map[uint64][2]int, 1<<16)
	for i := range 256 {
		for j := range 256 {
			s := h.AddInt(int64(i)).AddInt(int64(j)).Sum64()
			if prev, ok := seen[s]; ok {
				t.Fatalf("(%d,%d) and %v collide", i, j, prev)
			}
			seen[s] = [2]int{i, j}
		}
	}
}

func TestHashAvalanche(t *testing.T) {
	// Flipping one input bit should flip about half of the output bits.
	h := NewStableHash(3)
	total, n := 0, 0
	for i := range 200 {
		v := uint64(i) * 0x9e3779b97f4a7c15
		base := h.AddUint(v).Sum64()
		for b := range 64 {
			total += bits.OnesCount64(base ^ h.AddUint(v^1<<b).Sum64())
			n++
		}
	}
	if avg := float64(total) / float64(n); avg < 30 || avg > 34 {
		t.Fatalf("average flipped output bits %.2f, want about 32", avg)
	}
}

func TestHashAllocatesNothing(t *testing.T) {
	h := NewHash()
	s := NewStableHash(1)
	k := benchKeyValue()
	var sink uint64
	if n := testing.AllocsPerRun(100, func() { sink += benchInlineHash(h, &k) }); n != 0 {
		t.Errorf("Hash inline hasher: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { sink += benchInlineHash(s, &k) }); n != 0 {
		t.Errorf("StableHash inline hasher: %v allocs, want 0", n)
	}
	_ = sink
}

// benchKey is a typical step input: strings, ints, a float, a slice and a
// nested struct.
type benchKey struct {
	Name    string
	Email   string
	Age     int
	Count   int64
	Score   float64
	Tags    []string
	Address benchAddress
}

type benchAddress struct {
	Street string
	Zip    int
}

func benchKeyValue() benchKey {
	return benchKey{
		Name: "Ada Lovelace", Email: "ada@example.com", Age: 36, Count: 1843,
		Score: 9.75, Tags: []string{"math", "engine", "notes"},
		Address: benchAddress{Street: "12 St James's Square", Zip: 10001},
	}
}

// benchInlineHash is written exactly as flujogen emits an inline hasher.
func benchInlineHash[H hashState[H]](h H, in *benchKey) uint64 {
	h = h.AddString(in.Name).AddString(in.Email).AddInt(int64(in.Age)).AddInt(in.Count).AddFloat(in.Score)
	if in.Tags == nil {
		h = h.AddNil()
	} else {
		h = h.AddLen(len(in.Tags))
		for _, s := range in.Tags {
			h = h.AddString(s)
		}
	}
	h = h.AddString(in.Address.Street).AddInt(int64(in.Address.Zip))
	return h.Sum64()
}

// benchInlineHashHash is benchInlineHash without type parameters, the exact
// shape of generated code, so the benchmark measures that and not generics.
func benchInlineHashHash(h Hash, in *benchKey) uint64 {
	h = h.AddString(in.Name).AddString(in.Email).AddInt(int64(in.Age)).AddInt(in.Count).AddFloat(in.Score)
	if in.Tags == nil {
		h = h.AddNil()
	} else {
		h = h.AddLen(len(in.Tags))
		for _, s := range in.Tags {
			h = h.AddString(s)
		}
	}
	h = h.AddString(in.Address.Street).AddInt(int64(in.Address.Zip))
	return h.Sum64()
}

func benchInlineHashStable(h StableHash, in *benchKey) uint64 {
	h = h.AddString(in.Name).AddString(in.Email).AddInt(int64(in.Age)).AddInt(in.Count).AddFloat(in.Score)
	if in.Tags == nil {
		h = h.AddNil()
	} else {
		h = h.AddLen(len(in.Tags))
		for _, s := range in.Tags {
			h = h.AddString(s)
		}
	}
	h = h.AddString(in.Address.Street).AddInt(int64(in.Address.Zip))
	return h.Sum64()
}

func TestBenchInlineHashMatchesGeneric(t *testing.T) {
	h, s := NewHash(), NewStableHash(5)
	k := benchKeyValue()
	if benchInlineHashHash(h, &k) != benchInlineHash(h, &k) || benchInlineHashStable(s, &k) != benchInlineHash(s, &k) {
		t.Fatal("the non-generic benchmark hashers differ from the generic one")
	}
}

func BenchmarkHashInline(b *testing.B) {
	h := NewHash()
	k := benchKeyValue()
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		sink += benchInlineHashHash(h, &k)
	}
	_ = sink
}

func BenchmarkHashInlineStable(b *testing.B) {
	h := NewStableHash(1)
	k := benchKeyValue()
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		sink += benchInlineHashStable(h, &k)
	}
	_ = sink
}

func BenchmarkHashString(b *testing.B) {
	for _, n := range []int{8, 32, 256, 4096} {
		s := string(make([]byte, n))
		b.Run("maphash/"+strconv.Itoa(n), func(b *testing.B) {
			h := NewHash()
			b.SetBytes(int64(n))
			var sink uint64
			for b.Loop() {
				sink += h.AddString(s).Sum64()
			}
			_ = sink
		})
		b.Run("xxhash/"+strconv.Itoa(n), func(b *testing.B) {
			h := NewStableHash(1)
			b.SetBytes(int64(n))
			var sink uint64
			for b.Loop() {
				sink += h.AddString(s).Sum64()
			}
			_ = sink
		})
	}
}
