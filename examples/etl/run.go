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
	"reflect"
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
	jsonPath := fs.String("json", "", report.JSONFlagUsage)
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
	var runs []exportRun
	for _, exp := range SampleExports() {
		before, sbefore := core.OptimizationStats(), svc.Counters()
		rep, _, err := flujo.Run[Report](ctx, core, Orders, exp.CSV)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", exp.Name, err)
			return 1
		}
		after, sc := core.OptimizationStats(), svc.Counters()
		sc.Calls -= sbefore.Calls
		runs = append(runs, exportRun{Export: exp, Report: rep, Cache: after.Sub(before).Cache, Service: sc})
	}
	fmt.Fprintf(stdout, "== examples/etl: %d order exports cleaned row by row (a Map, %d rows at once), countries looked up through a cached step, totalled (ExecutorCore, cache on)\n",
		len(runs), Workers)
	printRuns(stdout, runs)
	gen, err := runGenerated(ctx, *latency, core, runs, stdout)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	rep, err := RunLoad(ctx, BulkExport(LoadSeed, LoadRows), LoadConfig(), loadLatency)
	if err != nil {
		fmt.Fprintln(stderr, "load phase:", err)
		return 1
	}
	printLoad(stdout, rep)
	if *jsonPath != "" {
		figures := map[string]report.Figures{
			"executor_core": report.FiguresOf(core),
			"generated":     gen,
			"load_phase":    {Stats: rep.Stats, Recommendations: rep.Recommendations},
		}
		if err := report.WriteJSON(*jsonPath, stdout, figures); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	return 0
}

// runGenerated runs the sample exports again on the executor flujogen
// generated from Orders (flujo_gen.go, configured by flujo.json like
// Config), against a fresh country service, prints its key figures next to
// the ExecutorCore's and the ExecutorCore's recommendations, and returns
// the generated executor's figures. The Map looks countries up
// concurrently, so cache hits may differ by a few between the two.
func runGenerated(ctx context.Context, latency time.Duration, core *flujo.ExecutorCore, want []exportRun, stdout io.Writer) (report.Figures, error) {
	svc, err := NewCountryService(latency, Workers)
	if err != nil {
		return report.Figures{}, err
	}
	gen, err := NewOrdersExecutor()
	if err != nil {
		return report.Figures{}, err
	}
	defer gen.Close(context.Background())
	ctx = WithService(ctx, svc)
	same := 0
	for _, w := range want {
		got, err := gen.Execute(ctx, w.CSV)
		if err != nil {
			return report.Figures{}, fmt.Errorf("%s (generated executor): %w", w.Name, err)
		}
		if reflect.DeepEqual(got, w.Report) {
			same++
		}
	}
	fmt.Fprintf(stdout, "\n-- key figures: the ExecutorCore next to OrdersExecutor, which flujogen generated (flujo_gen.go); %d of %d reports identical\n", same, len(want))
	statscmp.Print(stdout,
		statscmp.Engine{Name: "ExecutorCore", Stats: core.OptimizationStats(), Succeeded: len(want)},
		statscmp.Engine{Name: "OrdersExecutor", Stats: gen.OptimizationStats(), Succeeded: len(want)})
	report.Recommendations(stdout, core.PerformanceRecommendations())
	return report.FiguresOf(gen), nil
}
