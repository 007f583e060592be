package runtime

import (
	"fmt"
	"math"
	"sync/atomic"
)

// Budget is the usage budget of one run: a cost and a token total that
// every step of the run charges, Parallel branches and Map workers
// included, against the run's limits. It is safe for concurrent use and
// lock-free: tokens are an atomic counter, the cost a float64 updated by
// compare-and-swap.
//
// A charge is made when a step function has returned its output, since
// only the output says what producing it cost. Nothing is reserved
// beforehand, so branches running concurrently may together go above a
// limit by at most the usage they have in flight: every charge that takes
// the total above a limit reports the breach, and the total keeps every
// charge, so the error built from it reports the real total.
type Budget struct {
	costLimit  float64
	tokenLimit int64
	cost       atomic.Uint64 // math.Float64bits of the total cost
	tokens     atomic.Int64
	// settle hears the totals when the run ends (SetSettle); settled
	// makes it hear them once.
	settle  func(spent Usage)
	settled atomic.Bool
}

// SetSettle makes Settle report the run's totals to f: a shared budget's
// reservation, which the run's spending replaces when it ends. Set it
// before the run starts.
func (b *Budget) SetSettle(f func(spent Usage)) { b.settle = f }

// Settle reports the totals to the function SetSettle set, once; the
// executor calls it when the run ends. The tokens come as one total, in
// PromptTokens.
func (b *Budget) Settle() {
	if b == nil || b.settle == nil {
		return // inlined: a run without a shared budget pays two comparisons
	}
	b.settleOnce()
}

func (b *Budget) settleOnce() {
	if b.settled.Swap(true) {
		return
	}
	cost, tokens := b.Totals()
	b.settle(Usage{Cost: cost, PromptTokens: int(tokens)})
}

// BudgetBreach says which limit a charge took the total above.
type BudgetBreach uint8

const (
	// BudgetWithin: the totals are within every limit.
	BudgetWithin BudgetBreach = iota
	// BudgetCostExceeded: the total cost is above the cost limit.
	BudgetCostExceeded
	// BudgetTokensExceeded: the total tokens are above the token limit (and
	// the cost, if limited, within its limit).
	BudgetTokensExceeded
)

// costSlack is the relative amount by which a total cost may exceed its
// limit and still count as within it. Costs are sums of float64s: three
// charges of 0.1 add up to 0.30000000000000004, which must not break a
// limit of 0.3. The slack covers the rounding of millions of additions, and
// a real breach shows in the ten significant digits errors print.
const costSlack = 1e-9

// NewBudget returns a budget with the given limits; 0 means no limit. The
// limits must be finite and not negative (flujo.UsageLimits.Validate
// checks them); NewBudget panics otherwise.
func NewBudget(costLimit float64, tokenLimit int64) *Budget {
	if math.IsNaN(costLimit) || math.IsInf(costLimit, 0) || costLimit < 0 || tokenLimit < 0 {
		panic(fmt.Sprintf("runtime: NewBudget(%v, %d): limits must be finite and >= 0", costLimit, tokenLimit))
	}
	return &Budget{costLimit: costLimit, tokenLimit: tokenLimit}
}

// Charge adds cost and tokens to the totals and reports whether the totals,
// this charge included, are above a limit: a total equal to its limit is
// within it. A NaN cost total counts as above any cost limit.
func (b *Budget) Charge(cost float64, tokens int64) BudgetBreach {
	var total float64
	if cost != 0 {
		for {
			old := b.cost.Load()
			total = math.Float64frombits(old) + cost
			if b.cost.CompareAndSwap(old, math.Float64bits(total)) {
				break
			}
		}
	} else {
		total = math.Float64frombits(b.cost.Load())
	}
	t := b.tokens.Add(tokens)
	if b.costLimit > 0 && !(total <= b.costLimit+b.costLimit*costSlack) {
		return BudgetCostExceeded
	}
	if b.tokenLimit > 0 && t > b.tokenLimit {
		return BudgetTokensExceeded
	}
	return BudgetWithin
}

// Totals returns the cost and the tokens charged so far.
func (b *Budget) Totals() (cost float64, tokens int64) {
	return math.Float64frombits(b.cost.Load()), b.tokens.Load()
}

// Limits returns the budget's limits; 0 means no limit.
func (b *Budget) Limits() (cost float64, tokens int64) {
	return b.costLimit, b.tokenLimit
}
