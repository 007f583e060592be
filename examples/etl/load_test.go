package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/flujo/flujo/runtime"
)

// runLoadExport runs the load phase's export on cfg, checking that the
// phase's executor leaves no goroutine behind.
func runLoadExport(t *testing.T, cfg runtime.OptimizationConfig) LoadReport {
	t.Helper()
	before := goleak.IgnoreCurrent()
	rep, err := RunLoad(context.Background(), BulkExport(LoadSeed, LoadRows), cfg, loadLatency)
	if err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, before)
	return rep
}

func recommendationIDs(recs []runtime.Recommendation) []string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids
}

// cacheRecommendations returns the recommendations of the cache rules.
func cacheRecommendations(recs []runtime.Recommendation) []runtime.Recommendation {
	var out []runtime.Recommendation
	for _, r := range recs {
		if strings.HasPrefix(r.ID, "cache-") {
			out = append(out, r)
		}
	}
	return out
}

// A cache smaller than the export's set of countries keeps evicting
// countries it needs again, and the executor asks for twice the size.
func TestLoadPhaseRecommendsALargerCache(t *testing.T) {
	rep := runLoadExport(t, LoadConfig())
	recs := cacheRecommendations(rep.Recommendations)
	if len(recs) != 1 || recs[0].ID != "cache-high-eviction" {
		t.Fatalf("cache recommendations %v, want cache-high-eviction", recommendationIDs(rep.Recommendations))
	}
	c := recs[0].Change
	if c.Field != "cache_max_size" || c.Current != LoadCacheMaxSize || c.Recommended != 2*LoadCacheMaxSize {
		t.Errorf("change %+v, want cache_max_size %d -> %d", c, LoadCacheMaxSize, 2*LoadCacheMaxSize)
	}
	st := rep.Stats.Steps["lookup-country"].Cache
	if st.Lookups() != LoadRows || st.Evictions == 0 {
		t.Errorf("lookup-country cache: %d lookups, %d evictions; want %d lookups and evictions", st.Lookups(), st.Evictions, LoadRows)
	}
	if got := len(rep.Report.Records); got != LoadRows {
		t.Errorf("%d records, want %d", got, LoadRows)
	}
}

// With the recommended size the cache holds every country of the export:
// it stops evicting and the cache rules have nothing more to say.
func TestLoadPhaseWithTheRecommendedCacheIsQuiet(t *testing.T) {
	small := runLoadExport(t, LoadConfig())
	recs := cacheRecommendations(small.Recommendations)
	if len(recs) != 1 {
		t.Fatalf("cache recommendations %v, want one; cache %+v pressure %v", recommendationIDs(small.Recommendations), small.Stats.Cache, small.Stats.Memory.PressureLevel)
	}
	cfg := LoadConfig()
	cfg.CacheMaxSize = recs[0].Change.Recommended.(int)
	big := runLoadExport(t, cfg)
	if got := cacheRecommendations(big.Recommendations); len(got) != 0 {
		t.Errorf("with cache_max_size %d: %v, want no cache recommendation", cfg.CacheMaxSize, recommendationIDs(got))
	}
	s, b := small.Stats.Steps["lookup-country"].Cache, big.Stats.Steps["lookup-country"].Cache
	if b.Evictions != 0 || b.HitRate() <= s.HitRate() {
		t.Errorf("cache_max_size %d: hit rate %.3f, %d evictions; %d: hit rate %.3f, %d evictions; want no eviction and a higher hit rate",
			LoadCacheMaxSize, s.HitRate(), s.Evictions, cfg.CacheMaxSize, b.HitRate(), b.Evictions)
	}
	if big.Service.Calls >= small.Service.Calls {
		t.Errorf("country service calls: %d with the larger cache, %d with the smaller", big.Service.Calls, small.Service.Calls)
	}
}

func TestBulkExport(t *testing.T) {
	a, b := BulkExport(5, 120), BulkExport(5, 120)
	if a != b {
		t.Fatal("two bulk exports with one seed differ")
	}
	rows, err := ParseCSV(context.Background(), a.CSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 120 {
		t.Fatalf("%d rows, want 120", len(rows))
	}
	// Normalised, the rows name every country the reference service
	// knows, and every other row is quarantined.
	countries := map[string]bool{}
	for _, r := range rows {
		d := NewDraft(r)
		for range Passes {
			d = NormalisePass(d)
		}
		if !IsClean(d) {
			if d = Quarantine(d); !strings.HasPrefix(d.Reason, "unknown country") {
				t.Errorf("row %s quarantined for %q, want only unknown countries", r.ID, d.Reason)
			}
			continue
		}
		countries[d.Row.Country] = true
	}
	for _, c := range loadCountries() {
		if !countries[c.code] || !countryOf(c.code).Known {
			t.Errorf("country %s: in the export %v, known to the service %v", c.code, countries[c.code], countryOf(c.code).Known)
		}
	}
	if len(countries) != len(loadCountries()) || len(countries) <= LoadCacheMaxSize {
		t.Errorf("%d countries in the export, want all %d, more than cache_max_size %d", len(countries), len(loadCountries()), LoadCacheMaxSize)
	}
}

func TestRunPrintsLoadPhase(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-latency=0"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	i := strings.Index(text, "\n-- load phase: ")
	if i < 0 {
		t.Fatal("no load phase in the output")
	}
	load := text[i:]
	for _, want := range []string{
		"with cache_max_size 5, fewer entries than countries",
		"\nlookup-country cache: 400 lookups, ",
		"\nRecommendation (medium priority, cache-high-eviction): ",
		"\n  Set cache_max_size from 5 to 10 ",
	} {
		if !strings.Contains(load, want) {
			t.Errorf("load phase output lacks %q:\n%s", want, load)
		}
	}
}
