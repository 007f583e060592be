package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/report"
	"github.com/flujo/flujo/examples/internal/statscmp"
	"github.com/flujo/flujo/runtime"
)

// newTestCore returns an executor on cfg that the test closes, checking
// that no goroutine outlives it.
func newTestCore(t *testing.T, cfg runtime.OptimizationConfig) *flujo.ExecutorCore {
	t.Helper()
	before := goleak.IgnoreCurrent()
	core, err := flujo.NewExecutorCore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := core.Close(context.Background()); err != nil {
			t.Error(err)
		}
		goleak.VerifyNone(t, before)
	})
	return core
}

func newTestService(t *testing.T, latency time.Duration) (*CountryService, context.Context) {
	t.Helper()
	svc, err := NewCountryService(latency, Workers)
	if err != nil {
		t.Fatal(err)
	}
	return svc, WithService(context.Background(), svc)
}

func monday() Export  { return SampleExports()[0] }
func tuesday() Export { return SampleExports()[1] }

func record(t *testing.T, rep Report, id string) Record {
	t.Helper()
	for _, r := range rep.Records {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no record %s", id)
	return Record{}
}

func TestOrdersCleansCompletesAndTotals(t *testing.T) {
	core := newTestCore(t, Config())
	_, ctx := newTestService(t, 0)
	rep, _, err := flujo.Run[Report](ctx, core, Orders, monday().CSV)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rep.Records {
		ids = append(ids, r.ID)
	}
	want := []string{"A-1001", "A-1002", "A-1003", "A-1004", "A-1005", "A-1006", "A-1007", "A-1008", "A-1009", "A-1010", "A-1011", "A-1012"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("records in order %v, want the input order %v", ids, want)
	}
	tests := []struct {
		id, status, country, region string
		cents                       int64
		currency                    string
		fixes                       int
	}{
		{"A-1001", StatusClean, "DE", "Europe", 1990, "EUR", 0},
		{"A-1002", StatusFixed, "DE", "Europe", 1250, "EUR", 4},
		{"A-1003", StatusFixed, "FR", "Europe", 700, "EUR", 2},
		{"A-1005", StatusFixed, "JP", "Asia-Pacific", 150000, "JPY", 1},
		{"A-1008", StatusFixed, "DE", "Europe", 123450, "EUR", 3},
		{"A-1012", StatusFixed, "FR", "Europe", 320, "EUR", 3},
	}
	for _, tt := range tests {
		r := record(t, rep, tt.id)
		if r.Status != tt.status || r.Country != tt.country || r.Region != tt.region || r.AmountCents != tt.cents || r.Currency != tt.currency || len(r.Fixes) != tt.fixes {
			t.Errorf("%s: %+v, want %s %s %s %d %s with %d fixes", tt.id, r, tt.status, tt.country, tt.region, tt.cents, tt.currency, tt.fixes)
		}
	}
	if r := record(t, rep, "A-1002"); r.Email != "ben@shop.example" {
		t.Errorf("A-1002 e-mail %q, want it trimmed and lower-cased", r.Email)
	}
	for id, reason := range map[string]string{"A-1006": `unknown country "Atlantis"`, "A-1009": `amount "n/a" is not a number`} {
		if r := record(t, rep, id); r.Status != StatusQuarantined || r.Reason != reason {
			t.Errorf("%s: status %s reason %q, want quarantined for %q", id, r.Status, r.Reason, reason)
		}
	}
	if rep.Clean != 2 || rep.Fixed != 8 || rep.Quarantined != 2 {
		t.Errorf("%d clean, %d fixed, %d quarantined; want 2, 8, 2", rep.Clean, rep.Fixed, rep.Quarantined)
	}
	wantTotals := []Total{
		{"Americas", "BRL", 8990, 1},
		{"Americas", "USD", 12000, 1},
		{"Asia-Pacific", "JPY", 150000, 1},
		{"Europe", "EUR", 1990 + 1250 + 700 + 123450 + 500 + 320, 6},
		{"Europe", "GBP", 4510, 1},
	}
	if !reflect.DeepEqual(rep.Totals, wantTotals) {
		t.Errorf("totals %+v, want %+v", rep.Totals, wantTotals)
	}
}

// rowResults returns the per-row pipeline results of a run, by record ID.
func rowResults(t *testing.T, res *flujo.PipelineResult, rows []Row) map[string]flujo.StepResult {
	t.Helper()
	m, ok := res.Step("rows")
	if !ok || len(m.Steps) != len(rows) {
		t.Fatalf("map results %v, want one per row (%d)", m, len(rows))
	}
	out := map[string]flujo.StepResult{}
	for i, r := range rows {
		out[r.ID] = m.Steps[i]
	}
	return out
}

func normaliseOf(t *testing.T, row flujo.StepResult) flujo.StepResult {
	t.Helper()
	for _, s := range row.Steps {
		if s.Name == "normalise" {
			return s
		}
	}
	t.Fatalf("row %v has no normalise step", row)
	return flujo.StepResult{}
}

func TestNormaliseLoopsUntilCleanOrQuarantines(t *testing.T) {
	core := newTestCore(t, Config())
	_, ctx := newTestService(t, 0)
	rows, err := ParseCSV(context.Background(), monday().CSV)
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := flujo.Run[Report](ctx, core, Orders, monday().CSV)
	if err != nil {
		t.Fatal(err)
	}
	byID := rowResults(t, res, rows)
	for id, passes := range map[string]int{"A-1001": 1, "A-1004": 1, "A-1003": 2, "A-1008": 3, "A-1002": Passes} {
		n := normaliseOf(t, byID[id])
		if !n.Success || n.FallbackTriggered || n.Attempts != passes || len(n.Steps) != passes {
			t.Errorf("%s: normalise success %v fallback %v after %d iterations (%d results), want %d",
				id, n.Success, n.FallbackTriggered, n.Attempts, len(n.Steps), passes)
		}
	}
	for _, id := range []string{"A-1006", "A-1009"} {
		n := normaliseOf(t, byID[id])
		var mle *flujo.MaxLoopsError
		if !n.Success || !n.FallbackTriggered || !errors.As(n.OriginalError, &mle) || mle.MaxLoops != Passes {
			t.Errorf("%s: normalise success %v fallback %v original error %v; want quarantine after MaxLoops(%d)",
				id, n.Success, n.FallbackTriggered, n.OriginalError, Passes)
		}
		if last := n.Steps[len(n.Steps)-1]; last.Name != "quarantine" || len(n.Steps) != Passes+1 {
			t.Errorf("%s: normalise history ends with %q after %d results, want %d passes then quarantine", id, last.Name, len(n.Steps), Passes)
		}
	}
}

func TestCountryLookupIsCached(t *testing.T) {
	core := newTestCore(t, Config())
	svc, ctx := newTestService(t, 0)
	exp := monday()
	if _, _, err := flujo.Run[Report](ctx, core, Orders, exp.CSV); err != nil {
		t.Fatal(err)
	}
	first := core.OptimizationStats()
	lookups := first.Steps["lookup-country"].Cache
	if lookups.Hits+lookups.Misses != 12 || lookups.Hits == 0 {
		t.Errorf("first export: %d hits + %d misses, want 12 lookups with some hits (DE, FR, US repeat)", lookups.Hits, lookups.Misses)
	}
	calls := svc.Counters().Calls

	// The same export again: every lookup is a hit, none reaches the service.
	if _, _, err := flujo.Run[Report](ctx, core, Orders, exp.CSV); err != nil {
		t.Fatal(err)
	}
	delta := core.OptimizationStats().Sub(first)
	if c := delta.Cache; c.Hits != 12 || c.Misses != 0 {
		t.Errorf("second run of the export: %d hits, %d misses; want 12 and 0", c.Hits, c.Misses)
	}
	if got := svc.Counters().Calls; got != calls {
		t.Errorf("service calls went from %d to %d on a fully cached run", calls, got)
	}
}

func TestCacheOffSameResultsNoHits(t *testing.T) {
	report := func(cfg runtime.OptimizationConfig) (Report, runtime.Stats, ServiceCounters) {
		core := newTestCore(t, cfg)
		svc, ctx := newTestService(t, 0)
		rep, _, err := flujo.Run[Report](ctx, core, Orders, monday().CSV)
		if err != nil {
			t.Fatal(err)
		}
		return rep, core.OptimizationStats(), svc.Counters()
	}
	on, onStats, onCalls := report(Config())
	off, offStats, offCalls := report(runtime.DefaultOptimizationConfig())
	if !reflect.DeepEqual(on, off) {
		t.Errorf("reports differ with the cache on and off:\n%+v\n%+v", on, off)
	}
	if offStats.Cache.Hits != 0 || offStats.Steps["lookup-country"].Cache.Hits != 0 {
		t.Errorf("cache hits with enable_cache_optimization off: %+v", offStats.Cache)
	}
	// Ten rows have a country; with the cache off each one asks the service.
	if offCalls.Calls != 10 || onCalls.Calls >= offCalls.Calls {
		t.Errorf("service calls: %d with the cache, %d without; want fewer than 10, and 10", onCalls.Calls, offCalls.Calls)
	}
	if onStats.Cache.Hits == 0 {
		t.Errorf("no cache hit with enable_cache_optimization on")
	}
}

func TestMapStaysWithinWorkers(t *testing.T) {
	core := newTestCore(t, runtime.DefaultOptimizationConfig()) // every row reaches the service
	svc, ctx := newTestService(t, time.Millisecond)
	for _, exp := range SampleExports() {
		if _, _, err := flujo.Run[Report](ctx, core, Orders, exp.CSV); err != nil {
			t.Fatal(err)
		}
	}
	c := svc.Counters()
	if c.Refused != 0 || c.Peak > Workers || c.Peak < 1 {
		t.Errorf("service saw a peak of %d calls and refused %d, want at most %d and none", c.Peak, c.Refused, Workers)
	}
}

func TestBadExportsFailAtParse(t *testing.T) {
	core := newTestCore(t, Config())
	_, ctx := newTestService(t, 0)
	tests := []struct{ name, csv, want string }{
		{"header", "id,mail,country,amount,currency\n", `header is "id,mail,country,amount,currency"`},
		{"fields", Header + "\nA-1,a@b.example,DE\n", "wrong number of fields"},
		{"empty", "", "reading the header: EOF"},
	}
	for _, tt := range tests {
		_, res, err := flujo.Run[Report](ctx, core, Orders, tt.csv)
		var se *flujo.StepError
		if !errors.As(err, &se) || strings.Join(se.Path, "/") != "orders/parse" || !strings.Contains(se.Feedback, tt.want) {
			t.Errorf("%s: %v, want a failure of orders/parse with %q", tt.name, err, tt.want)
			continue
		}
		if p, _ := res.Step("parse"); p.Attempts != 1 {
			t.Errorf("%s: parse made %d attempts, want 1 (Retries(0))", tt.name, p.Attempts)
		}
	}
}

func TestNormalisePass(t *testing.T) {
	tests := []struct {
		row   Row
		fixes []string
		want  Row
		clean bool
	}{
		{Row{ID: "1", Email: "a@x.example", Country: "DE", Amount: "1.00", Currency: "EUR"}, nil,
			Row{ID: "1", Email: "a@x.example", Country: "DE", Amount: "1.00", Currency: "EUR"}, true},
		{Row{ID: " 1", Email: "A@X.example", Country: "spain", Amount: "€1,5"}, []string{"trimmed spaces", "lower-cased the e-mail", `country "spain" -> ES`, "moved € out of the amount", "decimal comma -> point"},
			Row{ID: "1", Email: "a@x.example", Country: "ES", Amount: "1.5", Currency: "EUR"}, true},
		{Row{ID: "1", Email: "nobody", Country: "DE", Amount: "1", Currency: "EUR"}, nil,
			Row{ID: "1", Email: "nobody", Country: "DE", Amount: "1", Currency: "EUR"}, false},
		{Row{ID: "1", Email: "a@x.example", Country: "DE", Amount: "1"}, nil,
			Row{ID: "1", Email: "a@x.example", Country: "DE", Amount: "1"}, false},
	}
	for _, tt := range tests {
		d := NewDraft(tt.row)
		for range 10 {
			d = NormalisePass(d)
		}
		if d.Row != tt.want || !reflect.DeepEqual(d.Fixes, tt.fixes) || IsClean(d) != tt.clean {
			t.Errorf("%+v: got %+v fixes %q clean %v; want %+v %q %v", tt.row, d.Row, d.Fixes, IsClean(d), tt.want, tt.fixes, tt.clean)
		}
	}
}

func TestNormalisePassLeavesItsInputAlone(t *testing.T) {
	d := Draft{Row: Row{ID: " 1", Email: "A@x.example", Country: "DE", Amount: "1", Currency: "EUR"}, Fixes: make([]string, 0, 8)}
	d1 := NormalisePass(d)
	d2 := NormalisePass(d1)
	if len(d.Fixes) != 0 || len(d1.Fixes) != 1 || len(d2.Fixes) != 2 || d1.Fixes[0] != d2.Fixes[0] {
		t.Errorf("fixes %q / %q / %q: a pass changed an earlier draft", d.Fixes, d1.Fixes, d2.Fixes)
	}
}

func TestLookupNeedsAService(t *testing.T) {
	if _, err := LookupCountry(context.Background(), "DE"); !errors.Is(err, ErrNoService) {
		t.Errorf("LookupCountry: %v, want ErrNoService", err)
	}
	if c, err := LookupCountry(context.Background(), ""); err != nil || c.Known {
		t.Errorf("LookupCountry of no code: %+v, %v; want an unknown country and no error", c, err)
	}
}

func TestNewCountryServiceRejectsBadSettings(t *testing.T) {
	if _, err := NewCountryService(-time.Second, 1); err == nil || !strings.Contains(err.Error(), "latency is -1s") {
		t.Errorf("negative latency: %v", err)
	}
	if _, err := NewCountryService(0, 0); err == nil || !strings.Contains(err.Error(), "maxConns is 0") {
		t.Errorf("no connections: %v", err)
	}
}

func TestServiceRefusesBeyondItsLimit(t *testing.T) {
	svc, err := NewCountryService(time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := svc.Lookup(ctx, "DE")
		done <- err
	}()
	// Wait until the first call holds the only connection.
	for svc.Counters().Peak == 0 {
		time.Sleep(time.Millisecond)
	}
	var tmc *TooManyConnectionsError
	if _, err := svc.Lookup(context.Background(), "FR"); !errors.As(err, &tmc) || tmc.Limit != 1 {
		t.Errorf("second call: %v, want *TooManyConnectionsError", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("first call: %v, want context.Canceled", err)
	}
	if c := svc.Counters(); c.Calls != 2 || c.Refused != 1 || c.Peak != 2 {
		t.Errorf("counters %+v, want 2 calls, 1 refused, peak 2", c)
	}
}

func TestRunPrintsResultsKeyFiguresAndRecommendations(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-latency=0"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{
		"== examples/etl: 2 order exports",
		"\norders-monday.csv   12    2      8      2 ",
		"\norders-tuesday.csv  8     4      4      0 ",
		"\nfixes made: country name -> code 9, ",
		`quarantined: A-1006 (line 7) unknown country "Atlantis"; A-1009 (line 10) amount "n/a" is not a number`,
		"\nEurope EUR        1282.10 (6)        71.99 (3)",
		"2 of 2 reports identical",
		"\ncache                  ",
		"\nRecommendations: none;",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// Every mark printed is explained under its table.
	for _, m := range []string{statscmp.Measured, statscmp.Scheduled, statscmp.Unexpected} {
		if strings.Contains(text, "  "+m+"\n") != strings.Contains(text, "\n"+m+" ") {
			t.Errorf("mark %q shown without its legend line, or the reverse:\n%s", m, text)
		}
	}
	if strings.Contains(text, "{") {
		t.Errorf("output holds JSON; it belongs behind -json:\n%s", text)
	}
	if n := strings.Count(text, "\n"); n > report.DemoLines {
		t.Errorf("the demo prints %d lines, more than its share of %d:\n%s", n, report.DemoLines, text)
	}
}

func TestRunWritesFullFiguresWithJSON(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-latency=0", "-json", "-"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	i := strings.Index(text, "\n{")
	if i < 0 {
		t.Fatalf("no JSON after the report:\n%s", text)
	}
	var figures map[string]struct {
		Stats struct {
			Cache struct {
				Hits int `json:"hits"`
			} `json:"cache"`
			Config struct {
				Cache   bool `json:"enable_cache_optimization"`
				MaxSize int  `json:"cache_max_size"`
			} `json:"config"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(text[i:]), &figures); err != nil {
		t.Fatalf("the figures are not JSON: %v", err)
	}
	for name, size := range map[string]int{"executor_core": Config().CacheMaxSize, "generated": Config().CacheMaxSize, "load_phase": LoadCacheMaxSize} {
		f, ok := figures[name]
		if !ok || f.Stats.Cache.Hits == 0 || !f.Stats.Config.Cache || f.Stats.Config.MaxSize != size {
			t.Errorf("%s: present %v, %d cache hits, cache on %v, cache_max_size %d; want hits with the cache on and size %d",
				name, ok, f.Stats.Cache.Hits, f.Stats.Config.Cache, f.Stats.Config.MaxSize, size)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"-latency=-1s"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errb.String())
		}
	}
}
