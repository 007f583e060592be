package runtime

import (
	"errors"
	"fmt"
	"math"
)

// A run's usage limits are one budget, a *Budget, shared by every
// step of the run. The functions below are the rules both engines apply:
// generated executors call RunBudget and ChargeUsage as the ExecutorCore
// does.

// ErrInvalidUsageLimits is wrapped by the error of a run whose UsageLimits
// are negative, NaN or infinite; such a run starts no step.
var ErrInvalidUsageLimits = errors.New("invalid usage limits")

// Validate reports a limit that is not a finite number >= 0: negative, NaN
// or infinite. The error wraps ErrInvalidUsageLimits and names the field
// and its value.
func (l UsageLimits) Validate() error {
	c := l.TotalCostLimit
	if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
		return fmt.Errorf("flujo: %w: TotalCostLimit is %v; want a finite number >= 0 (0 means no limit)", ErrInvalidUsageLimits, c)
	}
	if l.TotalTokensLimit < 0 {
		return fmt.Errorf("flujo: %w: TotalTokensLimit is %d; want a number >= 0 (0 means no limit)", ErrInvalidUsageLimits, l.TotalTokensLimit)
	}
	return nil
}

// RunBudget validates a run's limits (WithUsageLimits; nil when not given)
// and returns the budget the run charges: nil when nothing is limited.
func RunBudget(l *UsageLimits) (*Budget, error) {
	if l == nil {
		return nil, nil
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if l.TotalCostLimit == 0 && l.TotalTokensLimit == 0 {
		return nil, nil
	}
	return NewBudget(l.TotalCostLimit, int64(l.TotalTokensLimit)), nil
}

// ChargeUsage charges u, the usage of an output a step function returned,
// to the run's budget b (nil without limits). It returns a
// *UsageLimitExceededError when the run's total, this charge included, is
// above a limit: the run must then abort.
func ChargeUsage(b *Budget, u Usage) error {
	if b == nil {
		return nil // inlined: a run without limits pays one comparison
	}
	return charge(b, u)
}

func charge(b *Budget, u Usage) error {
	breach := b.Charge(u.Cost, int64(u.Tokens()))
	if breach == BudgetWithin {
		return nil
	}
	cl, tl := b.Limits()
	cost, tokens := b.Totals()
	e := &UsageLimitExceededError{Limit: "total_cost_limit", Limits: UsageLimits{TotalCostLimit: cl, TotalTokensLimit: int(tl)}, Cost: cost, Tokens: int(tokens)}
	if breach == BudgetTokensExceeded {
		e.Limit = "total_tokens_limit"
	}
	return e
}

// budgetTotals returns b's totals; zero for a nil budget.
func budgetTotals(b *Budget) (float64, int) {
	if b == nil {
		return 0, 0
	}
	c, t := b.Totals()
	return c, int(t)
}

// CompleteUsageLimitError completes the error of a run that abort ended:
// when it is a *UsageLimitExceededError, it gets the run's partial result
// and the run's real totals, read from b once every branch has returned.
// Other errors are left as they are.
func CompleteUsageLimitError(abort error, partial *PipelineResult, b *Budget) {
	var ule *UsageLimitExceededError
	if errors.As(abort, &ule) {
		ule.Partial = partial
		ule.Cost, ule.Tokens = budgetTotals(b)
	}
}
