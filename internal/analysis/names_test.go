package analysis

import "testing"

func TestExecutorNames(t *testing.T) {
	for _, tc := range []struct{ v, typ, ctor string }{
		{"Triage", "TriageExecutor", "NewTriageExecutor"},
		{"triage", "triageExecutor", "newTriageExecutor"},
		{"_x", "_xExecutor", "new_xExecutor"},
		{"ñame", "ñameExecutor", "newÑameExecutor"},
		{"Ñame", "ÑameExecutor", "NewÑameExecutor"},
		{"名前", "名前Executor", "new名前Executor"},
	} {
		if typ, ctor := ExecutorNames(tc.v); typ != tc.typ || ctor != tc.ctor {
			t.Errorf("ExecutorNames(%q) = %q, %q; want %q, %q", tc.v, typ, ctor, tc.typ, tc.ctor)
		}
	}
}
