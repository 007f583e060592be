//go:build !flujogen

// This file uses the executor flujogen generated (flujo_gen.go), which
// flujogen itself does not see: it loads packages with the flujogen tag.

package realtime

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/internal/report"
	"github.com/flujo/flujo/examples/internal/statscmp"
)

// Main is the whole realtime command, testable in-process: it parses args,
// serves (or with -demo runs the demo) and returns the exit code. opts are
// given to the ExecutorCore and to the generated executor, for example the
// shared services of a replica (contrib/redis's cmd/realtime-replica).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, opts ...flujo.CoreOption) int {
	return MainWith(ctx, args, stdout, stderr, Options{CoreOptions: opts})
}

// Options is what a command adds to Main.
type Options struct {
	// CoreOptions are given to the ExecutorCore and to the generated
	// executor.
	CoreOptions []flujo.CoreOption
	// Routes, if set, mounts more routes next to the API when serving,
	// with the executor that serves it: cmd/realtime mounts GET /metrics
	// with contrib/prometheus. A route it registers takes precedence over
	// the API's for the paths it matches. An error stops the command.
	Routes func(mux *http.ServeMux, exec Executor) error
}

// MainWith is Main with the options of o.
func MainWith(ctx context.Context, args []string, stdout, stderr io.Writer, o Options) int {
	opts := o.CoreOptions
	fs := flag.NewFlagSet("realtime", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to serve on")
	demo := fs.Bool("demo", false, "send a few requests in-process, print the results and exit")
	fs.BoolVar(demo, "once", false, "same as -demo")
	latency := fs.Duration("latency", time.Millisecond, "time the simulated upstream model takes to answer")
	mode := Healthy
	fs.Var(&mode, "upstream", "how the simulated upstream model starts: healthy, failing, hanging or garbled")
	jsonPath := fs.String("json", "", "with -demo, "+report.JSONFlagUsage)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	upstream, err := NewUpstream(*latency)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	upstream.SetMode(mode)
	cfg, err := Config()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	core, err := flujo.NewExecutorCore(cfg, opts...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer core.Close(context.Background())
	h, err := NewHandler(core, upstream)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *demo {
		err = demoBoth(stdout, h, upstream, core, *latency, *jsonPath, opts...)
	} else {
		var root http.Handler = h
		if o.Routes != nil {
			mux := http.NewServeMux()
			mux.Handle("/", h)
			if err := o.Routes(mux, h.core); err != nil {
				fmt.Fprintln(stderr, "realtime: mounting routes:", err)
				return 1
			}
			root = mux
		}
		err = serve(ctx, *addr, root, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// generatedExecutor runs Answer on the executor flujogen generated from it.
type generatedExecutor struct{ *AnswerExecutor }

// Run runs Answer on q.
func (g generatedExecutor) Run(ctx context.Context, q Question, opts ...flujo.ExecOption) (Reply, *flujo.PipelineResult, error) {
	res, err := g.ExecuteResult(ctx, q, opts...)
	var out Reply
	if err == nil {
		out, _ = res.Output.(Reply)
	}
	return out, res, err
}

// demoBoth runs the demo on h (on core), then on the generated executor,
// prints their key figures side by side and core's recommendations, and
// with a jsonPath writes both executors' full figures there.
func demoBoth(w io.Writer, h *Handler, upstream *Upstream, core *flujo.ExecutorCore, latency time.Duration, jsonPath string, opts ...flujo.CoreOption) error {
	want, err := runDemo(w, h, upstream)
	if err != nil {
		return err
	}
	gen, err := runGenerated(w, core, want, latency, opts...)
	if err != nil {
		return err
	}
	if jsonPath == "" {
		return nil
	}
	return report.WriteJSON(jsonPath, w, map[string]report.Figures{"executor_core": report.FiguresOf(core), "generated": gen})
}

// runGenerated sends the demo requests again, to a handler on the generated
// executor (configured by flujo.json, the same profile) and a fresh
// upstream, prints its key figures next to the ExecutorCore's and the
// ExecutorCore's recommendations, and returns the generated executor's
// figures.
func runGenerated(w io.Writer, core *flujo.ExecutorCore, want []exchange, latency time.Duration, opts ...flujo.CoreOption) (report.Figures, error) {
	upstream, err := NewUpstream(latency)
	if err != nil {
		return report.Figures{}, err
	}
	gen, err := NewAnswerExecutor(opts...)
	if err != nil {
		return report.Figures{}, err
	}
	defer gen.Close(context.Background())
	h, err := NewHandlerFor(generatedExecutor{gen}, upstream)
	if err != nil {
		return report.Figures{}, err
	}
	got := sendDemo(h, upstream)
	same := 0
	for i := range got {
		if got[i].code == want[i].code && string(got[i].reply) == string(want[i].reply) {
			same++
		}
	}
	fmt.Fprintf(w, "\n-- key figures: the ExecutorCore next to AnswerExecutor, which flujogen generated (flujo_gen.go); %d of %d responses identical\n", same, len(got))
	statscmp.Print(w,
		statscmp.Engine{Name: "ExecutorCore", Stats: core.OptimizationStats(), Succeeded: succeeded(want)},
		statscmp.Engine{Name: "AnswerExecutor", Stats: gen.OptimizationStats(), Succeeded: succeeded(got)})
	report.Recommendations(w, core.PerformanceRecommendations())
	return report.FiguresOf(gen), nil
}
