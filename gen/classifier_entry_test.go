package gen

import (
	"context"
	"testing"

	"github.com/flujo/flujo/flujotest"
	gendefaults "github.com/flujo/flujo/gen/testdata/equiv/defaults"
)

// TestErrorPatternSameThroughEveryEntryPoint: a panic learned through
// Execute (the fast path) and through ExecuteResult (the recorded path) is
// one classifier pattern, though the two calls leave different stacks.
func TestErrorPatternSameThroughEveryEntryPoint(t *testing.T) {
	ctx := context.Background()
	e, err := gendefaults.NewPanicsExecutor()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if _, err := e.Execute(ctx, flujotest.Job{Calls: flujotest.NewCalls()}); err == nil {
		t.Fatal("Execute: want the panic")
	}
	if _, err := e.ExecuteResult(ctx, flujotest.Job{Calls: flujotest.NewCalls()}); err == nil {
		t.Fatal("ExecuteResult: want the panic")
	}
	if n := e.OptimizationStats().Errors.CachedPatterns; n != 1 {
		t.Errorf("classifier patterns %d; want 1 for one panic through two entry points", n)
	}
}
