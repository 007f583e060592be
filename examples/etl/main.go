package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/runtime"
)

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

// Config returns the configuration the example runs with: the defaults,
// with the result cache on, since the country lookup is worth caching.
func Config() runtime.OptimizationConfig {
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableCacheOptimization = true
	return cfg
}

// run is the whole command, testable in-process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("etl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	latency := fs.Duration("latency", 500*time.Microsecond, "time a call of the country service takes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	svc, err := NewCountryService(*latency, Workers)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	core, err := flujo.NewExecutorCore(Config())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer core.Close(context.Background())

	ctx = WithService(ctx, svc)
	for _, exp := range SampleExports() {
		rep, _, err := flujo.Run[Report](ctx, core, Orders, exp.CSV)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", exp.Name, err)
			return 1
		}
		fmt.Fprintf(stdout, "== %s\n", exp.Name)
		printReport(stdout, rep)
		c := core.OptimizationStats().Cache
		sc := svc.Counters()
		fmt.Fprintf(stdout, "cache so far: %d hits, %d misses; country service: %d calls, at most %d at once\n\n",
			c.Hits, c.Misses, sc.Calls, sc.Peak)
	}
	if err := printStats(stdout, core); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return runLoad(ctx, stdout, stderr)
}

func printReport(w io.Writer, rep Report) {
	for _, r := range rep.Records {
		switch r.Status {
		case StatusQuarantined:
			fmt.Fprintf(w, "%-6s line %2d %-11s %s\n", r.ID, r.Line, r.Status, r.Reason)
		default:
			fmt.Fprintf(w, "%-6s line %2d %-11s %-2s %-14s %-12s %9s %s", r.ID, r.Line, r.Status, r.Country, r.CountryName, r.Region, money(r.AmountCents), r.Currency)
			if len(r.Fixes) > 0 {
				fmt.Fprintf(w, "  fixed: %s", strings.Join(r.Fixes, ", "))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "%d clean, %d fixed, %d quarantined\n", rep.Clean, rep.Fixed, rep.Quarantined)
	for _, t := range rep.Totals {
		fmt.Fprintf(w, "  %-12s %s %10s in %d orders\n", t.Region, t.Currency, money(t.Cents), t.Orders)
	}
}

func money(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// statsSource is what printStats reads: the ExecutorCore, or any executor
// with the same reporting methods.
type statsSource interface {
	OptimizationStats() runtime.Stats
	PerformanceRecommendations() []runtime.Recommendation
}

// printStats prints an executor's live counters and what it recommends.
func printStats(w io.Writer, core statsSource) error {
	data, err := json.MarshalIndent(core.OptimizationStats(), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding stats: %w", err)
	}
	fmt.Fprintf(w, "== optimization stats\n%s\n", data)
	fmt.Fprintln(w, "\n== performance recommendations")
	recs := core.PerformanceRecommendations()
	if len(recs) == 0 {
		fmt.Fprintln(w, "none: every counter is within the configured thresholds")
	}
	for _, r := range recs {
		fmt.Fprintf(w, "[%s] %s: %s (%s)\n", r.Priority, r.ID, r.Description, r.Impact)
	}
	return nil
}
