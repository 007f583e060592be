package flujo_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/flujotest"
	"github.com/flujo/flujo/runtime"
)

func newCore(t testing.TB, cfg runtime.OptimizationConfig, clock runtime.Clock) flujotest.Engine {
	c, err := flujo.NewExecutorCore(cfg, flujo.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return c
}

func TestSemantics(t *testing.T) { flujotest.RunSemantics(t, newCore) }

func newSharedCore(t testing.TB, cfg runtime.OptimizationConfig, clock runtime.Clock, opts ...flujo.CoreOption) flujotest.Engine {
	c, err := flujo.NewExecutorCore(cfg, append([]flujo.CoreOption{flujo.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return c
}

func TestSharedSemantics(t *testing.T) { flujotest.RunSharedSemantics(t, newSharedCore) }

// TestSemanticsDocListsEveryRule keeps docs/semantics.md in step with the suite.
func TestSemanticsDocListsEveryRule(t *testing.T) {
	doc, err := os.ReadFile("docs/semantics.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range flujotest.Rules() {
		if !strings.Contains(string(doc), "`flujotest.Test"+r.Name+"`") {
			t.Errorf("docs/semantics.md has no row for rule %s", r.Name)
		}
	}
	for _, r := range flujotest.SharedRules() {
		if !strings.Contains(string(doc), "`flujotest.Test"+r.Name+"`") {
			t.Errorf("docs/semantics.md has no row for rule %s", r.Name)
		}
	}
}
