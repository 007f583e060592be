package flujo

import "sync"

// budget tracks a run's usage against its limits. A Parallel splits what
// remains of its budget among its branches and, when they are done, charges
// what they used, so unused shares return to the run.
type budget struct {
	mu sync.Mutex
	// user are the run's limits, reported in errors.
	user               UsageLimits
	hasCost, hasTokens bool
	costLimit          float64
	tokenLimit         int
	cost               float64
	tokens             int
}

func newBudget(l UsageLimits) *budget {
	return &budget{
		user:    l,
		hasCost: l.TotalCostLimit > 0, costLimit: l.TotalCostLimit,
		hasTokens: l.TotalTokensLimit > 0, tokenLimit: l.TotalTokensLimit,
	}
}

// add charges usage and reports a limit that the total went above.
func (b *budget) add(cost float64, tokens int) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cost += cost
	b.tokens += tokens
	switch {
	case b.hasCost && b.cost > b.costLimit:
		return &UsageLimitExceededError{Limit: "total_cost_limit", Limits: b.user}
	case b.hasTokens && b.tokens > b.tokenLimit:
		return &UsageLimitExceededError{Limit: "total_tokens_limit", Limits: b.user}
	}
	return nil
}

func (b *budget) totals() (float64, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cost, b.tokens
}

// split returns n budgets sharing what remains of b equally; nil parts for
// a run without limits.
func (b *budget) split(n int) []*budget {
	parts := make([]*budget, n)
	if b == nil {
		return parts
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range parts {
		p := &budget{user: b.user, hasCost: b.hasCost, hasTokens: b.hasTokens}
		if b.hasCost {
			p.costLimit = (b.costLimit - b.cost) / float64(n)
		}
		if b.hasTokens {
			rest := b.tokenLimit - b.tokens
			p.tokenLimit = rest / n
			if i < rest%n {
				p.tokenLimit++
			}
		}
		parts[i] = p
	}
	return parts
}

// absorb charges b with what the parts used, without a limit check: the
// parts checked their shares already.
func (b *budget) absorb(parts []*budget) {
	if b == nil {
		return
	}
	var cost float64
	var tokens int
	for _, p := range parts {
		c, t := p.totals()
		cost += c
		tokens += t
	}
	b.mu.Lock()
	b.cost += cost
	b.tokens += tokens
	b.mu.Unlock()
}
