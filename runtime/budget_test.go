package runtime

import (
	"math"
	"sync"
	"testing"
)

func TestBudgetLimitIsInclusive(t *testing.T) {
	b := NewBudget(3, 30)
	for i := range 3 {
		if got := b.Charge(1, 10); got != BudgetWithin {
			t.Fatalf("charge %d: %v, want within (total %d of 3)", i+1, got, i+1)
		}
	}
	if got := b.Charge(0.5, 0); got != BudgetCostExceeded {
		t.Errorf("3.5 of 3: %v, want cost exceeded", got)
	}
	if c, tk := b.Totals(); c != 3.5 || tk != 30 {
		t.Errorf("totals %v, %d; want 3.5, 30", c, tk)
	}
}

func TestBudgetTokens(t *testing.T) {
	b := NewBudget(0, 25)
	b.Charge(0, 20)
	if got := b.Charge(0, 5); got != BudgetWithin {
		t.Errorf("25 of 25: %v", got)
	}
	if got := b.Charge(0, 1); got != BudgetTokensExceeded {
		t.Errorf("26 of 25: %v", got)
	}
}

func TestBudgetCostBreachReportedFirst(t *testing.T) {
	b := NewBudget(1, 1)
	if got := b.Charge(2, 2); got != BudgetCostExceeded {
		t.Errorf("both exceeded: %v, want the cost named", got)
	}
}

func TestBudgetZeroMeansNoLimit(t *testing.T) {
	b := NewBudget(0, 0)
	if got := b.Charge(1e300, math.MaxInt64/2); got != BudgetWithin {
		t.Errorf("no limits: %v", got)
	}
}

// Float sums carry representation noise: 0.1+0.1+0.1 is
// 0.30000000000000004, within a limit of 0.3; a real excess is not.
func TestBudgetCostRoundingNoise(t *testing.T) {
	b := NewBudget(0.3, 0)
	for range 3 {
		if got := b.Charge(0.1, 0); got != BudgetWithin {
			t.Fatalf("%v, want within", got)
		}
	}
	if got := b.Charge(1e-6, 0); got != BudgetCostExceeded {
		t.Errorf("0.300001 of 0.3: %v, want exceeded", got)
	}
}

func TestBudgetNaNCostExceeds(t *testing.T) {
	b := NewBudget(1, 0)
	if got := b.Charge(math.NaN(), 0); got != BudgetCostExceeded {
		t.Errorf("NaN cost: %v, want exceeded", got)
	}
}

func TestNewBudgetRefusesBadLimits(t *testing.T) {
	for _, tc := range []struct {
		cost   float64
		tokens int64
	}{{-1, 0}, {math.NaN(), 0}, {math.Inf(1), 0}, {math.Inf(-1), 0}, {0, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewBudget(%v, %d) did not panic", tc.cost, tc.tokens)
				}
			}()
			NewBudget(tc.cost, tc.tokens)
		}()
	}
}

// TestBudgetConcurrentCharges: charges from many goroutines all count, and
// exactly the charges made once a total is above its limit report it. Each
// limit is tested alone: the cost and token totals are two atomics, so a
// charge may be above one limit in its own order and within the other.
func TestBudgetConcurrentCharges(t *testing.T) {
	const goroutines, each = 8, 1000
	for _, tc := range []struct {
		name         string
		cost, tokens int64
	}{{"cost", goroutines * each / 2, 0}, {"tokens", 0, goroutines * each / 2}} {
		b := NewBudget(float64(tc.cost), tc.tokens)
		var mu sync.Mutex
		breaches := 0
		var wg sync.WaitGroup
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := 0
				for range each {
					if b.Charge(1, 1) != BudgetWithin {
						n++
					}
				}
				mu.Lock()
				breaches += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		c, tk := b.Totals()
		if c != goroutines*each || tk != goroutines*each {
			t.Errorf("%s: totals %v, %d; want %d each", tc.name, c, tk, goroutines*each)
		}
		// Integer costs add exactly: charges number total+1 .. 8000 breach.
		if breaches != goroutines*each/2 {
			t.Errorf("%s: %d charges reported a breach, want %d", tc.name, breaches, goroutines*each/2)
		}
	}
}

func TestBudgetChargeAllocatesNothing(t *testing.T) {
	b := NewBudget(1e18, 1<<62)
	if n := testing.AllocsPerRun(100, func() { b.Charge(0.5, 3) }); n != 0 {
		t.Errorf("Charge allocates %v times", n)
	}
}

func BenchmarkBudgetChargeParallel(b *testing.B) {
	bu := NewBudget(1e18, 1<<62)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bu.Charge(0.001, 1)
		}
	})
}
