package runtime

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Codec turns cached values into bytes and back. A cache with a Codec stores
// encoded values, which lets it compress them and makes every hit a fresh
// copy that the caller may mutate freely.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSONCodec encodes with encoding/json: exported fields only. A panic in a
// value's own MarshalJSON, MarshalText, UnmarshalJSON or UnmarshalText is
// returned as an error: the value is then not cached, or the entry not
// served, as for any value the codec cannot encode or decode.
type JSONCodec struct{}

// Marshal implements Codec.
func (JSONCodec) Marshal(v any) (data []byte, err error) {
	defer codecPanic("encoding", v, &err)
	return json.Marshal(v)
}

// Unmarshal implements Codec.
func (JSONCodec) Unmarshal(data []byte, v any) (err error) {
	defer codecPanic("decoding", v, &err)
	return json.Unmarshal(data, v)
}

// codecPanic turns a panic of a value's own encoding method into *err.
func codecPanic(what string, v any, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("flujo: %s a %T for the cache panicked: %v", what, v, r)
	}
}

// DefaultCompressAbove is the size in bytes above which an encoded value is
// compressed when cache_compression is on: smaller values gain little and
// pay the per-frame cost of the compressor.
const DefaultCompressAbove = 1024

// Compressor compresses encoded cache values with zstd at its fastest level.
// zstd was measured against s2 on 64 KiB of JSON text: it stores 40% of the
// input against 60% (s2) and 48% (s2 "better"), at an encoding cost between
// theirs and a similar decoding cost; see TestCompressionSavesMemory and
// BenchmarkCompressor. One Compressor may serve many caches; it is safe for
// concurrent use and starts no goroutines. Its first use allocates about
// 1.2 MiB of encoder state.
type Compressor struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
	// scratch holds the buffers values are compressed into before they are
	// copied out at their exact size, so a Set allocates only what it keeps.
	scratch *Pool[[]byte]
}

// Compression scratch buffers: how many are kept, their first size, and the
// largest one put back (a rare huge value must not pin its buffer).
const (
	compressorScratchBuffers = 8
	compressorScratchSize    = 4 << 10
	compressorScratchMax     = 1 << 20
)

// compressorWindow bounds how far back zstd looks for matches, and so its
// memory; cached values rarely repeat themselves across a larger distance.
const compressorWindow = 128 << 10

// NewCompressor returns a Compressor.
func NewCompressor() (*Compressor, error) {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithLowerEncoderMem(true),
		zstd.WithWindowSize(compressorWindow))
	if err != nil {
		return nil, fmt.Errorf("runtime: NewCompressor: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("runtime: NewCompressor: %w", err)
	}
	scratch, err := NewPool(compressorScratchBuffers, 1,
		func() []byte { return make([]byte, 0, compressorScratchSize) }, nil)
	if err != nil {
		enc.Close()
		dec.Close()
		return nil, fmt.Errorf("runtime: NewCompressor: %w", err)
	}
	return &Compressor{enc: enc, dec: dec, scratch: scratch}, nil
}

// Compress appends the compressed form of src to dst.
func (c *Compressor) Compress(dst, src []byte) []byte { return c.enc.EncodeAll(src, dst) }

// Decompress appends the data that src was compressed from to dst.
func (c *Compressor) Decompress(dst, src []byte) ([]byte, error) { return c.dec.DecodeAll(src, dst) }

// Close releases the compressor's state. It must not be used afterwards.
func (c *Compressor) Close() {
	_ = c.enc.Close()
	c.dec.Close()
}

// A packed value is the encoded value followed by one tag byte that says
// whether it was compressed. The tag goes last so that the encoder's slice
// can usually take it without a copy.
const (
	codecTagPlain = 0
	codecTagZstd  = 1
)

var errCodecFrame = errors.New("runtime: cached value is damaged: unknown frame tag")

// codecPack frames enc for storage, compressing it when c is not nil and
// enc is longer than above. The result holds no spare capacity: it is kept
// for the entry's lifetime.
func codecPack(c *Compressor, enc []byte, above int) []byte {
	if c != nil && above > 0 && len(enc) > above {
		if out := c.compressFramed(enc); out != nil {
			return out
		}
	}
	return codecClip(append(enc, codecTagPlain))
}

// compressFramed returns enc compressed and framed, at its exact size, or nil
// when compression does not make it smaller.
func (c *Compressor) compressFramed(enc []byte) []byte {
	buf := c.scratch.Get()
	z := c.Compress((*buf)[:0], enc)
	var out []byte
	if len(z) < len(enc) {
		out = make([]byte, len(z)+1)
		copy(out, z)
		out[len(z)] = codecTagZstd
	}
	if cap(z) <= compressorScratchMax {
		*buf = z[:0]
		c.scratch.Put(buf)
	}
	return out
}

// codecClip drops the spare capacity an encoder's growing buffer leaves,
// when it is more than an eighth.
func codecClip(b []byte) []byte {
	if cap(b)-len(b) > len(b)/8 {
		c := make([]byte, len(b))
		copy(c, b)
		return c
	}
	return b
}

// codecUnpack returns the encoded value that b frames.
func codecUnpack(c *Compressor, b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errCodecFrame
	}
	body := b[:len(b)-1]
	switch b[len(b)-1] {
	case codecTagPlain:
		return body, nil
	case codecTagZstd:
		if c == nil {
			return nil, errors.New("runtime: cached value is compressed but the cache has no Compressor")
		}
		return c.Decompress(nil, body)
	}
	return nil, errCodecFrame
}

// PackValue frames enc, an encoded value, for storage outside the process
// (a shared cache) as the result caches frame theirs: compressed with c
// when c is not nil and enc is longer than above, tagged either way.
// UnpackValue reverses it.
func PackValue(c *Compressor, enc []byte, above int) []byte { return codecPack(c, enc, above) }

// UnpackValue returns the encoded value that PackValue framed; c
// decompresses it and may be nil for values stored uncompressed.
func UnpackValue(c *Compressor, b []byte) ([]byte, error) { return codecUnpack(c, b) }

// IsCompressedValue reports whether b, framed by PackValue, is compressed:
// unpacking it needs a Compressor.
func IsCompressedValue(b []byte) bool { return len(b) > 0 && b[len(b)-1] == codecTagZstd }
