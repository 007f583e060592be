package flujotest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/flujo/flujo"
)

// Bill is the input of the budget rules' steps: it says what each of them
// charges, so the steps themselves hold no state.
type Bill struct {
	// Cost and Tokens are the usage reported by the output of PayA (index
	// 0), PayB (1), PayC (2) and PayD (3); Item reports index 0.
	Cost   [4]float64
	Tokens [4]int
	// Calls counts the calls of every step, by step function.
	Calls *Calls
	// Gate, when set, holds paying steps until a Hold step is running.
	Gate *Gate
	// Hold makes Item hold as Hold does.
	Hold bool
}

// Charge is the output of the budget rules' steps: the usage it reports.
type Charge struct {
	Cost   float64
	Tokens int
}

// Usage reports the charge.
func (c Charge) Usage() flujo.Usage { return flujo.Usage{Cost: c.Cost, PromptTokens: c.Tokens} }

// Gate lets a paying step wait until a sibling holding on is running, so
// that a breach happens while that sibling is in flight.
type Gate struct {
	held chan struct{}
	once sync.Once
}

// NewGate returns a closed gate: paying steps wait at it until a Hold step
// runs.
func NewGate() *Gate { return &Gate{held: make(chan struct{})} }

// stuck bounds the waits of Hold and of a gated paying step, so that an
// engine that never cancels fails the rule with a message instead of
// hanging the test binary. It is not a timing assertion: a correct engine
// ends both waits by cancellation, or by the gate, long before.
const stuck = time.Minute

// errNeverCancelled is Hold's error when nothing cancelled it.
var errNeverCancelled = errors.New("hold: never cancelled")

func pay(ctx context.Context, b Bill, i int) (Charge, error) {
	b.Calls.inc("pay" + itoa(i))
	if b.Gate != nil {
		select {
		case <-b.Gate.held:
		case <-ctx.Done():
			return Charge{}, ctx.Err()
		case <-time.After(stuck):
			return Charge{}, errors.New("pay: no Hold step ever ran beside it")
		}
	}
	return Charge{Cost: b.Cost[i], Tokens: b.Tokens[i]}, nil
}

// PayA reports the usage at index 0.
func PayA(ctx context.Context, b Bill) (Charge, error) { return pay(ctx, b, 0) }

// PayB reports the usage at index 1.
func PayB(ctx context.Context, b Bill) (Charge, error) { return pay(ctx, b, 1) }

// PayC reports the usage at index 2.
func PayC(ctx context.Context, b Bill) (Charge, error) { return pay(ctx, b, 2) }

// PayD reports the usage at index 3.
func PayD(ctx context.Context, b Bill) (Charge, error) { return pay(ctx, b, 3) }

// Hold opens the gate, then waits until its context is cancelled.
func Hold(ctx context.Context, b Bill) (Charge, error) {
	b.Calls.inc("hold")
	if b.Gate != nil {
		b.Gate.once.Do(func() { close(b.Gate.held) })
	}
	select {
	case <-ctx.Done():
		return Charge{}, ctx.Err()
	case <-time.After(stuck):
		return Charge{}, errNeverCancelled
	}
}

// Item is a Map element's step: Hold when b.Hold, else PayA.
func Item(ctx context.Context, b Bill) (Charge, error) {
	if b.Hold {
		return Hold(ctx, b)
	}
	return PayA(ctx, b)
}

// RejectAll is a validator that rejects every output.
func RejectAll(Charge) error { return errors.New("never good enough") }

// SumTwo joins two charges.
func SumTwo(a, b Charge) Charge { return Charge{a.Cost + b.Cost, a.Tokens + b.Tokens} }

// SumFour joins four charges.
func SumFour(a, b, c, d Charge) Charge { return SumTwo(SumTwo(a, b), SumTwo(c, d)) }

// The declarations of the budget rules.
var (
	// BudgetFan runs a paying branch beside another.
	BudgetFan = flujo.Parallel("fan", SumTwo, flujo.Step("paid", PayA, flujo.Retries(0)), flujo.Step("free", PayB, flujo.Retries(0)))
	// BudgetFan4 runs four paying branches.
	BudgetFan4 = flujo.Parallel("fan", SumFour, flujo.Step("b1", PayA, flujo.Retries(0)), flujo.Step("b2", PayB, flujo.Retries(0)),
		flujo.Step("b3", PayC, flujo.Retries(0)), flujo.Step("b4", PayD, flujo.Retries(0)))
	// BudgetMap runs Item on every element, up to four at a time.
	BudgetMap = flujo.Map[Bill, Charge]("each", flujo.Step("item", Item, flujo.Retries(0)), flujo.Concurrency(4))
	// BudgetHoldFan runs a paying branch beside one that holds on until
	// cancelled.
	BudgetHoldFan = flujo.Parallel("fan", SumTwo, flujo.Step("paid", PayA, flujo.Retries(0)), flujo.Step("hold", Hold, flujo.Retries(0)))
	// BudgetRejected is a step whose every output is rejected.
	BudgetRejected = flujo.Step("rejected", PayA, flujo.Retries(0), flujo.Validate(RejectAll))
	// BudgetRejectedRetries is BudgetRejected with three attempts.
	BudgetRejectedRetries = flujo.Step("rejected", PayA, flujo.Retries(2), flujo.Validate(RejectAll))
	// BudgetFallback is a rejected primary with a fallback that succeeds.
	BudgetFallback = flujo.Step("primary", PayA, flujo.Retries(0), flujo.Validate(RejectAll), flujo.Fallback(flujo.Step("rescue", PayB, flujo.Retries(0))))
)
