package flujo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/runtime"
)

type Ticket struct{ Text string }

type Triaged struct {
	Ticket Ticket
	Queue  string
}

var errFlaky = errors.New("model overloaded")

func Classify(_ context.Context, t Ticket) (Ticket, error) {
	if strings.Contains(t.Text, "overload") {
		return Ticket{}, errFlaky
	}
	return t, nil
}

func Heuristic(_ context.Context, t Ticket) (Ticket, error) { return t, nil }

func Queue(t Ticket) string {
	if strings.Contains(t.Text, "down") {
		return "urgent"
	}
	return "normal"
}

func Page(_ context.Context, t Ticket) (Triaged, error)    { return Triaged{t, "page"}, nil }
func Enqueue(_ context.Context, t Ticket) (Triaged, error) { return Triaged{t, "queue"}, nil }

var Triage = flujo.Pipeline("triage",
	flujo.Step("classify", Classify, flujo.Retries(2), flujo.Fallback(flujo.Step("heuristic", Heuristic))),
	flujo.Branch("route", Queue, map[string]flujo.Node{
		"urgent": flujo.Step("page", Page),
		"normal": flujo.Step("queue", Enqueue),
	}),
)

func Example() {
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		panic(err)
	}
	defer core.Close(context.Background())

	out, res, err := flujo.Run[Triaged](context.Background(), core, Triage, Ticket{"site down, overload"})
	if err != nil {
		panic(err)
	}
	classify, _ := res.Step("classify")
	route, _ := res.Step("route")
	fmt.Println(out.Queue, classify.Attempts, classify.FallbackTriggered, route.BranchKey)
	// Output: page 4 true urgent
}

// Check finds nothing wrong in a sound declaration. The DSL checks every
// declaration as it is built, so an unsound one never gets that far: the
// constructor panics with the error Check would return.
func ExampleCheck() {
	sound := flujo.Pipeline("good", flujo.Step("classify", Classify), flujo.Step("route", Page))
	fmt.Println(flujo.Check(sound))

	defer func() { fmt.Println(recover()) }()
	flujo.Pipeline("bad", flujo.Step("route", Page), flujo.Step("classify", Classify))
	// Output:
	// <nil>
	// flujo: step "classify": expects input flujo_test.Ticket, but step "route" before it produces flujo_test.Triaged
}

// A flujo.json step override, given in code: "classify" in the pipeline
// "overrides" makes 4 attempts instead of the declared 2, as it would in the
// executor flujogen generates from a flujo.json holding
// {"steps": {"overrides.classify": {"retries": 3}}}. NewExecutorCoreFromFile
// and WithConfigFile read such a file.
func ExampleWithStepOverrides() {
	p := flujo.Pipeline("overrides", flujo.Step("classify", Classify))
	retries := 3
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableOptimizedErrorHandling = false // retry every failure
	core, err := flujo.NewExecutorCore(cfg, flujo.WithStepOverrides(map[string]runtime.StepOverride{
		"overrides.classify": {Retries: &retries},
	}))
	if err != nil {
		panic(err)
	}
	defer core.Close(context.Background())
	res, _ := core.Execute(context.Background(), p, Ticket{Text: "overload"})
	fmt.Println("attempts:", res.Steps[0].Attempts)
	// Output: attempts: 4
}
