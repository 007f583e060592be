package runtime

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultSharedTimeout bounds each call an executor makes to a Shared
// whose CommandTimeout is zero.
const DefaultSharedTimeout = 50 * time.Millisecond

// LocalBudgets keeps usage budgets in the process: the SharedBudgets that
// executors fall back on when the shared store does not answer, and use
// when they have no shared store. It enforces the same rule as a store:
// a hold is reserved only when what the window spent and holds, plus the
// hold, stays within every limit. It is safe for concurrent use.
type LocalBudgets struct {
	mu sync.Mutex
	m  map[localBudgetKey]*localBudget
	// now reads the time the windows are computed from; nil means
	// time.Now.
	now func() time.Time
}

// localBudgetKey identifies one window of one budget: a budget of the same
// name with other limits or another window is another budget.
type localBudgetKey struct {
	name       string
	window     time.Duration
	costLimit  float64
	tokenLimit int
	start      int64
}

type localBudget struct {
	spent, held Usage
	end         time.Time // zero: never
}

// NewLocalBudgets returns an empty LocalBudgets.
func NewLocalBudgets() *LocalBudgets {
	return &LocalBudgets{m: map[localBudgetKey]*localBudget{}}
}

// Reserve implements SharedBudgets: it never fails with an error.
func (l *LocalBudgets) Reserve(_ context.Context, b SharedBudget, hold Usage) (Reservation, bool, error) {
	if err := b.Validate(); err != nil {
		return nil, false, err
	}
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	start := b.WindowStart(now)
	k := localBudgetKey{b.Name, b.Window, b.CostLimit, b.TokenLimit, start.UnixNano()}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.m[k]
	if st == nil {
		l.pruneLocked(now)
		st = &localBudget{}
		if b.Window > 0 {
			st.end = start.Add(b.Window)
		}
		l.m[k] = st
	}
	if !BudgetAdmits(b, st.spent, st.held, hold) {
		return nil, false, nil
	}
	st.held = addUsage(st.held, hold)
	return &localReservation{l: l, st: st, hold: hold}, true, nil
}

// pruneLocked forgets the windows that ended before now.
func (l *LocalBudgets) pruneLocked(now time.Time) {
	for k, st := range l.m {
		if !st.end.IsZero() && st.end.Before(now) && st.held == (Usage{}) {
			delete(l.m, k)
		}
	}
}

// BudgetAdmits reports whether a window of b that spent spent and holds
// held admits hold more: every limit of b (0: none) must stay at or above
// spent+held+hold. Stores apply the same rule.
func BudgetAdmits(b SharedBudget, spent, held, hold Usage) bool {
	if b.CostLimit > 0 && spent.Cost+held.Cost+hold.Cost > b.CostLimit+b.CostLimit*costSlack {
		return false
	}
	if b.TokenLimit > 0 && spent.Tokens()+held.Tokens()+hold.Tokens() > b.TokenLimit {
		return false
	}
	return true
}

func addUsage(a, b Usage) Usage {
	return Usage{Cost: a.Cost + b.Cost, PromptTokens: a.PromptTokens + b.PromptTokens, CompletionTokens: a.CompletionTokens + b.CompletionTokens}
}

func subUsage(a, b Usage) Usage {
	return Usage{Cost: a.Cost - b.Cost, PromptTokens: a.PromptTokens - b.PromptTokens, CompletionTokens: a.CompletionTokens - b.CompletionTokens}
}

type localReservation struct {
	l    *LocalBudgets
	st   *localBudget
	hold Usage
	done bool
}

// Commit implements Reservation; a second Commit does nothing.
func (r *localReservation) Commit(_ context.Context, spent Usage) error {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	if r.done {
		return nil
	}
	r.done = true
	r.st.held = subUsage(r.st.held, r.hold)
	r.st.spent = addUsage(r.st.spent, spent)
	return nil
}

// BudgetRefusedError is the error of a run that a shared budget refused:
// the budget's window has too little left for the run's hold. No step
// ran. It unwraps to a *UsageLimitExceededError, so code that handles a
// run's own limits handles it too.
type BudgetRefusedError struct {
	// Budget is the budget that refused the run.
	Budget SharedBudget
	// Hold is what the run asked to reserve.
	Hold Usage
	// Local reports that a process-local budget refused it, the shared
	// store not answering.
	Local bool
	// Limit is the *UsageLimitExceededError the refusal unwraps to.
	Limit *UsageLimitExceededError
}

// Error names the budget, the hold and the limits, and what to do.
func (e *BudgetRefusedError) Error() string {
	where := "shared budget"
	if e.Local {
		where = "budget (kept locally: the shared store did not answer)"
	}
	return fmt.Sprintf("flujo: %s %q refused the run: holding cost %s and %d tokens would pass its limits (cost %s, %d tokens; 0 is no limit) in the window of %v; wait for the next window, raise the limits or lower the hold",
		where, e.Budget.Name, formatCost(e.Hold.Cost), e.Hold.Tokens(), formatCost(e.Budget.CostLimit), e.Budget.TokenLimit, e.Budget.Window)
}

// Unwrap returns the *UsageLimitExceededError of the refusal.
func (e *BudgetRefusedError) Unwrap() error { return e.Limit }

// NewBudgetRefusedError returns the error of a run that b refused for
// hold; local reports a refusal of the process-local budget.
func NewBudgetRefusedError(b SharedBudget, hold Usage, local bool) *BudgetRefusedError {
	lim := &UsageLimitExceededError{Limit: "total_cost_limit", Limits: UsageLimits{TotalCostLimit: b.CostLimit, TotalTokensLimit: b.TokenLimit}, Cost: hold.Cost, Tokens: hold.Tokens()}
	if b.CostLimit == 0 || (b.TokenLimit > 0 && hold.Tokens() > 0 && hold.Cost == 0) {
		lim.Limit = "total_tokens_limit"
	}
	return &BudgetRefusedError{Budget: b, Hold: hold, Local: local, Limit: lim}
}
