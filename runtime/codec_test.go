package runtime

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

type codecDoc struct {
	Title string
	Tags  []string
	Score float64
	Body  string
}

// codecText returns n bytes of English-like text: words drawn at random from
// a small vocabulary, in sentences and paragraphs, like a language model's
// output. It compresses less than repeated text would.
func codecText(n int) string {
	words := strings.Fields(`the of and to a in is it you that he was for on are with as his they be at one
have this from or had by hot word but what some we can out other were all there when up use your how said
an each she which do their time if will way about many then them write would like so these her long make
thing see him two has look more day could go come did number sound no most people my over know water than
call first who may down side been now find any new work part take get place made live where after back
little only round man year came show every good me give our under name very through just form sentence
great think say help low line differ turn cause much mean before move right boy old too same tell does set
three want air well also play small end put home read hand port large spell add even land here must big
high such follow act why ask men change went light kind off need house picture try us again animal point
mother world near build self earth father`)
	r := rand.New(rand.NewPCG(11, 12))
	var b strings.Builder
	for b.Len() < n {
		k := 5 + r.IntN(15)
		for i := range k {
			w := words[r.IntN(len(words))]
			if i == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			b.WriteString(w)
			if i < k-1 {
				b.WriteByte(' ')
			}
		}
		b.WriteString(". ")
		if r.IntN(6) == 0 {
			b.WriteString("\n\n")
		}
	}
	return b.String()[:n]
}

func TestCodecsRoundTrip(t *testing.T) {
	in := codecDoc{Title: "t", Tags: []string{"a", "b"}, Score: 1.5, Body: "body"}
	for _, c := range []Codec{JSONCodec{}} {
		b, err := c.Marshal(in)
		if err != nil {
			t.Fatalf("%T: %v", c, err)
		}
		var out codecDoc
		if err := c.Unmarshal(b, &out); err != nil {
			t.Fatalf("%T: %v", c, err)
		}
		if out.Title != in.Title || out.Score != in.Score || out.Body != in.Body || strings.Join(out.Tags, ",") != "a,b" {
			t.Fatalf("%T: round trip gave %+v", c, out)
		}
	}
}

func TestCodecPackFrames(t *testing.T) {
	comp, err := NewCompressor()
	if err != nil {
		t.Fatal(err)
	}
	defer comp.Close()
	small := []byte(`{"a":1}`)
	large := []byte(codecText(8 << 10))
	noise := make([]byte, 4<<10)
	for i := range noise {
		noise[i] = byte(rand.Uint32())
	}
	cases := []struct {
		name       string
		comp       *Compressor
		in         []byte
		above      int
		compressed bool
	}{
		{"small stays plain", comp, small, 100, false},
		{"large is compressed", comp, large, 100, true},
		{"no threshold", comp, large, 0, false},
		{"no compressor", nil, large, 100, false},
		{"incompressible stays plain", comp, noise, 100, false},
	}
	for _, c := range cases {
		packed := codecPack(c.comp, append([]byte(nil), c.in...), c.above)
		if got := packed[len(packed)-1] == codecTagZstd; got != c.compressed {
			t.Errorf("%s: compressed = %v", c.name, got)
		}
		if cap(packed)-len(packed) > len(packed)/8 {
			t.Errorf("%s: %d spare bytes kept", c.name, cap(packed)-len(packed))
		}
		out, err := codecUnpack(comp, packed)
		if err != nil || !bytes.Equal(out, c.in) {
			t.Errorf("%s: unpack gave %d bytes, %v", c.name, len(out), err)
		}
	}
	if _, err := codecUnpack(comp, nil); err == nil {
		t.Error("empty frame accepted")
	}
	if _, err := codecUnpack(comp, []byte{1, 2, 9}); err == nil {
		t.Error("unknown tag accepted")
	}
	z := codecPack(comp, append([]byte(nil), large...), 100)
	if _, err := codecUnpack(nil, z); err == nil {
		t.Error("compressed frame accepted without a compressor")
	}
	z[len(z)/2] ^= 0xff
	if _, err := codecUnpack(comp, z); err == nil {
		t.Error("damaged compressed frame accepted")
	}
}

// TestCompressionSavesMemory stores 64 KiB of text in a compressing cache
// and checks that it keeps well under the encoded size, and gives it back.
// Run with -v for the figures.
func TestCompressionSavesMemory(t *testing.T) {
	doc := codecDoc{Title: "report", Tags: []string{"long"}, Body: codecText(64 << 10)}
	for _, codec := range []Codec{JSONCodec{}} {
		c, err := NewResultCache[codecDoc](ResultCacheOptions{
			MaxSize: 10, TTL: time.Minute, Codec: codec, CompressAbove: DefaultCompressAbove, Clock: NewFakeClock(0),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Set(1, doc); err != nil {
			t.Fatal(err)
		}
		got, ok := c.Get(1)
		if !ok || got.Body != doc.Body || got.Title != doc.Title {
			t.Fatalf("%T: compressed value did not come back intact", codec)
		}
		s := c.Stats()
		ratio := float64(s.StoredBytes) / float64(s.EncodedBytes)
		t.Logf("%T: 64 KiB of text encoded to %d bytes, stored in %d (%.0f%%)", codec, s.EncodedBytes, s.StoredBytes, 100*ratio)
		if ratio > 0.6 {
			t.Errorf("%T: stored %.0f%% of the encoded size, want under 60%%", codec, 100*ratio)
		}
		c.Close()
	}
}

func TestCompressorConcurrent(t *testing.T) {
	comp, err := NewCompressor()
	if err != nil {
		t.Fatal(err)
	}
	defer comp.Close()
	texts := make([][]byte, 8)
	for i := range texts {
		texts[i] = []byte(codecText(2<<10 + i*512))
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				src := texts[(w+i)%len(texts)]
				out, err := comp.Decompress(nil, comp.Compress(nil, src))
				if err != nil || !bytes.Equal(out, src) {
					t.Errorf("round trip failed: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkCompressor measures the CPU cost of compressing and decompressing
// 64 KiB of JSON-encoded text; stored% is the compressed share.
func BenchmarkCompressor(b *testing.B) {
	comp, err := NewCompressor()
	if err != nil {
		b.Fatal(err)
	}
	defer comp.Close()
	enc, err := JSONCodec{}.Marshal(codecDoc{Body: codecText(64 << 10)})
	if err != nil {
		b.Fatal(err)
	}
	z := comp.Compress(nil, enc)
	b.Run("compress", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		b.ReportMetric(100*float64(len(z))/float64(len(enc)), "stored%")
		for b.Loop() {
			comp.Compress(nil, enc)
		}
	})
	b.Run("decompress", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := comp.Decompress(nil, z); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkResultCacheLargeText measures a Set and a Get of 64 KiB of text
// through the JSON codec, with and without compression: the CPU that
// cache_compression costs in context.
func BenchmarkResultCacheLargeText(b *testing.B) {
	doc := codecDoc{Body: codecText(64 << 10)}
	for _, above := range []int{0, DefaultCompressAbove} {
		name := "plain"
		if above > 0 {
			name = "compressed"
		}
		c, err := NewResultCache[codecDoc](ResultCacheOptions{MaxSize: 10, TTL: time.Hour, Codec: JSONCodec{}, CompressAbove: above})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/set", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Set(1, doc); err != nil {
					b.Fatal(err)
				}
			}
			s := c.Stats()
			b.ReportMetric(float64(s.StoredBytes)/float64(s.EncodedBytes)*100, "stored%")
		})
		b.Run(name+"/get", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := c.Get(1); !ok {
					b.Fatal("miss")
				}
			}
		})
		c.Close()
	}
}

// panicky is a value whose own encoding and decoding methods panic.
type panicky struct{ N int }

func (panicky) MarshalJSON() ([]byte, error) { panic("no encoding today") }

func (*panicky) UnmarshalJSON([]byte) error { panic("no decoding today") }

// TestJSONCodecPanicsAreErrors: a panic in a value's own encoding method is
// the codec's error, so a cache stores nothing and serves nothing for it
// instead of ending the run that called it.
func TestJSONCodecPanicsAreErrors(t *testing.T) {
	var c JSONCodec
	if _, err := c.Marshal(panicky{N: 1}); err == nil || !strings.Contains(err.Error(), "no encoding today") {
		t.Errorf("Marshal of a panicking value: err = %v; want the panic as an error", err)
	}
	var p panicky
	if err := c.Unmarshal([]byte(`{"N":1}`), &p); err == nil || !strings.Contains(err.Error(), "no decoding today") {
		t.Errorf("Unmarshal into a panicking value: err = %v; want the panic as an error", err)
	}

	rc, err := NewResultCache[panicky](ResultCacheOptions{MaxSize: 8, TTL: time.Minute, Codec: JSONCodec{}, CompressAbove: DefaultCompressAbove})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := rc.Set(1, panicky{N: 1}); err == nil {
		t.Error("Set of a value whose encoding panics succeeded; want its error")
	}
	if _, ok := rc.Get(1); ok {
		t.Error("a value whose encoding panicked was served")
	}
	if st := rc.Stats(); st.CodecErrors != 1 {
		t.Errorf("CodecErrors = %d; want 1", st.CodecErrors)
	}
}
