package statuspage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/statuspage"
)

// Mount the status page of an ExecutorCore at /debug/flujo, and read its
// JSON twin.
func ExampleHandler() {
	core, err := flujo.NewExecutorCore(runtime.DefaultOptimizationConfig())
	if err != nil {
		panic(err)
	}
	defer core.Close(context.Background())
	shout := flujo.Pipeline("shout",
		flujo.Func("upper", strings.ToUpper),
		flujo.Func("exclaim", func(s string) string { return s + "!" }),
	)
	for _, s := range []string{"hello", "world"} {
		if _, _, err := flujo.Run[string](context.Background(), core, shout, s); err != nil {
			panic(err)
		}
	}

	mux := http.NewServeMux()
	mux.Handle("/debug/flujo", statuspage.Handler(core))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/flujo?format=json", nil))

	var st statuspage.Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		panic(err)
	}
	fmt.Println("runs:", st.Totals.Runs)
	for _, s := range st.Steps {
		fmt.Printf("%s: %d executions, success rate %.0f%%, breaker %s\n", s.Name, s.Executions, 100*s.SuccessRate, s.Breaker.State)
	}
	fmt.Println("recommendations:", len(st.Recommendations))
	// Output:
	// runs: 2
	// exclaim: 2 executions, success rate 100%, breaker closed
	// upper: 2 executions, success rate 100%, breaker closed
	// recommendations: 0
}
