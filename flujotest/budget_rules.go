package flujotest

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/flujo/flujo"
)

func costLimit(c float64) flujo.ExecOption {
	return flujo.WithUsageLimits(flujo.UsageLimits{TotalCostLimit: c})
}

func tokenLimit(n int) flujo.ExecOption {
	return flujo.WithUsageLimits(flujo.UsageLimits{TotalTokensLimit: n})
}

// near reports whether a float64 sum is x, up to rounding.
func near(got, x float64) bool { return math.Abs(got-x) <= 1e-9*math.Max(1, math.Abs(x)) }

// usageAbort returns err's *UsageLimitExceededError, failing the test when
// it is not one.
func usageAbort(t *testing.T, err error) *flujo.UsageLimitExceededError {
	t.Helper()
	var ul *flujo.UsageLimitExceededError
	if !errors.As(err, &ul) {
		t.Fatalf("err %v, want a *UsageLimitExceededError", err)
	}
	return ul
}

// TestUsageBudgetSharedByParallel: a limit is one budget shared by every
// step of the run, Parallel branches and Map elements included; no branch
// gets a share of it.
func TestUsageBudgetSharedByParallel(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	// A paid branch beside a free one: 0.006 of 0.01.
	res, err := run(t, e, BudgetFan, Bill{Cost: [4]float64{0.006, 0}, Calls: NewCalls()}, costLimit(0.01))
	if err != nil || !near(res.TotalCost, 0.006) {
		t.Errorf("paid and free under 0.01: err %v cost %v; want success at 0.006", err, res.TotalCost)
	}
	// 0.7 and 0.1 under 1.0.
	res, err = run(t, e, BudgetFan, Bill{Cost: [4]float64{0.7, 0.1}, Calls: NewCalls()}, costLimit(1))
	if err != nil || !near(res.TotalCost, 0.8) {
		t.Errorf("0.7 and 0.1 under 1.0: err %v cost %v; want success at 0.8", err, res.TotalCost)
	}
	// Tokens too: 30 and 10 under 40.
	res, err = run(t, e, BudgetFan, Bill{Tokens: [4]int{30, 10}, Calls: NewCalls()}, tokenLimit(40))
	if err != nil || res.TotalTokens != 40 {
		t.Errorf("30 and 10 tokens under 40: err %v tokens %d; want success at 40", err, res.TotalTokens)
	}
	// Four branches of 1.0 under 3.99: the three first charges stay within
	// the limit, so every branch runs and the fourth charge breaks it.
	calls := NewCalls()
	res, err = run(t, e, BudgetFan4, Bill{Cost: [4]float64{1, 1, 1, 1}, Calls: calls}, costLimit(3.99))
	ul := usageAbort(t, err)
	if ul.Limit != "total_cost_limit" || ul.Cost != 4 || ul.Partial != res || res.TotalCost != 4 {
		t.Errorf("four of 1.0 under 3.99: limit %q used %v partial cost %v; want the cost limit with used 4", ul.Limit, ul.Cost, res.TotalCost)
	}
	if want := "flujo: cost limit of 3.99 exceeded (used 4)"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	for _, name := range []string{"pay0", "pay1", "pay2", "pay3"} {
		if calls.Count(name) != 1 {
			t.Errorf("%s ran %d times, want 1", name, calls.Count(name))
		}
	}
	// Branches and the steps after them: 3+3+3 of 9.
	if res, err = run(t, e, ParallelSpend, Job{Cost: 3, Calls: NewCalls()}, costLimit(9)); err != nil || res.TotalCost != 9 {
		t.Errorf("parallel of 3 and 3 then 3 under 9: err %v cost %v; want success at 9", err, res.TotalCost)
	}
	// Map elements share the budget too.
	items := []Bill{{Cost: [4]float64{1}}, {Cost: [4]float64{1}}, {Cost: [4]float64{1}}}
	for i := range items {
		items[i].Calls = NewCalls()
	}
	if res, err = run(t, e, BudgetMap, items, costLimit(3)); err != nil || res.TotalCost != 3 {
		t.Errorf("map of three 1.0 under 3: err %v cost %v; want success at 3", err, res.TotalCost)
	}
	_, err = run(t, e, BudgetMap, items, costLimit(2.5))
	if ul := usageAbort(t, err); ul.Cost != 3 {
		t.Errorf("map of three 1.0 under 2.5: used %v, want 3", ul.Cost)
	}
}

// TestUsageWithinLimitNeverAborts: a run whose total stays within its
// limits never aborts; a total equal to a limit is within it, and so is a
// cost whose float64 sum is above it by rounding alone.
func TestUsageWithinLimitNeverAborts(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	both := flujo.WithUsageLimits(flujo.UsageLimits{TotalCostLimit: 3, TotalTokensLimit: 30})
	if res, err := run(t, e, Spend3, Job{Cost: 1, Tokens: 10, Calls: NewCalls()}, both); err != nil || res.TotalCost != 3 || res.TotalTokens != 30 {
		t.Errorf("3 of 3, 30 of 30 tokens: err %v", err)
	}
	// 0.1+0.1+0.1 is 0.30000000000000004 in float64.
	if _, err := run(t, e, Spend3, Job{Cost: 0.1, Calls: NewCalls()}, costLimit(0.3)); err != nil {
		t.Errorf("three of 0.1 under 0.3: %v", err)
	}
	if _, err := run(t, e, BudgetFan, Bill{Cost: [4]float64{0.7, 0.1}, Calls: NewCalls()}, costLimit(0.8)); err != nil {
		t.Errorf("0.7 and 0.1 under 0.8: %v", err)
	}
	if _, err := run(t, e, BudgetFan4, Bill{Cost: [4]float64{1, 1, 1, 1}, Tokens: [4]int{1, 2, 3, 4}, Calls: NewCalls()},
		flujo.WithUsageLimits(flujo.UsageLimits{TotalCostLimit: 4, TotalTokensLimit: 10})); err != nil {
		t.Errorf("four of 1.0 under 4, 10 tokens of 10: %v", err)
	}
	items := []Bill{{Cost: [4]float64{1}, Calls: NewCalls()}, {Cost: [4]float64{2}, Calls: NewCalls()}}
	if _, err := run(t, e, BudgetMap, items, costLimit(3)); err != nil {
		t.Errorf("map of 1.0 and 2.0 under 3: %v", err)
	}
}

// TestUsageBreachCancelsSiblings: a breach stops the run at once: it
// cancels the Parallel branches and Map elements still running, and the
// error reports the real total and the limit, with the partial result.
func TestUsageBreachCancelsSiblings(t *testing.T, f EngineFactory) {
	// The paying step waits until "hold" runs, so the breach happens while
	// "hold" is in flight; "hold" ends only when cancelled.
	check := func(t *testing.T, res *flujo.PipelineResult, err error, calls *Calls) {
		t.Helper()
		ul := usageAbort(t, err)
		if want := "flujo: cost limit of 0.5 exceeded (used 1)"; err.Error() != want || ul.Cost != 1 || ul.Partial != res {
			t.Errorf("error %q used %v; want %q with the partial result", err, ul.Cost, want)
		}
		if calls.Count("hold") != 1 {
			t.Fatalf("hold ran %d times, want 1", calls.Count("hold"))
		}
		var held *flujo.StepResult
		walk(res.Steps, func(s *flujo.StepResult) {
			if s.Name == "hold" || (s.Name == "item" && s.Cost == 0) {
				held = s
			}
		})
		if held == nil {
			t.Fatal("the holding step has no result")
		}
		if held.Success || !errors.Is(held.Err, context.Canceled) {
			t.Errorf("holding step: success %v err %v; want it cancelled", held.Success, held.Err)
		}
	}
	t.Run("Parallel", func(t *testing.T) {
		e, _ := engine(t, f, defaults())
		calls := NewCalls()
		res, err := run(t, e, BudgetHoldFan, Bill{Cost: [4]float64{1}, Gate: NewGate(), Calls: calls}, costLimit(0.5))
		check(t, res, err, calls)
	})
	t.Run("Map", func(t *testing.T) {
		e, _ := engine(t, f, defaults())
		calls, gate := NewCalls(), NewGate()
		items := []Bill{{Cost: [4]float64{1}, Gate: gate, Calls: calls}, {Hold: true, Gate: gate, Calls: calls}}
		res, err := run(t, e, BudgetMap, items, costLimit(0.5))
		check(t, res, err, calls)
	})
}

func walk(steps []flujo.StepResult, fn func(*flujo.StepResult)) {
	for i := range steps {
		fn(&steps[i])
		walk(steps[i].Steps, fn)
	}
}

// TestUsageChargedForRejectedOutputs: the usage of every output a step
// function returns is charged, one a validator rejects too, on every
// attempt; the limit applies to these charges.
func TestUsageChargedForRejectedOutputs(t *testing.T, f EngineFactory) {
	bill := Bill{Cost: [4]float64{0.5}, Tokens: [4]int{10}}
	t.Run("Only output rejected", func(t *testing.T) {
		e, _ := engine(t, f, defaults())
		b := bill
		b.Calls = NewCalls()
		res, err := run(t, e, BudgetRejected, b)
		s := only(t, res)
		if err == nil || s.Success || s.Cost != 0.5 || s.Tokens != 10 || res.TotalCost != 0.5 || res.TotalTokens != 10 {
			t.Errorf("err %v success %v; step cost %v tokens %d, run %v and %d; want a failure costing 0.5 and 10 tokens",
				err, s.Success, s.Cost, s.Tokens, res.TotalCost, res.TotalTokens)
		}
	})
	t.Run("Every attempt", func(t *testing.T) {
		e, _ := engine(t, f, defaults())
		b := bill
		b.Calls = NewCalls()
		res, _ := run(t, e, BudgetRejectedRetries, b)
		s := only(t, res)
		if s.Attempts != 3 || s.Cost != 1.5 || s.Tokens != 30 || res.TotalCost != 1.5 || res.TotalTokens != 30 {
			t.Errorf("attempts %d cost %v tokens %d, run %v and %d; want 3 attempts costing 1.5 and 30 tokens",
				s.Attempts, s.Cost, s.Tokens, res.TotalCost, res.TotalTokens)
		}
	})
	t.Run("Retries hit the limit", func(t *testing.T) {
		e, _ := engine(t, f, defaults())
		b := bill
		b.Calls = NewCalls()
		res, err := run(t, e, BudgetRejectedRetries, b, costLimit(0.7))
		ul := usageAbort(t, err)
		s := only(t, res)
		if ul.Cost != 1 || b.Calls.Count("pay0") != 2 || s.Attempts != 2 || s.Cost != 1 {
			t.Errorf("used %v calls %d attempts %d cost %v; want the second attempt to break 0.7 and end the run",
				ul.Cost, b.Calls.Count("pay0"), s.Attempts, s.Cost)
		}
		b.Calls = NewCalls()
		_, err = run(t, e, BudgetRejectedRetries, b, tokenLimit(15))
		if ul := usageAbort(t, err); ul.Limit != "total_tokens_limit" || ul.Tokens != 20 || b.Calls.Count("pay0") != 2 {
			t.Errorf("limit %q used %d tokens, %d calls; want the second attempt to break 15 tokens", ul.Limit, ul.Tokens, b.Calls.Count("pay0"))
		}
	})
}

// TestUsageChargedForFallback: a rejected primary and its fallback are both
// charged (Flujo: a rejected primary of 1 token and a fallback of 0.2 and 5
// tokens cost 0.2 and 6 tokens), and the limit applies to the sum.
func TestUsageChargedForFallback(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	bill := func() Bill { return Bill{Cost: [4]float64{0, 0.2}, Tokens: [4]int{1, 5}, Calls: NewCalls()} }
	res, err := run(t, e, BudgetFallback, bill())
	s := only(t, res)
	if err != nil || !s.Success || !s.FallbackTriggered || s.Cost != 0.2 || s.Tokens != 6 || res.TotalCost != 0.2 || res.TotalTokens != 6 {
		t.Errorf("err %v triggered %v; step cost %v tokens %d, run %v and %d; want the fallback's success costing 0.2 and 6 tokens",
			err, s.FallbackTriggered, s.Cost, s.Tokens, res.TotalCost, res.TotalTokens)
	}
	if _, err := run(t, e, BudgetFallback, bill(), tokenLimit(6)); err != nil {
		t.Errorf("6 tokens of 6: %v", err)
	}
	b := bill()
	_, err = run(t, e, BudgetFallback, b, tokenLimit(5))
	if ul := usageAbort(t, err); ul.Limit != "total_tokens_limit" || ul.Tokens != 6 || b.Calls.Count("pay1") != 1 {
		t.Errorf("limit %q used %d, fallback calls %d; want the fallback's charge to break 5 tokens", ul.Limit, ul.Tokens, b.Calls.Count("pay1"))
	}
}

// TestUsageLimitsValidated: negative, NaN or infinite limits are refused
// before any step runs, with an error naming the field and its value; zero
// means no limit.
func TestUsageLimitsValidated(t *testing.T, f EngineFactory) {
	e, _ := engine(t, f, defaults())
	for _, tc := range []struct {
		limits flujo.UsageLimits
		want   string
	}{
		{flujo.UsageLimits{TotalCostLimit: -0.01}, "TotalCostLimit is -0.01"},
		{flujo.UsageLimits{TotalCostLimit: math.NaN()}, "TotalCostLimit is NaN"},
		{flujo.UsageLimits{TotalCostLimit: math.Inf(1)}, "TotalCostLimit is +Inf"},
		{flujo.UsageLimits{TotalCostLimit: math.Inf(-1)}, "TotalCostLimit is -Inf"},
		{flujo.UsageLimits{TotalTokensLimit: -1}, "TotalTokensLimit is -1"},
		{flujo.UsageLimits{TotalCostLimit: 1, TotalTokensLimit: -5}, "TotalTokensLimit is -5"},
	} {
		// One declaration whose outputs report usage, one whose do not.
		for _, n := range []flujo.Node{Spend3, CountTo3} {
			calls := NewCalls()
			var in any = Job{Cost: 1, Calls: calls}
			if n == CountTo3 {
				in = 0
			}
			res, err := e.Execute(context.Background(), n, in, flujo.WithUsageLimits(tc.limits))
			if !errors.Is(err, flujo.ErrInvalidUsageLimits) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s with %+v: err %v; want ErrInvalidUsageLimits saying %q", n.Name(), tc.limits, err, tc.want)
			}
			if res != nil || calls.Count("echo") != 0 {
				t.Errorf("%s with %+v: result %v, %d calls; want none before the limits are valid", n.Name(), tc.limits, res, calls.Count("echo"))
			}
		}
	}
	if _, err := run(t, e, Spend3, Job{Cost: 1e9, Tokens: 1e9, Calls: NewCalls()}, flujo.WithUsageLimits(flujo.UsageLimits{})); err != nil {
		t.Errorf("zero limits: %v, want no limit", err)
	}
}
