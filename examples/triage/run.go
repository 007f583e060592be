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
	jsonPath := fs.String("json", "", report.JSONFlagUsage)
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

	tickets := SampleTickets()
	outcomes := TriageAll(WithLLM(ctx, llm), core, tickets)
	fmt.Fprintf(stdout, "== examples/triage: %d support tickets classified by a simulated language model, then routed (ExecutorCore, embedded defaults)\n", len(tickets))
	printOutcomes(stdout, outcomes)
	fmt.Fprintf(stdout, "model calls: %s\n", modelCalls(llm.Calls()))

	gen, err := runGenerated(ctx, sim, core, outcomes, stdout)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	rep, err := RunLoad(ctx, DefaultLoadPlan(sim.Seed))
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
// a simulated model of the same settings, prints its key figures next to the
// ExecutorCore's and the ExecutorCore's recommendations, and returns the
// generated executor's figures.
func runGenerated(ctx context.Context, sim SimConfig, core *flujo.ExecutorCore, want []Outcome, stdout io.Writer) (report.Figures, error) {
	llm, err := NewSimLLM(sim)
	if err != nil {
		return report.Figures{}, err
	}
	gen, err := NewTriageExecutor()
	if err != nil {
		return report.Figures{}, err
	}
	defer gen.Close(context.Background())
	got := TriageAllWith(WithLLM(ctx, llm), GeneratedTriage(gen), SampleTickets())
	same := 0
	for i := range got {
		if got[i].Summary() == want[i].Summary() {
			same++
		}
	}
	fmt.Fprintf(stdout, "\n-- key figures: the ExecutorCore next to TriageExecutor, which flujogen generated (flujo_gen.go); %d of %d results identical\n", same, len(got))
	statscmp.Print(stdout,
		statscmp.Engine{Name: "ExecutorCore", Stats: core.OptimizationStats(), Succeeded: countRouted(want)},
		statscmp.Engine{Name: "TriageExecutor", Stats: gen.OptimizationStats(), Succeeded: countRouted(got)})
	report.Recommendations(stdout, core.PerformanceRecommendations())
	return report.FiguresOf(gen), nil
}

// countRouted counts the outcomes that routed their ticket.
func countRouted(outcomes []Outcome) int {
	n := 0
	for _, o := range outcomes {
		if o.Err == nil {
			n++
		}
	}
	return n
}
