package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/report"
	"github.com/flujo/flujo/runtime"
)

// The load phase runs a bulk export through Orders on an executor of its
// own, so that its counters hold enough cache lookups for the
// recommendation rules to judge. The export's customers live in all nine
// countries the reference service knows, and the phase's configuration
// caps the result cache below that, as a cache sized for the small daily
// exports would be: the lookup keeps evicting countries it needs again.

// Load phase settings.
const (
	// LoadRows is the size of the bulk export.
	LoadRows = 400
	// LoadCacheMaxSize is the phase's cache_max_size: fewer entries than
	// the export has countries.
	LoadCacheMaxSize = 5
	// LoadSeed draws the bulk export.
	LoadSeed = 2024
	// loadLatency is a reference service call in the load phase.
	loadLatency = 100 * time.Microsecond
)

// LoadConfig returns the load phase's configuration: Config with
// cache_max_size LoadCacheMaxSize.
func LoadConfig() runtime.OptimizationConfig {
	cfg := Config()
	cfg.CacheMaxSize = LoadCacheMaxSize
	return cfg
}

// loadCountry is how the bulk export writes a country: its code, and the
// names customers type for it.
type loadCountry struct {
	code, currency string
	names          []string
	weight         int // relative share of the export's customers
}

// loadCountries returns the countries of the reference service, with the
// currency their customers pay in.
func loadCountries() []loadCountry {
	return []loadCountry{
		{"DE", "EUR", []string{"germany", "Deutschland"}, 1},
		{"ES", "EUR", []string{"spain", "España"}, 1},
		{"FR", "EUR", []string{"France"}, 1},
		{"GB", "GBP", []string{"UK", "England"}, 1},
		{"BR", "BRL", []string{"Brasil"}, 1},
		{"US", "USD", []string{"USA", "United States"}, 1},
		{"AU", "AUD", []string{"Australia"}, 1},
		{"IN", "INR", []string{"India"}, 1},
		{"JP", "JPY", []string{"Japan"}, 1},
	}
}

// BulkExport returns an export of n orders drawn with seed: customers in
// every country the reference service knows, written as a code or a name,
// some amounts with a decimal comma, some currencies in lower case, and
// about one row in fifty from a country nobody knows.
func BulkExport(seed uint64, n int) Export {
	r := rand.New(rand.NewPCG(seed, 0xb01c))
	countries := loadCountries()
	total := 0
	for _, c := range countries {
		total += c.weight
	}
	var b strings.Builder
	b.WriteString(Header + "\n")
	w := csv.NewWriter(&b)
	for i := range n {
		pick := r.IntN(total)
		c := countries[0]
		for _, lc := range countries {
			if pick < lc.weight {
				c = lc
				break
			}
			pick -= lc.weight
		}
		country := c.code
		switch roll := r.IntN(100); {
		case roll < 2:
			country = "Atlantis"
		case roll < 20:
			country = strings.ToLower(c.code)
		case roll < 40:
			country = c.names[r.IntN(len(c.names))]
		}
		cents := 100 + r.Int64N(50000)
		amount := fmt.Sprintf("%d.%02d", cents/100, cents%100)
		if c.currency == "EUR" && r.IntN(3) == 0 {
			amount = strings.Replace(amount, ".", ",", 1)
		}
		currency := c.currency
		if r.IntN(10) == 0 {
			currency = strings.ToLower(currency)
		}
		email := fmt.Sprintf("customer%04d@shop.example", i+1)
		if r.IntN(10) == 0 {
			email = strings.ToUpper(email)
		}
		_ = w.Write([]string{fmt.Sprintf("N-%04d", i+1), email, country, amount, currency})
	}
	w.Flush()
	return Export{Name: fmt.Sprintf("bulk-%d.csv", n), CSV: b.String()}
}

// LoadReport is what the load phase did and what its executor reports.
type LoadReport struct {
	Export          Export
	Config          runtime.OptimizationConfig
	Report          Report
	Service         ServiceCounters
	Stats           runtime.Stats
	Recommendations []runtime.Recommendation
}

// RunLoad processes exp through Orders on a new executor configured with
// cfg, its country service answering in latency, and returns its report.
// The executor is closed before RunLoad returns.
func RunLoad(ctx context.Context, exp Export, cfg runtime.OptimizationConfig, latency time.Duration) (LoadReport, error) {
	svc, err := NewCountryService(latency, Workers)
	if err != nil {
		return LoadReport{}, err
	}
	core, err := flujo.NewExecutorCore(cfg)
	if err != nil {
		return LoadReport{}, err
	}
	defer core.Close(context.Background())
	rep, _, err := flujo.Run[Report](WithService(ctx, svc), core, Orders, exp.CSV)
	if err != nil {
		return LoadReport{}, fmt.Errorf("%s: %w", exp.Name, err)
	}
	return LoadReport{
		Export:          exp,
		Config:          core.OptimizationConfig(),
		Report:          rep,
		Service:         svc.Counters(),
		Stats:           core.OptimizationStats(),
		Recommendations: core.PerformanceRecommendations(),
	}, nil
}

// printLoad prints a compact summary of the load phase and its executor's
// recommendations.
func printLoad(w io.Writer, rep LoadReport) {
	r := rep.Report
	fmt.Fprintf(w, "\n-- load phase: %s, %d orders from customers in %d countries (seed %d), on a new ExecutorCore with cache_max_size %d, fewer entries than countries\n",
		rep.Export.Name, len(r.Records), len(loadCountries()), LoadSeed, rep.Config.CacheMaxSize)
	fmt.Fprintf(w, "records: %d clean, %d fixed, %d quarantined; totals in %d region/currency pairs; country service: %d calls, at most %d at once\n",
		r.Clean, r.Fixed, r.Quarantined, len(r.Totals), rep.Service.Calls, rep.Service.Peak)
	c := rep.Stats.Steps["lookup-country"].Cache
	fmt.Fprintf(w, "lookup-country cache: %d lookups, %d hits (%.1f%%), %d misses, %d evictions, %d of %d entries in use\n",
		c.Lookups(), c.Hits, 100*c.HitRate(), c.Misses, c.Evictions, c.Size, c.Capacity)
	report.Recommendations(w, rep.Recommendations)
}
