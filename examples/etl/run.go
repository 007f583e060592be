//go:build !flujogen

// This file uses the executor flujogen generated (flujo_gen.go), which
// flujogen itself does not see: it loads packages with the flujogen tag.

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/report"
	"github.com/flujo/flujo/examples/internal/statscmp"
)

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

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
	if err := report.Stats(stdout, core); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := runGenerated(ctx, *latency, core, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return runLoad(ctx, stdout, stderr)
}

// runGenerated runs the sample exports again on the executor flujogen
// generated from Orders (flujo_gen.go, configured by flujo.json like
// Config), against a fresh country service, and prints its stats next to
// the ExecutorCore's. The Map looks countries up concurrently, so cache
// hits may differ by a few between the two.
func runGenerated(ctx context.Context, latency time.Duration, core *flujo.ExecutorCore, stdout io.Writer) error {
	svc, err := NewCountryService(latency, Workers)
	if err != nil {
		return err
	}
	gen, err := NewOrdersExecutor()
	if err != nil {
		return err
	}
	defer gen.Close(context.Background())
	ctx = WithService(ctx, svc)
	for _, exp := range SampleExports() {
		if _, err := gen.Execute(ctx, exp.CSV); err != nil {
			return fmt.Errorf("%s (generated executor): %w", exp.Name, err)
		}
	}
	fmt.Fprintln(stdout, "\n== generated executor (flujo_gen.go) next to the ExecutorCore, same exports")
	statscmp.Print(stdout, "ExecutorCore", "OrdersExecutor", core.OptimizationStats(), gen.OptimizationStats())
	return nil
}
