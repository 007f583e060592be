package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// ours is the leaf name of our entry in every group.
const ours = "flujo"

// The units go test prints itself; every other unit is a custom metric.
const (
	unitNs     = "ns/op"
	unitBytes  = "B/op"
	unitAllocs = "allocs/op"
)

// writeTable prints res as one Markdown table.
func writeTable(w io.Writer, res *result) error {
	runs := 0
	procs := map[string]bool{}
	for _, r := range res.rows {
		runs = max(runs, len(r.samples[unitNs]))
		procs[r.procs] = true
	}
	var b strings.Builder
	if res.cpu != "" {
		fmt.Fprintf(&b, "cpu: %s", res.cpu)
		if res.goos != "" {
			fmt.Fprintf(&b, " (%s/%s)", res.goos, res.goarch)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "medians of up to %d runs; ± is the largest deviation of a run from the median; "+
		"vs flujo is the entry's ns/op divided by flujo's in the same group (above 1: flujo is faster)\n\n", runs)
	b.WriteString("| benchmark | ns/op | ± | B/op | allocs/op | other | vs flujo |\n")
	b.WriteString("|---|--:|--:|--:|--:|---|--:|\n")
	for _, g := range groups(res.rows) {
		var base float64
		for _, r := range g {
			if r.leaf() == ours {
				base, _ = median(r.samples[unitNs])
			}
		}
		for _, r := range g {
			ns, hasNs := median(r.samples[unitNs])
			cells := []string{
				r.displayName(len(procs) > 1),
				numOrDash(ns, hasNs),
				spread(r.samples[unitNs]),
				numOrDash(median(r.samples[unitBytes])),
				numOrDash(median(r.samples[unitAllocs])),
				custom(r),
				ratio(r, ns, hasNs, base),
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
	}
	if len(res.failed) > 0 {
		fmt.Fprintf(&b, "\nFAILED: %s\n", strings.Join(res.failed, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayName adds the GOMAXPROCS suffix back only when the run mixed
// several values (-cpu 1,2), so that such rows stay apart.
func (r *row) displayName(withProcs bool) string {
	if !withProcs || r.procs == "" {
		return r.name
	}
	return r.name + "-" + r.procs
}

// groups orders rows by group, groups in order of first appearance; in a
// group ours comes first, then the peers in order of appearance.
func groups(rows []*row) [][]*row {
	var order []string
	byGroup := map[string][]*row{}
	for _, r := range rows {
		k := r.group() + "\x00" + r.procs
		if _, ok := byGroup[k]; !ok {
			order = append(order, k)
		}
		byGroup[k] = append(byGroup[k], r)
	}
	out := make([][]*row, 0, len(order))
	for _, k := range order {
		g := byGroup[k]
		slices.SortStableFunc(g, func(a, b *row) int {
			switch {
			case a.leaf() == ours && b.leaf() != ours:
				return -1
			case b.leaf() == ours && a.leaf() != ours:
				return 1
			}
			return 0
		})
		out = append(out, g)
	}
	return out
}

// median returns the median of xs, and false when xs is empty.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// spread is the largest deviation of a sample from the median, in percent of
// the median.
func spread(xs []float64) string {
	m, ok := median(xs)
	if !ok || len(xs) < 2 || m == 0 {
		return ""
	}
	var d float64
	for _, x := range xs {
		d = max(d, math.Abs(x-m))
	}
	return fmt.Sprintf("±%.0f%%", 100*d/m)
}

// custom lists the medians of the metrics reported with b.ReportMetric.
func custom(r *row) string {
	var parts []string
	for _, u := range r.units {
		switch u {
		case unitNs, unitBytes, unitAllocs, "MB/s":
			continue
		}
		m, _ := median(r.samples[u])
		parts = append(parts, num(m)+" "+u)
	}
	return strings.Join(parts, ", ")
}

func ratio(r *row, ns float64, hasNs bool, base float64) string {
	switch {
	case r.leaf() == ours:
		return "ours"
	case !hasNs || base == 0:
		return ""
	}
	q := ns / base
	switch {
	case q < 0.1:
		return fmt.Sprintf("%.3fx", q)
	case q < 10:
		return fmt.Sprintf("%.2fx", q)
	case q < 100:
		return fmt.Sprintf("%.1fx", q)
	default:
		return fmt.Sprintf("%.0fx", q)
	}
}

func numOrDash(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	return num(v)
}

// num prints about three significant digits, and whole numbers as such.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case v == math.Trunc(v) && a < 1e15:
		return fmt.Sprintf("%.0f", v)
	case a < 10:
		return fmt.Sprintf("%.2f", v)
	case a < 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}
