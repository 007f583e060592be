package flujo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flujo/flujo/internal/dsl"
)

type (
	ticket    struct{ ID string }
	sentiment struct{ Score float64 }
	enriched  struct{ T ticket }
	stateA    struct{ N int }
	stateB    struct{ M int }
)

func classify(_ context.Context, t ticket) (ticket, error)         { return t, nil }
func sentimentOf(_ context.Context, t ticket) (sentiment, error)   { return sentiment{}, nil }
func enrich(_ context.Context, s sentiment) (enriched, error)      { return enriched{}, nil }
func route(_ context.Context, e enriched) (enriched, error)        { return e, nil }
func withA(_ context.Context, t ticket, _ *stateA) (ticket, error) { return t, nil }
func withB(_ context.Context, t ticket, _ *stateB) (ticket, error) { return t, nil }
func toString(_ context.Context, t ticket) (string, error)         { return t.ID, nil }
func joinTS(t ticket, s sentiment) enriched                        { return enriched{T: t} }
func inc(_ context.Context, n int) (int, error)                    { return n + 1, nil }
func never(int) bool                                               { return false }
func key(t ticket) string                                          { return t.ID }

// declared runs f and returns the declaration error it panicked with.
func declared(t *testing.T, f func() Node) error {
	t.Helper()
	var err error
	func() {
		defer func() {
			if v := recover(); v != nil {
				de, ok := v.(*DeclarationError)
				if !ok {
					t.Fatalf("panic %v is not a *DeclarationError", v)
				}
				err = de
			}
		}()
		n := f()
		if cerr := Check(n); cerr != nil {
			t.Fatalf("declaration passed but Check says %v", cerr)
		}
	}()
	return err
}

func TestDeclarationErrors(t *testing.T) {
	s := func(name string, opts ...Option) Node { return Step(name, classify, opts...) }
	tests := []struct {
		name string
		decl func() Node
		want string // "" means the declaration is sound
	}{
		{"sound", func() Node {
			return Pipeline("triage", s("classify"), Parallel("enrich", joinTS, s("crm"), Step("sentiment", sentimentOf)))
		}, ""},
		{"output does not fit next input", func() Node {
			return Pipeline("triage", Step("score", sentimentOf), Step("route", route))
		}, `flujo: step "route": expects input flujo.enriched, but step "score" before it produces flujo.sentiment`},
		{"join parameter", func() Node {
			return Parallel("enrich", joinTS, Step("sentiment", sentimentOf), s("crm"))
		}, `step "sentiment": produces flujo.sentiment, but parameter 1 of the join function of parallel "enrich" is flujo.ticket`},
		{"join arity", func() Node { return Parallel("enrich", joinTS, s("crm")) }, "join takes 2 parameters, but there are 1 branches"},
		{"join nil func", func() Node { return Parallel("enrich", (func(ticket) ticket)(nil), s("crm")) }, "join function is nil"},
		{"join not a func", func() Node { return Parallel("enrich", 42, s("crm")) }, "join must be a function, got int"},
		{"join returns two non-error", func() Node {
			return Parallel("enrich", func(ticket) (ticket, ticket) { return ticket{}, ticket{} }, s("crm"))
		}, "join must return Out or (Out, error)"},
		{"loop body types", func() Node { return Loop("l", Step("str", toString), func(ticket) bool { return true }) }, `step "str": takes flujo.ticket and produces string, but the body of loop "l" must take and produce flujo.ticket`},
		{"branch case types", func() Node {
			return Branch("b", key, map[string]Node{"a": s("x"), "b": Step("str", toString)})
		}, `step "str": case "b" of branch "b" produces string, but step "x" produces flujo.ticket`},
		{"duplicate names", func() Node { return Pipeline("p", s("x"), s("x")) }, `step "x": name "x" is already used by step "x"; names must be unique within pipeline "p"`},
		{"step named like its pipeline", func() Node { return Pipeline("p", s("p")) }, `step "p": name "p" is already used by pipeline "p"; names must be unique within pipeline "p"`},
		{"two state types", func() Node { return Pipeline("p", StepS("a", withA), StepS("b", withB)) }, `step "b": uses state flujo.stateB, but step "a" uses state flujo.stateA`},
		{"Merge on a step", func() Node { return s("x", Merge(KeepFirst)) }, `step "x": Merge applies to a Parallel, not to a step`},
		{"MaxLoops on a parallel", func() Node { return Parallel("p", func(ticket) ticket { return ticket{} }, s("x")).With(MaxLoops(3)) }, "MaxLoops applies to a Loop, not to a parallel"},
		{"Retries on a pipeline", func() Node { return Pipeline("p", s("x")).With(Retries(2)) }, "Retries applies to a leaf step"},
		{"Cache on a StepS", func() Node { return StepS("a", withA, Cache()) }, "Cache cannot apply to a StepS: it reads the pipeline state"},
		{"negative retries", func() Node { return s("x", Retries(-1)) }, "Retries(-1): must be >= 0"},
		{"bad backoff", func() Node { return s("x", Backoff(time.Second, time.Millisecond)) }, "need 0 <= initial <= max"},
		{"zero timeout", func() Node { return s("x", Timeout(0)) }, "Timeout(0s): must be > 0"},
		{"zero max loops", func() Node { return Loop("l", Step("inc", inc), never, MaxLoops(0)) }, "MaxLoops(0): must be >= 1"},
		{"zero concurrency", func() Node { return Map[ticket, ticket]("m", s("x"), Concurrency(0)) }, "Concurrency(0): must be >= 1"},
		{"fallback types", func() Node { return s("x", Fallback(Step("str", toString))) }, `fallback "str" takes flujo.ticket and produces string, but the node takes flujo.ticket and produces flujo.ticket`},
		{"validator type", func() Node { return s("x", Validate(func(string) error { return nil })) }, "Validate[string] does not fit the output type flujo.ticket"},
		{"nil function", func() Node { return Step[ticket, ticket]("x", nil) }, `step "x": function is nil`},
		{"BreakerCounts nil", func() Node { return s("x", BreakerCounts(nil)) }, `step "x": BreakerCounts: function is nil`},
		{"BreakerCounts on a pipeline", func() Node { return Pipeline("p", s("x")).With(BreakerCounts(CountsAsBreakerFailure)) }, `pipeline "p": BreakerCounts applies to a leaf step (Step, StepS or Func), not to a pipeline`},
		{"BreakerCounts on a step", func() Node { return s("x", BreakerCounts(IsBadInput)) }, ""},
		{"empty pipeline", func() Node { return Pipeline("p") }, `pipeline "p": has no steps`},
		{"empty name", func() Node { return s("") }, `step "": name is empty`},
		{"blank name", func() Node { return s("  ") }, `step "  ": name is only white space`},
		{"blank name in a pipeline", func() Node { return Pipeline("p", s("a"), s("\t\n")) }, `step "\t\n": name is only white space`},
		{"blank pipeline name", func() Node { return Pipeline(" ", s("a")) }, `pipeline " ": name is only white space`},
		{"map body types", func() Node { return Map[int, int]("m", s("x")) }, `step "x": takes flujo.ticket and produces flujo.ticket, but the body of map "m" must take int and produce int`},
		{"map state with concurrency", func() Node { return Map[ticket, ticket]("m", StepS("a", withA), Concurrency(2)) }, "the body reads the pipeline state"},
		{"unknown merge", func() Node { return Parallel("p", func(ticket) ticket { return ticket{} }, s("x")).With(Merge(9)) }, "Merge(MergeStrategy(9)): unknown strategy"},
		{"default types", func() Node { return Branch("b", key, map[string]Node{"a": s("x")}, Default(Step("str", toString))) }, `step "str": Default of branch "b" produces string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := declared(t, tc.decl)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
		})
	}
}

func TestDeclarationErrorsAreAllReported(t *testing.T) {
	err := declared(t, func() Node { return Step("a", classify, Retries(-1), Merge(NoMerge), Timeout(-1)) })
	if de := err.(*DeclarationError); len(de.Problems) != 3 {
		t.Fatalf("got %d problems, want 3:\n%v", len(de.Problems), err)
	}
	err = declared(t, func() Node { return Pipeline("p", Step("a", classify), Step("str", toString), Step("a", classify)) })
	if de := err.(*DeclarationError); len(de.Problems) != 2 {
		t.Fatalf("got %d problems, want 2:\n%v", len(de.Problems), err)
	}
}

func TestWithDoesNotChangeReceiver(t *testing.T) {
	a := Step("a", classify)
	b := a.With(Retries(4), Timeout(time.Second))
	if a.base().set.retries != DefaultRetries || b.base().set.retries != 4 || a.base().set.timeout != 0 {
		t.Fatal("With changed its receiver")
	}
	c := b.With(Retries(0))
	if b.base().set.retries != 4 || c.base().set.retries != 0 || &b.base().opts[0] == &c.base().opts[0] {
		t.Fatal("With shares options with its receiver")
	}
}

func TestOptionStrings(t *testing.T) {
	for _, tc := range []struct {
		o    Option
		want string
	}{
		{Retries(2), "Retries(2)"},
		{Backoff(time.Millisecond, time.Second), "Backoff(1ms, 1s)"},
		{Fallback(Step("fb", classify)), `Fallback("fb")`},
		{Merge(ErrorOnConflict), "Merge(ErrorOnConflict)"},
		{OnBranchFailure(Ignore), "OnBranchFailure(Ignore)"},
		{Validate(func(ticket) error { return nil }), "Validate[flujo.ticket]"},
		{Cache(), "Cache()"},
	} {
		if got := tc.o.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestBackoffDelays(t *testing.T) {
	s := resolveSettings([]Option{Backoff(10*time.Millisecond, 35*time.Millisecond)})
	var got []time.Duration
	for a := 2; a <= 5; a++ {
		got = append(got, s.backoff.Delay(a-1, 0))
	}
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 35 * time.Millisecond, 35 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
}

// TestFingerprintIsTheTables checks that a leaf step's cache fingerprint
// is the DSL rule table's, built from each option's String.
func TestFingerprintIsTheTables(t *testing.T) {
	n := Step("s", classify, Retries(2), Timeout(time.Second), Cache())
	want := dsl.Fingerprint(dsl.Step, "s", "flujo.ticket", "flujo.ticket", []string{"Retries(2)", "Timeout(1s)", "Cache()"})
	if got := fingerprint(n.base()); got != want {
		t.Errorf("fingerprint %q, want %q", got, want)
	}
}
