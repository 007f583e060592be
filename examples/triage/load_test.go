package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/flujo/flujo/runtime"
)

// runLoadPlan runs plan, checking that the phase's executor leaves no
// goroutine behind.
func runLoadPlan(t *testing.T, plan LoadPlan) LoadReport {
	t.Helper()
	before := goleak.IgnoreCurrent()
	rep, err := RunLoad(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, before)
	return rep
}

func recommendationByID(recs []runtime.Recommendation, id string) (runtime.Recommendation, bool) {
	for _, r := range recs {
		if r.ID == id {
			return r, true
		}
	}
	return runtime.Recommendation{}, false
}

func recommendationIDs(recs []runtime.Recommendation) []string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids
}

// The incident makes the executor's own counters ask for a quicker breaker
// and a longer recovery timeout, whatever the seed.
func TestLoadPhaseRecommendsBreakerChanges(t *testing.T) {
	for _, seed := range []uint64{7, 1, 12} {
		plan := DefaultLoadPlan(seed)
		rep := runLoadPlan(t, plan)
		cfg := runtime.DefaultOptimizationConfig()
		want := []struct {
			id, field            string
			current, recommended int
		}{
			{"errors-low-recovery", "circuit_breaker_failure_threshold", cfg.CircuitBreakerFailureThreshold, cfg.CircuitBreakerFailureThreshold / 2},
			{"breaker-flapping", "circuit_breaker_recovery_timeout_seconds", cfg.CircuitBreakerRecoveryTimeoutSeconds, 2 * cfg.CircuitBreakerRecoveryTimeoutSeconds},
		}
		for _, w := range want {
			r, ok := recommendationByID(rep.Recommendations, w.id)
			if !ok {
				t.Errorf("seed %d: no %s among %v", seed, w.id, recommendationIDs(rep.Recommendations))
				continue
			}
			if r.Priority != runtime.PriorityHigh || r.Change.Field != w.field || r.Change.Current != w.current || r.Change.Recommended != w.recommended {
				t.Errorf("seed %d: %s: %s change %+v, want high %s %d -> %d", seed, w.id, r.Priority, r.Change, w.field, w.current, w.recommended)
			}
		}
		// The recommendations come from the counters the summary shows.
		e := rep.Stats.Errors
		if e.ErrorRate() < 0.1 || e.RecoveryAttempts < 10 || e.RecoverySuccessRate() >= 0.5 {
			t.Errorf("seed %d: error rate %.3f, %d recovery attempts at %.3f; want a high error rate and a low recovery rate",
				seed, e.ErrorRate(), e.RecoveryAttempts, e.RecoverySuccessRate())
		}
		b := rep.Stats.Steps["classify"].CircuitBreaker
		if b.Opens < 3 || b.Rejections == 0 {
			t.Errorf("seed %d: classify breaker opened %d times and rejected %d calls; want it to flap", seed, b.Opens, b.Rejections)
		}
		var tickets, rejected int
		for _, s := range rep.Stages {
			tickets += s.Large + s.FallbackBreaker + s.FallbackModel + s.Failed
			rejected += s.FallbackBreaker
		}
		if tickets != plan.Tickets() {
			t.Errorf("seed %d: stages account for %d tickets, want %d", seed, tickets, plan.Tickets())
		}
		if uint64(rejected) != b.Rejections {
			t.Errorf("seed %d: %d tickets fell back after a rejection, the breaker counted %d rejections", seed, rejected, b.Rejections)
		}
		if rep.Stats.Execution.Count != uint64(plan.Tickets()) {
			t.Errorf("seed %d: executor counted %d runs, want %d", seed, rep.Stats.Execution.Count, plan.Tickets())
		}
	}
}

// The same traffic without the incident gives the error and breaker rules
// nothing to report: they answer to the failures, not to the volume.
func TestLoadPhaseWithoutIncidentLeavesTheBreakerAlone(t *testing.T) {
	plan := DefaultLoadPlan(7)
	calm := plan.Stages[0]
	for i := range plan.Stages {
		plan.Stages[i].OverloadPercent, plan.Stages[i].MalformedPercent = calm.OverloadPercent, calm.MalformedPercent
	}
	rep := runLoadPlan(t, plan)
	for _, id := range []string{"errors-low-recovery", "breaker-flapping"} {
		if _, ok := recommendationByID(rep.Recommendations, id); ok {
			t.Errorf("%s recommended without an incident: %v", id, recommendationIDs(rep.Recommendations))
		}
	}
	if b := rep.Stats.Steps["classify"].CircuitBreaker; b.Opens != 0 {
		t.Errorf("classify breaker opened %d times without an incident", b.Opens)
	}
}

func TestLoadPhaseIsReproducible(t *testing.T) {
	var outs [2]string
	for i := range outs {
		var b bytes.Buffer
		printLoad(&b, runLoadPlan(t, DefaultLoadPlan(7)))
		outs[i] = b.String()
	}
	if outs[0] != outs[1] {
		t.Errorf("two load phases with seed 7 differ:\n%s\n---\n%s", outs[0], outs[1])
	}
}

func TestLoadTickets(t *testing.T) {
	a, b := LoadTickets(3, 50), LoadTickets(3, 50)
	ids := map[string]bool{}
	for i, tk := range a {
		if tk != b[i] {
			t.Fatalf("ticket %d differs between two draws with one seed: %+v, %+v", i, tk, b[i])
		}
		if ids[tk.ID] {
			t.Errorf("ticket ID %s drawn twice", tk.ID)
		}
		ids[tk.ID] = true
		if tk.Subject == "" || len(tk.Body) >= 300 {
			t.Errorf("ticket %s is empty or long: the burst is of everyday tickets", tk.ID)
		}
	}
}

func TestRunPrintsLoadPhase(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-latency=0"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	i := strings.Index(text, "\n-- load phase: ")
	if i < 0 {
		t.Fatal("no load phase in the output")
	}
	load := text[i:]
	for _, want := range []string{
		"on a new ExecutorCore on the embedded defaults",
		"\nincident   300 ",
		"\nbreaker of classify (threshold 10 failures): ",
		"\nRecommendation (high priority, errors-low-recovery): ",
		"\n  Set circuit_breaker_failure_threshold from 10 to 5 ",
		"\nRecommendation (high priority, breaker-flapping): ",
		"\n  Set circuit_breaker_recovery_timeout_seconds from 60 to 120 ",
	} {
		if !strings.Contains(load, want) {
			t.Errorf("load phase output lacks %q:\n%s", want, load)
		}
	}
}
