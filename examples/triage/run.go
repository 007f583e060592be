//go:build !flujogen

// This file uses the executor flujogen generated (flujo_gen.go), which
// flujogen itself does not see: it loads packages with the flujogen tag.

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/report"
	"github.com/flujo/flujo/examples/internal/statscmp"
	"github.com/flujo/flujo/runtime"
)

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

// run is the whole command, testable in-process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("triage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sim := SimConfig{OverloadPercent: 25, MalformedPercent: 15}
	fs.Uint64Var(&sim.Seed, "seed", 7, "seed of the simulated model")
	fs.DurationVar(&sim.MaxLatency, "latency", 2*time.Millisecond, "longest simulated model call")
	fs.IntVar(&sim.OverloadPercent, "overload", sim.OverloadPercent, "percent of large-model calls that fail as overloaded")
	fs.IntVar(&sim.MalformedPercent, "malformed", sim.MalformedPercent, "percent of large-model calls that answer nonsense")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	llm, err := NewSimLLM(sim)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer core.Close(context.Background())

	outcomes := TriageAll(WithLLM(ctx, llm), core, SampleTickets())

	fmt.Fprintln(stdout, "== results")
	for _, o := range outcomes {
		fmt.Fprintln(stdout, o.Summary())
	}
	fmt.Fprintln(stdout, "\n== model calls")
	calls := llm.Calls()
	for _, m := range slices.Sorted(maps.Keys(calls)) {
		c := calls[m]
		fmt.Fprintf(stdout, "%-9s calls=%d overloaded=%d malformed=%d rejected=%d\n", m, c.Calls, c.Overloaded, c.Malformed, c.Rejected)
	}
	fmt.Fprintln(stdout)
	if err := report.Stats(stdout, core); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := runGenerated(ctx, sim, core, outcomes, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return runLoad(ctx, sim.Seed, stdout, stderr)
}

// GeneratedTriage runs Triage on the executor flujogen generated from it
// (flujo_gen.go).
func GeneratedTriage(e *TriageExecutor) TriageFunc {
	return func(ctx context.Context, t Ticket, st *TriageState, opts ...flujo.ExecOption) (Routed, *flujo.PipelineResult, error) {
		res, err := e.ExecuteResult(ctx, t, st, opts...)
		var out Routed
		if err == nil {
			out, _ = res.Output.(Routed)
		}
		return out, res, err
	}
}

// runGenerated runs the sample tickets again on the generated executor, with
// a simulated model of the same settings, and prints its stats next to the
// ExecutorCore's.
func runGenerated(ctx context.Context, sim SimConfig, core *flujo.ExecutorCore, want []Outcome, stdout io.Writer) error {
	llm, err := NewSimLLM(sim)
	if err != nil {
		return err
	}
	gen, err := NewTriageExecutor()
	if err != nil {
		return err
	}
	defer gen.Close(context.Background())
	got := TriageAllWith(WithLLM(ctx, llm), GeneratedTriage(gen), SampleTickets())
	same := 0
	for i := range got {
		if got[i].Summary() == want[i].Summary() {
			same++
		}
	}
	fmt.Fprintf(stdout, "\n== generated executor (flujo_gen.go) next to the ExecutorCore: same %d tickets, %d of %d results identical\n", len(got), same, len(got))
	statscmp.Print(stdout, "ExecutorCore", "TriageExecutor", core.OptimizationStats(), gen.OptimizationStats())
	return nil
}
