// Package report prints what the examples show of an executor in a few
// lines a person reads at once: aligned tables, recommendations as
// sentences, and, on request, the full figures as JSON in a file.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/flujo/flujo/runtime"
)

// Source is what the printers read: the ExecutorCore, or any executor with
// the same reporting methods.
type Source interface {
	OptimizationStats() runtime.Stats
	PerformanceRecommendations() []runtime.Recommendation
}

// Table writes rows as left-aligned columns two spaces apart; the first
// row is the header. Trailing empty cells print nothing.
func Table(w io.Writer, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		for len(r) > 0 && r[len(r)-1] == "" {
			r = r[:len(r)-1]
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// Count renders n with the singular or plural noun: "1 attempt", "2 attempts".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// none is printed when no rule fires.
const none = "Recommendations: none; every counter is within the configured thresholds."

// Recommendations prints each recommendation as two sentences: what was
// observed, then the configuration change it makes and what that improves.
func Recommendations(w io.Writer, recs []runtime.Recommendation) {
	if len(recs) == 0 {
		fmt.Fprintln(w, none)
		return
	}
	for _, r := range recs {
		fmt.Fprintf(w, "Recommendation (%s priority, %s): %s\n", r.Priority, r.ID, sentence(r.Description))
		c := r.Change
		if c.Field == "" {
			fmt.Fprintf(w, "  No configuration change: %s\n", sentence(r.Impact))
			continue
		}
		how := "with ImportConfig, or in flujo.json for generated executors, which compile it in"
		if r.Automatic {
			how = "a run-time field the auto-tuner may change itself"
		}
		fmt.Fprintf(w, "  Set %s from %s to %s (%s). %s\n", c.Field, value(c.Current), value(c.Recommended), how, sentence(r.Impact))
	}
}

// sentence ends s with a full stop unless it has one.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// value renders a configuration value; nil is an unset field.
func value(v any) string {
	if v == nil {
		return "unset"
	}
	return fmt.Sprint(v)
}

// Figures is the full report of one executor, as WriteJSON writes it: its
// OptimizationStats (configuration included) and its recommendations.
type Figures struct {
	Stats           runtime.Stats            `json:"stats"`
	Recommendations []runtime.Recommendation `json:"recommendations"`
}

// FiguresOf reads src's figures now.
func FiguresOf(src Source) Figures {
	recs := src.PerformanceRecommendations()
	if recs == nil {
		recs = []runtime.Recommendation{}
	}
	return Figures{Stats: src.OptimizationStats(), Recommendations: recs}
}

// WriteJSON writes v as indented JSON to the file path; "-" is stdout.
func WriteJSON(path string, stdout io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the figures for %s: %w", path, err)
	}
	data = append(data, '\n')
	if path == "-" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("-json: %w (name a file in an existing, writable folder)", err)
	}
	return nil
}

// DemoLines is the most lines an example may print by default: its share of
// the 150 lines of make demo. The demo shows the configuration profiles (8
// lines), code generation (17) and a few blank lines, about 30 in all, then
// runs three examples: 3 x 40 keeps it within 150. The examples' tests hold
// them to it.
const DemoLines = 40

// JSONFlagUsage is the usage text of the examples' -json flag.
const JSONFlagUsage = `write the full figures (configuration, OptimizationStats and recommendations of each executor) as JSON to FILE; "-" prints them`
