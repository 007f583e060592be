package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/schema"
	"github.com/flujo/flujo/templates"
)

// TestExplainShowsEffectiveValues: explain prints each step's settings after
// the flujo.json step overrides, naming the override beside each value it
// sets, for gen/testdata/overrides, whose file overrides every setting.
func TestExplainShowsEffectiveValues(t *testing.T) {
	m, err := analysis.Load(context.Background(), analysis.LoadOptions{Dir: filepath.Join("..", ".."), Patterns: []string{"./gen/testdata/overrides"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Load(filepath.Join("..", "..", "gen", "testdata", "overrides", "flujo.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := explainData(m, func(string) *schema.Config { return cfg })
	details := map[string]string{}
	var walk func(n templates.ExplainNode)
	walk = func(n templates.ExplainNode) {
		details[n.Name] = strings.Join(n.Details, "\n")
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(d.Packages[0].Pipelines[0].Root)
	for step, want := range map[string][]string{
		"price":  {`attempts: 4 (retries 3, from flujo.json steps."fulfil.price")`},
		"quote":  {`cache: off (possible) (from flujo.json steps."fulfil.quote")`},
		"ship":   {`cache: on, for 1m0s; key: fingerprint and hash of the input (from flujo.json steps."fulfil.ship")`},
		"pack":   {`attempts: 1 (retries 0, from flujo.json steps."fulfil.pack"), timeout 5ms per attempt (from flujo.json steps."fulfil.pack")`},
		"notify": {`attempts: 1 (retries 0)`, `breaker: on, opens after 2 consecutive failures, probes after 30s (from flujo.json steps."fulfil.notify")`},
	} {
		for _, w := range want {
			if !strings.Contains(details[step], w) {
				t.Errorf("step %q: explain says\n%s\nwant a line %q", step, details[step], w)
			}
		}
		if strings.Contains(details[step], "overrides:") {
			t.Errorf("step %q: a separate list of overrides:\n%s", step, details[step])
		}
	}
}
