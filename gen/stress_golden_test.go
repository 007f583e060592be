package gen

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/schema"
)

// TestGoldenStress generates testdata/stress under its flujo.json, whose
// executors the stress tests run. The Parallels and Maps whose steps all
// ignore their context take pooled cancel scopes; the others do not.
func TestGoldenStress(t *testing.T) {
	m, err := analysis.Load(context.Background(), analysis.LoadOptions{Dir: "..", Patterns: []string{"./gen/testdata/stress"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Load(filepath.Join("testdata", "stress", "flujo.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Generate(m, m.Packages[0], cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"e.scopes.Get(ctx)", "context.WithCancel(ctx)", "e.scratch.Load().Put(sc.owner)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the generated file lacks %s", want)
		}
	}
	golden(t, filepath.Join("testdata", "stress", "flujo_gen.go"), out)
}
