package flujo_test

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/hello"
	"github.com/flujo/flujo/runtime"
)

// Audit is the pipeline state of ExampleParallel: each branch records in it
// what it did.
type Audit struct {
	By    string
	Words int
}

// CountWords counts the words of text and records the count.
func CountWords(_ context.Context, text string, st *Audit) (int, error) {
	st.By, st.Words = "count", len(strings.Fields(text))
	return st.Words, nil
}

// Shout upper-cases text and records that it ran.
func Shout(_ context.Context, text string, st *Audit) (string, error) {
	st.By = "shout"
	return strings.ToUpper(text), nil
}

// Both joins the branch outputs, in branch order.
func Both(words int, loud string) string { return fmt.Sprintf("%s (%d words)", loud, words) }

// Two branches run on the same input; the join receives their outputs in
// branch order. Both branches write the state field By: with KeepFirst the
// first branch's write is kept (MergeUpdate, the default, would keep the
// last one's, and ErrorOnConflict would fail the run).
func ExampleParallel() {
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		panic(err)
	}
	defer core.Close(context.Background())

	summary := flujo.Parallel("summary", Both,
		flujo.StepS("count", CountWords),
		flujo.StepS("shout", Shout),
	).With(flujo.Merge(flujo.KeepFirst))

	var audit Audit
	out, _, err := flujo.Run[string](context.Background(), core, summary, "hello parallel world", flujo.WithState(&audit))
	if err != nil {
		panic(err)
	}
	fmt.Println(out)
	fmt.Printf("%+v\n", audit)
	// Output:
	// HELLO PARALLEL WORLD (3 words)
	// {By:count Words:3}
}

// The body runs on every element, at most two at a time; the outputs come
// back in input order, one result per element.
func ExampleMap() {
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		panic(err)
	}
	defer core.Close(context.Background())

	lengths := flujo.Map[string, int]("lengths",
		flujo.Func("length", func(s string) int { return len(s) }),
		flujo.Concurrency(2),
	)

	out, res, err := flujo.Run[[]int](context.Background(), core, lengths, []string{"a", "map", "runs", "each"})
	if err != nil {
		panic(err)
	}
	fmt.Println(out, len(res.Steps[0].Steps), "elements")
	// Output: [1 3 4 4] 4 elements
}

// The body runs on the input, then on its own output, until the exit
// condition holds; Attempts counts the iterations.
func ExampleLoop() {
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		panic(err)
	}
	defer core.Close(context.Background())

	grow := flujo.Loop("grow",
		flujo.Func("double", func(n int) int { return 2 * n }),
		func(n int) bool { return n >= 100 },
		flujo.MaxLoops(10),
	)

	out, res, err := flujo.Run[int](context.Background(), core, grow, 3)
	if err != nil {
		panic(err)
	}
	fmt.Println(out, "after", res.Steps[0].Attempts, "iterations")
	// Output: 192 after 6 iterations
}

// The chooser's key selects the case; a key without a case runs the
// Default. The key is recorded in the result.
func ExampleBranch() {
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		panic(err)
	}
	defer core.Close(context.Background())

	kind := func(format string) flujo.Node {
		return flujo.Func(format, func(string) string { return format })
	}
	parse := flujo.Branch("parse", path.Ext, map[string]flujo.Node{
		".csv":  kind("csv"),
		".json": kind("json"),
	}, flujo.Default(kind("raw")))

	for _, file := range []string{"orders.csv", "orders.json", "orders.xml"} {
		out, res, err := flujo.Run[string](context.Background(), core, parse, file)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: key %q, parsed as %s\n", file, res.Steps[0].BranchKey, out)
	}
	// Output:
	// orders.csv: key ".csv", parsed as csv
	// orders.json: key ".json", parsed as json
	// orders.xml: key ".xml", parsed as raw
}

// Tally is the pipeline state of ExampleStepS.
type Tally struct {
	Runs  int
	Words int
}

// Tokenize splits text into words and adds them to the tally.
func Tokenize(_ context.Context, text string, st *Tally) ([]string, error) {
	words := strings.Fields(text)
	st.Runs++
	st.Words += len(words)
	return words, nil
}

// A StepS reads and updates the pipeline state. WithState passes the state
// in: the run updates it in place, so a second run continues from the first.
func ExampleStepS() {
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		panic(err)
	}
	defer core.Close(context.Background())

	tokenize := flujo.StepS("tokenize", Tokenize)

	var tally Tally
	for _, text := range []string{"state lives across steps", "and runs"} {
		if _, err := core.Execute(context.Background(), tokenize, text, flujo.WithState(&tally)); err != nil {
			panic(err)
		}
	}
	fmt.Printf("%+v\n", tally)
	// Output: {Runs:2 Words:6}
}

// A cached step is called once per input while the cache holds its output:
// the second run is served from the cache, records a CacheHit and makes no
// attempt. Caching needs enable_cache_optimization.
func ExampleCache() {
	cfg := runtime.DefaultOptimizationConfig()
	cfg.EnableCacheOptimization = true
	core, err := flujo.NewExecutorCore(cfg)
	if err != nil {
		panic(err)
	}
	defer core.Close(context.Background())

	codes := map[string]string{"Germany": "DE", "Japan": "JP"}
	calls := 0
	lookup := flujo.Step("lookup", func(_ context.Context, country string) (string, error) {
		calls++ // a slow remote call, in real code
		return codes[country], nil
	}, flujo.Cache())

	for range 2 {
		res, err := core.Execute(context.Background(), lookup, "Germany")
		if err != nil {
			panic(err)
		}
		fmt.Println(res.Output, "cache hit:", res.Steps[0].CacheHit, "attempts:", res.Steps[0].Attempts)
	}
	fmt.Println("calls:", calls)
	// Output:
	// DE cache hit: false attempts: 1
	// DE cache hit: true attempts: 0
	// calls: 1
}

var errModelDown = errors.New("model down")

// When the primary fails after its last attempt, the fallback runs on the
// same input. The result records the primary's error, and Attempts counts
// the fallback's attempts too.
func ExampleFallback() {
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		panic(err)
	}
	defer core.Close(context.Background())

	answer := flujo.Step("large-model", func(context.Context, string) (string, error) {
		return "", errModelDown
	}, flujo.Retries(0), flujo.Fallback(
		flujo.Step("small-model", func(_ context.Context, q string) (string, error) {
			return "short answer to " + q, nil
		}),
	))

	out, res, err := flujo.Run[string](context.Background(), core, answer, "why?")
	if err != nil {
		panic(err)
	}
	step := res.Steps[0]
	fmt.Println(out)
	fmt.Println("fallback:", step.FallbackTriggered, "attempts:", step.Attempts, "primary error:", step.OriginalError)
	// Output:
	// short answer to why?
	// fallback: true attempts: 2 primary error: model down
}

// Completion is a step output that reports its usage.
type Completion struct {
	Text   string
	Tokens int
}

// Usage implements flujo.UsageReporter: the executor charges it to the run.
func (c Completion) Usage() flujo.Usage {
	return flujo.Usage{Cost: 0.01, CompletionTokens: c.Tokens}
}

// Draft writes 100 tokens more of text.
func Draft(_ context.Context, c Completion) (Completion, error) {
	return Completion{Text: c.Text + "...", Tokens: 100}, nil
}

// Every output that implements UsageReporter is charged to the run's budget.
// The third step goes above the limit of 250 tokens: the run stops with a
// *UsageLimitExceededError that carries the partial result: every step that
// ran, the one that went over included; "polish" never ran.
func ExampleWithUsageLimits() {
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		panic(err)
	}
	defer core.Close(context.Background())

	write := flujo.Pipeline("write",
		flujo.Step("outline", Draft),
		flujo.Step("draft", Draft),
		flujo.Step("revise", Draft),
		flujo.Step("polish", Draft),
	)

	_, err = core.Execute(context.Background(), write, Completion{}, flujo.WithUsageLimits(flujo.UsageLimits{TotalTokensLimit: 250}))
	var limit *flujo.UsageLimitExceededError
	if errors.As(err, &limit) {
		fmt.Printf("%s: %d tokens, $%.2f\n", limit.Limit, limit.Tokens, limit.Cost)
		for _, step := range limit.Partial.Steps {
			fmt.Println(step.Name, step.Tokens)
		}
	}
	// Output:
	// total_tokens_limit: 300 tokens, $0.03
	// outline 100
	// draft 100
	// revise 100
}

// flujogen generates a typed executor from a pipeline declared in a package
// variable: here hello.GreetingExecutor, generated from hello.Greeting into
// examples/hello/flujo_gen.go by `go tool flujogen generate`. It runs the
// pipeline with the same semantics as the ExecutorCore, with typed input and
// output and no reflection.
func Example_generatedExecutor() {
	ctx := context.Background()
	exec, err := hello.NewGreetingExecutor()
	if err != nil {
		panic(err)
	}
	defer exec.Close(ctx)

	out, err := exec.Execute(ctx, "  World ")
	if err != nil {
		panic(err)
	}
	fmt.Println(out)

	// The same declaration on the ExecutorCore gives the same output.
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		panic(err)
	}
	defer core.Close(ctx)
	same, _, err := flujo.Run[string](ctx, core, hello.Greeting, "  World ")
	if err != nil {
		panic(err)
	}
	fmt.Println(same == out)

	// Bad input fails the run with a *flujo.StepError naming the step.
	_, err = exec.Execute(ctx, " ")
	fmt.Println(err)
	// Output:
	// Hello, world!
	// true
	// flujo: step "greeting/greet" failed: Agent execution failed with flujo.InputError: hello: no name to greet: pass a non-empty name
}
