package runtime

import (
	"errors"
	"math"
	"sync"
	"testing"
)

func TestRunBudget(t *testing.T) {
	for _, l := range []*UsageLimits{nil, {}} {
		if b, err := RunBudget(l); b != nil || err != nil {
			t.Errorf("RunBudget(%v) = %v, %v; want no budget, no error", l, b, err)
		}
	}
	if _, err := RunBudget(&UsageLimits{TotalCostLimit: math.NaN()}); !errors.Is(err, ErrInvalidUsageLimits) {
		t.Errorf("NaN limit: %v", err)
	}
	b, err := RunBudget(&UsageLimits{TotalCostLimit: 1, TotalTokensLimit: 10})
	if err != nil || b == nil {
		t.Fatalf("RunBudget: %v, %v", b, err)
	}
	if err := ChargeUsage(b, Usage{Cost: 1, PromptTokens: 4, CompletionTokens: 6}); err != nil {
		t.Errorf("1 of 1, 10 of 10 tokens: %v", err)
	}
	err = ChargeUsage(b, Usage{PromptTokens: 1})
	var ul *UsageLimitExceededError
	if !errors.As(err, &ul) || ul.Limit != "total_tokens_limit" || ul.Tokens != 11 || ul.Limits != (UsageLimits{1, 10}) {
		t.Errorf("11 tokens of 10: %#v", err)
	}
	if err := ChargeUsage(nil, Usage{Cost: 1e300}); err != nil {
		t.Errorf("no budget: %v", err)
	}
}

// TestChargeUsageConcurrent: charges from concurrent branches all count,
// and the first charge above the limit reports a breach.
func TestChargeUsageConcurrent(t *testing.T) {
	b, _ := RunBudget(&UsageLimits{TotalTokensLimit: 100})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var breaches int
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if ChargeUsage(b, Usage{PromptTokens: 1}) != nil {
					mu.Lock()
					breaches++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if c, tk := budgetTotals(b); c != 0 || tk != 200 || breaches != 100 {
		t.Errorf("totals %v, %d, %d breaches; want 200 tokens, 100 breaches", c, tk, breaches)
	}
}

func TestChargeUsageAllocatesNothingWithinLimits(t *testing.T) {
	b, _ := RunBudget(&UsageLimits{TotalCostLimit: 1e12})
	if n := testing.AllocsPerRun(100, func() { _ = ChargeUsage(b, Usage{Cost: 0.01, PromptTokens: 3}) }); n != 0 {
		t.Errorf("ChargeUsage allocates %v times", n)
	}
}
