package statscmp

import (
	"strings"
	"testing"

	"github.com/flujo/flujo/runtime"
)

func TestPrintMarksDifferences(t *testing.T) {
	a := runtime.Stats{Steps: map[string]runtime.StatsStep{"s": {}}}
	a.Execution.Count, a.Errors.Executions = 3, 5
	b := a
	b.Steps = map[string]runtime.StatsStep{"s": {}, "t": {Errors: runtime.StatsErrors{Executions: 1}}}
	b.Errors.Executions = 6
	var out strings.Builder
	Print(&out, "left", "right", a, b)
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(lines[0], "counter") || !strings.Contains(lines[0], "left") || !strings.HasSuffix(lines[0], "right") {
		t.Errorf("header %q", lines[0])
	}
	marked := map[string]bool{}
	for _, l := range lines[1:] {
		if strings.HasSuffix(l, "*") {
			marked[strings.Fields(l)[0]] = true
		}
	}
	if !marked["step"] || !marked["t"] || marked["runs"] || marked["s"] || len(marked) != 2 {
		t.Errorf("marked rows %v in\n%s", marked, out.String())
	}
}
