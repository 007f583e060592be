package analysis

import (
	"errors"
	"strings"
	"testing"
)

// TestLoadToleratesGeneratedUses loads packages that use generated
// executors, which the flujogen build tag hides: unqualified in the
// pipelines' own package, qualified in another root, and in the
// declarations of a package between two roots.
func TestLoadToleratesGeneratedUses(t *testing.T) {
	m, err := load(t, LoadOptions{Patterns: []string{"./genuse/app", "./genuse/orders"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Packages {
		for _, pl := range p.Pipelines {
			names = append(names, p.Name+"."+pl.Var)
		}
	}
	if got, want := strings.Join(names, " "), "orders.Checkout orders.refund"; got != want {
		t.Errorf("pipelines %q, want %q", got, want)
	}
}

// TestLoadReportsLookalikeErrors checks that undefined names shaped like
// generated ones are still reported when flujogen declares no such name:
// the loader decides from the packages' declarations, not from the
// message. The package of the pipelines is loaded too: a dependency that
// is not loaded from source is compiled with the flujogen build tag, and
// its own uses of its generated executors do not compile.
func TestLoadReportsLookalikeErrors(t *testing.T) {
	_, err := load(t, LoadOptions{Patterns: []string{"./genuse/typo", "./genuse/nopipes", "./genuse/orders"}})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want an ErrorList, got %v", err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Error())
	}
	want := []string{
		"genuse/nopipes/nopipes.go:4:9: undefined: FlujogenRunners",
		"genuse/typo/typo.go:21:17: undefined: orders.NewChekoutExecutor",
		"genuse/typo/typo.go:28:9: undefined: NewRetryExecutor",
		"genuse/typo/typo.go:29:6: undefined: newRefundExecutor",
		"genuse/typo/typo.go:30:13: undefined: orders.NewLocalExecutor",
		"genuse/typo/typo.go:31:13: undefined: orders.refundExecutor",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
