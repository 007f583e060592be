package gen

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/flujotest"
	"github.com/flujo/flujo/gen/testdata/hashing"
	"github.com/flujo/flujo/gen/testdata/hashing/quiet"
	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/schema"
)

// TestGoldenHashing generates the cached steps of testdata/hashing.
func TestGoldenHashing(t *testing.T) {
	m, err := analysis.Load(context.Background(), analysis.LoadOptions{Dir: "..", Patterns: []string{"./gen/testdata/hashing"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := schema.Default()
	cfg.Optimization.EnableCacheOptimization = true
	out, err := Generate(m, m.Packages[0], cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*runtime.ResultCacheK[Key, int]", "*runtime.ResultCache[Result]", "*runtime.ResultCacheK[Private, string]"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("generated file lacks %s", want)
		}
	}
	golden(t, filepath.Join("testdata", "hashing", "flujo_gen.go"), out)

	// The quiet variant has no monitoring and no telemetry: no clock reads.
	// It lives in another package, which cannot read Private's unexported
	// field: Greeter stays out.
	cfg.Optimization.EnablePerformanceMonitoring, cfg.Optimization.EnableOptimizedTelemetry = false, false
	pkg := *m.Packages[0]
	pkg.Pipelines = nil
	for _, p := range m.Packages[0].Pipelines {
		if p.Var != "Greeter" {
			pkg.Pipelines = append(pkg.Pipelines, p)
		}
	}
	if _, err := GenerateWith(m, m.Packages[0], cfg, Options{PkgPath: "github.com/flujo/flujo/gen/testdata/hashing/quiet", PkgName: "quiet"}); err == nil ||
		!strings.Contains(err.Error(), "in.secret is an unexported field of github.com/flujo/flujo/gen/testdata/hashing.Private") {
		t.Errorf("hashing another package's unexported field: err %v", err)
	}
	quiet, err := GenerateWith(m, &pkg, cfg, Options{PkgPath: "github.com/flujo/flujo/gen/testdata/hashing/quiet", PkgName: "quiet"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "hashing", "quiet", "flujo_gen.go"), quiet)
}

// TestGeneratedHashMatchesReflect holds the generated hash functions to the
// canonical order the runtime's reflective hasher implements.
func TestGeneratedHashMatchesReflect(t *testing.T) {
	h := runtime.NewHash()
	rh, err := runtime.NewReflectHasher(h)
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2024, 5, 1, 12, 0, 0, 7, time.UTC)
	values := []any{
		hashing.Query{},
		hashing.Query{Text: "a", Limit: -3, Score: 0.5, Tags: []string{}, Attrs: map[string]int{}, Raw: []byte{}},
		hashing.Query{Text: "ab", Tags: []string{"x", "y"}, Attrs: map[string]int{"k": 1, "l": 2}, Raw: []byte("raw"),
			Digest: [4]byte{1, 2, 3, 4}, When: when, Next: &hashing.Page{N: 2, Label: "next"},
			Pages: [2]hashing.Page{{N: 1}, {Label: "b"}}, ID: hashing.NewID(3, 4), Flag: true, C: complex(1, -2), U: 9,
			Levels: map[hashing.Page][]int8{{N: 1}: {1, 2}, {Label: "z"}: nil}},
		hashing.Key{}, hashing.Key{Name: "k", N: 7},
		hashing.Private{Name: "p"}, hashing.Private{Name: "p"}.WithSecret("s"),
	}
	for i, v := range values {
		want, err := rh.Hash(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := hashing.Hashes(h, v); got != want {
			t.Errorf("value %d: generated hash %x, reflective %x", i, got, want)
		}
	}
	// Unexported fields count, as exported ones do.
	p := hashing.Private{Name: "n"}
	if hashing.Hashes(h, p.WithSecret("a")) == hashing.Hashes(h, p.WithSecret("b")) {
		t.Error("an unexported field did not change the key")
	}
	if hashing.Hashes(h, hashing.Private{Name: "m"}) == hashing.Hashes(h, p) {
		t.Error("an exported field did not change the key")
	}
}

// TestCacheHitPath checks hits, the copy a hit returns, and that a hit
// allocates nothing when the output holds no references.
func TestCacheHitPath(t *testing.T) {
	ctx := context.Background()
	clock := runtime.NewFakeClock(0)
	look, err := hashing.NewLookerExecutor(flujo.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer look.Close(ctx)
	if n, err := look.Execute(ctx, hashing.Key{Name: "abc", N: 1}); err != nil || n != 4 {
		t.Fatalf("Execute = %d, %v", n, err)
	}
	res, err := look.ExecuteResult(ctx, hashing.Key{Name: "abc", N: 1})
	if err != nil || !res.Steps[0].CacheHit || res.Output != 4 || res.Steps[0].Attempts != 0 {
		t.Fatalf("second run: %+v, %v; want a hit", res, err)
	}
	if allocs := testing.AllocsPerRun(200, func() { look.Execute(ctx, hashing.Key{Name: "abc", N: 1}) }); allocs != 0 {
		t.Errorf("a cache hit allocates %v times, want 0", allocs)
	}
	s := look.OptimizationStats()
	if s.Cache.Hits < 2 || s.Cache.Misses != 1 || s.Steps["lookup"].Cache.Hits != s.Cache.Hits || s.Cache.Capacity != 500 {
		t.Errorf("stats %+v / %+v", s.Cache, s.Steps["lookup"].Cache)
	}

	search, err := hashing.NewSearcherExecutor(flujo.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer search.Close(ctx)
	q := hashing.Query{Text: "q", Tags: []string{"a", "b"}}
	first, _ := search.Execute(ctx, q)
	first.Hits[0] = "mutated"
	second, _ := search.Execute(ctx, q)
	second.Hits[1] = "mutated"
	third, _ := search.Execute(ctx, q)
	if third.Hits[0] != "a" || third.Hits[1] != "b" || search.OptimizationStats().Cache.Hits != 2 {
		t.Errorf("third output %v: the cache was mutated through a returned value", third.Hits)
	}
}

// BenchmarkGeneratedCacheHit runs a cached one-step pipeline on an input
// it has cached, with the default configuration (monitored: two clock reads
// per run) and without monitoring and telemetry.
func BenchmarkGeneratedCacheHit(b *testing.B) {
	ctx := context.Background()
	k := hashing.Key{Name: "abc", N: 1}
	b.Run("defaults", func(b *testing.B) {
		look, err := hashing.NewLookerExecutor()
		if err != nil {
			b.Fatal(err)
		}
		defer look.Close(ctx)
		look.Execute(ctx, k)
		b.ReportAllocs()
		for b.Loop() {
			look.Execute(ctx, k)
		}
	})
	b.Run("unmonitored", func(b *testing.B) {
		look, err := quiet.NewLookerExecutor()
		if err != nil {
			b.Fatal(err)
		}
		defer look.Close(ctx)
		look.Execute(ctx, k)
		b.ReportAllocs()
		for b.Loop() {
			look.Execute(ctx, k)
		}
	})
}

// TestTimeNeedsNoDeepCopy: a time.Time shares only its immutable
// *Location, so outputs holding times are copied by assignment, and a cached
// step whose output holds one generates.
func TestTimeNeedsNoDeepCopy(t *testing.T) {
	b := newMB()
	b.types["uint64"] = &analysis.Type{Key: "uint64", Kind: "uint64", Comparable: true}
	b.types["int64"] = &analysis.Type{Key: "int64", Kind: "int64", Comparable: true}
	b.types["time.Location"] = &analysis.Type{Key: "time.Location", Kind: analysis.TypeStruct, PkgPath: "time", Name: "Location",
		Fields: []analysis.Field{{Name: "name", Type: "string"}, {Name: "cacheZone", Type: "*time.Location"}}}
	b.types["*time.Location"] = &analysis.Type{Key: "*time.Location", Kind: analysis.TypePointer, Elem: "time.Location"}
	b.types["time.Time"] = &analysis.Type{Key: "time.Time", Kind: analysis.TypeStruct, PkgPath: "time", Name: "Time", IsTime: true, Comparable: true,
		Fields: []analysis.Field{{Name: "wall", Type: "uint64"}, {Name: "ext", Type: "int64"}, {Name: "loc", Type: "*time.Location"}}}
	b.types["[]time.Time"] = &analysis.Type{Key: "[]time.Time", Kind: analysis.TypeSlice, Elem: "time.Time"}
	b.types[ftPath+".Stamp"] = &analysis.Type{Key: ftPath + ".Stamp", Kind: analysis.TypeStruct, PkgPath: ftPath, Name: "Stamp",
		Fields: []analysis.Field{{Name: "At", Type: "time.Time", Exported: true}, {Name: "Seen", Type: "[]time.Time", Exported: true}}}
	cached := func(o *analysis.Options) { o.Cache = true }
	cacheOn := func(c *schema.Config) { c.Optimization.EnableCacheOptimization = true }
	out, err := generateMB(t, b, b.leaf(analysis.KindStep, "stamp", "Stamp", job, ftPath+".Stamp", cached), cacheOn)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "c.At =") || strings.Contains(out, "v.loc") || !strings.Contains(out, "copy(c, v)") {
		t.Errorf("a time.Time is deep-copied field by field, or a []time.Time element by element:\n%s", out)
	}
}

// TestJSONLosesAsRuntime: flujogen decides which outputs cache_compression
// stores encoded by the runtime's rule (runtime.CheckCodecType), on its
// type model.
func TestJSONLosesAsRuntime(t *testing.T) {
	m, err := suiteModel()
	if err != nil {
		t.Fatal(err)
	}
	g := &generator{model: m}
	for key, rt := range map[string]reflect.Type{
		"github.com/flujo/flujo/flujotest.Quote": reflect.TypeFor[flujotest.Quote](),
		"github.com/flujo/flujo/flujotest.Job":   reflect.TypeFor[flujotest.Job](),
		"[]string":                               reflect.TypeFor[[]string](),
		"any":                                    reflect.TypeFor[any](),
	} {
		if _, ok := m.Types[key]; !ok {
			t.Errorf("%s: not in the model", key)
			continue
		}
		why := g.jsonLoses(key, map[string]bool{})
		if rerr := runtime.CheckCodecType(rt); (why == "") != (rerr == nil) {
			t.Errorf("%s: flujogen says %q, the runtime %v", key, why, rerr)
		}
	}
}
