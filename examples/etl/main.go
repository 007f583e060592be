package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/flujo/flujo/runtime"
)

// Config returns the configuration the example runs with: the defaults,
// with the result cache on, since the country lookup is worth caching.
func Config() runtime.OptimizationConfig {
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableCacheOptimization = true
	return cfg
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
