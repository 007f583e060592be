package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/flujo/flujo/examples/internal/report"

	"github.com/flujo/flujo/runtime"
)

// Config returns the configuration the example runs with: the defaults,
// with the result cache on, since the country lookup is worth caching.
func Config() runtime.OptimizationConfig {
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableCacheOptimization = true
	return cfg
}

// exportRun is one export's report and what its run cost in cache lookups
// and service calls.
type exportRun struct {
	Export
	Report  Report
	Cache   runtime.StatsCache
	Service ServiceCounters
}

// printRuns prints what the exports' runs did: one row per export, the
// fixes made and the rows quarantined, and the totals side by side.
func printRuns(w io.Writer, runs []exportRun) {
	rows := [][]string{{"export", "rows", "clean", "fixed", "quarantined", "cache hits / misses", "country service calls"}}
	var fixes []string
	fixCount := map[string]int{}
	var example, quarantined []string
	for _, r := range runs {
		rep := r.Report
		rows = append(rows, []string{r.Name, fmt.Sprint(len(rep.Records)), fmt.Sprint(rep.Clean), fmt.Sprint(rep.Fixed), fmt.Sprint(rep.Quarantined),
			fmt.Sprintf("%d / %d", r.Cache.Hits, r.Cache.Misses), fmt.Sprint(r.Service.Calls)})
		for _, rec := range rep.Records {
			switch {
			case rec.Status == StatusQuarantined:
				quarantined = append(quarantined, fmt.Sprintf("%s (line %d) %s", rec.ID, rec.Line, rec.Reason))
			case len(rec.Fixes) > len(example)-1 && rec.Status == StatusFixed:
				example = append([]string{fmt.Sprintf("%s (line %d)", rec.ID, rec.Line)}, rec.Fixes...)
			}
			for _, f := range rec.Fixes {
				k := fixKind(f)
				if fixCount[k] == 0 {
					fixes = append(fixes, k)
				}
				fixCount[k]++
			}
		}
	}
	report.Table(w, rows)
	fmt.Fprintln(w, "cache: lookups of the cached step lookup-country, one a row; a miss calls the service unless the row is quarantined; two rows that look up one country at once both miss.")
	slices.SortStableFunc(fixes, func(a, b string) int { return fixCount[b] - fixCount[a] })
	counted := make([]string, len(fixes))
	for i, f := range fixes {
		counted[i] = fmt.Sprintf("%s %d", f, fixCount[f])
	}
	fmt.Fprintf(w, "fixes made: %s\n", strings.Join(counted, ", "))
	if len(example) > 0 {
		fmt.Fprintf(w, "most fixed row: %s: %s\n", example[0], strings.Join(example[1:], ", "))
	}
	if len(quarantined) > 0 {
		fmt.Fprintf(w, "quarantined: %s\n", strings.Join(quarantined, "; "))
	}

	head := []string{"totals"}
	type key struct{ region, currency string }
	var keys []key
	amounts := map[key][]string{}
	for i, r := range runs {
		head = append(head, r.Name)
		for _, t := range r.Report.Totals {
			k := key{t.Region, t.Currency}
			if amounts[k] == nil {
				keys = append(keys, k)
				amounts[k] = make([]string, len(runs))
			}
			amounts[k][i] = fmt.Sprintf("%s (%d)", money(t.Cents), t.Orders)
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.region, b.region), cmp.Compare(a.currency, b.currency))
	})
	table := [][]string{head}
	for _, k := range keys {
		table = append(table, append([]string{k.region + " " + k.currency}, amounts[k]...))
	}
	report.Table(w, table)
	fmt.Fprintln(w, "totals: the amount of each region and currency, with its number of orders in parentheses; quarantined orders are left out.")
}

// fixKind names the kind of a fix, without the values it changed.
func fixKind(fix string) string {
	switch {
	case strings.HasPrefix(fix, "country "):
		return "country name -> code"
	case strings.HasPrefix(fix, "moved "):
		return "currency sign moved out of the amount"
	}
	return fix
}

func money(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }
