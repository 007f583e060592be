package flujo

import (
	"fmt"

	"github.com/flujo/flujo/internal/options"
	"github.com/flujo/flujo/runtime"
)

// Shared holds the services that the replicas of a service share: a
// second-level result cache, circuit-breaker transitions and usage budgets
// (see runtime.Shared). contrib/redis builds one on Redis or Valkey.
type Shared = runtime.Shared

// SharedBudget names a usage budget that every replica charges.
type SharedBudget = runtime.SharedBudget

// BudgetRefusedError is the error of a run that a shared budget refused;
// it unwraps to a *UsageLimitExceededError.
type BudgetRefusedError = runtime.BudgetRefusedError

// WithShared makes the executor, an ExecutorCore or a generated one, share
// with the other replicas of its service what s holds: cached step results
// (a second level behind the executor's own cache), breaker transitions
// and usage budgets (WithSharedBudget). A nil part of s is not shared; with
// none (a store whose configuration turns every part off), the executor
// shares nothing, as without the option. When
// the store does not answer within s's CommandTimeout, the executor goes on
// with its local state and counts the call in Stats.Distributed; no run
// fails because of it. The executor does not close s.
func WithShared(s runtime.Shared) CoreOption {
	return func(o *options.Core) {
		if s.CommandTimeout < 0 {
			o.Errs = append(o.Errs, fmt.Errorf("flujo: WithShared: CommandTimeout is %v; want 0 (the default, %v) or more", s.CommandTimeout, runtime.DefaultSharedTimeout))
			return
		}
		if s.Cache == nil && s.Breakers == nil && s.Budgets == nil {
			o.Shared = nil // nothing to share
			return
		}
		o.Shared = &s
	}
}

// WithSharedBudget charges the run to b: before any step runs, the run
// reserves b.Hold (or, when Hold is zero, its WithUsageLimits) in b's
// current window, across every replica that shares the executor's budget
// store (WithShared), or in this process without one. A refused
// reservation fails the run before any step with a *BudgetRefusedError
// (which unwraps to a *UsageLimitExceededError). The hold also bounds the
// run as WithUsageLimits does (the lower limit wins), and when the run ends
// what it spent replaces the hold. b must be valid (SharedBudget.Validate)
// and its hold must give an amount of each quantity b limits.
func WithSharedBudget(b runtime.SharedBudget) ExecOption {
	return func(o *options.Exec) {
		if err := b.Validate(); err != nil {
			o.Errs = append(o.Errs, fmt.Errorf("flujo: WithSharedBudget: %w", err))
			return
		}
		o.Budget = &b
	}
}
