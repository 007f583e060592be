package runtime

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Shared holds what the replicas of a service share through an external
// store: a second-level result cache, circuit-breaker transitions and
// cluster-wide usage budgets. contrib/redis builds one on Redis or Valkey;
// executors take it with flujo.WithShared. A nil part is not shared: the
// executor keeps that state to itself, as without a Shared.
//
// Every call of Cache and Budgets gets a context bounded by CommandTimeout,
// and an error from any of them means "the store did not answer":
// the executor goes on with its local state (the L1 cache only, its local
// breakers, a local budget), counts the call as degraded in its stats, and
// tries the store again on the next call. No run fails because the store is
// down.
type Shared struct {
	// Cache is the second-level result cache; nil when results are not
	// shared.
	Cache SharedCache
	// Breakers carries breaker transitions between replicas; nil when
	// breakers are local.
	Breakers SharedBreakers
	// Budgets keeps the usage budgets that WithSharedBudget names; nil
	// when budgets are local to the process.
	Budgets SharedBudgets
	// Stats returns the figures of the store's clients (its name, health
	// and last error); nil when it has none. The executor adds its own
	// counts (see StatsShared).
	Stats func() StatsShared
	// CommandTimeout bounds every call the executor makes to Cache and
	// Budgets (through the context it passes); 0 means
	// DefaultSharedTimeout. A store built from a DistributedConfig sets
	// its command_timeout_ms. Implementations must return when the
	// context is done.
	CommandTimeout time.Duration
}

// Timeout returns CommandTimeout, or DefaultSharedTimeout when it is 0.
func (s *Shared) Timeout() time.Duration {
	if s.CommandTimeout > 0 {
		return s.CommandTimeout
	}
	return DefaultSharedTimeout
}

// SharedCache is a second-level cache of encoded step results, shared by
// replicas. Keys are built by the executor and include the pipeline, the
// step and a fingerprint of its input and output types; a store writes
// them behind its own key prefix, so that services and environments
// sharing one server keep apart. Values are the runtime's encoding of an
// input and its output.
type SharedCache interface {
	// Get returns the value stored under key and how long it has left to
	// live, 0 when it does not expire; ok is false when there is none. err
	// reports that the store did not answer. The executor keeps the local
	// copy of a hit no longer than ttl.
	Get(ctx context.Context, key string) (val []byte, ttl time.Duration, ok bool, err error)
	// Set stores val under key for ttl.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
}

// BreakerTransition is a change of state of one replica's circuit breaker,
// as SharedBreakers carries it to the others.
type BreakerTransition struct {
	// Key names the breaker across replicas: its pipeline and step.
	Key string
	// State is the state the breaker entered.
	State BreakerState
	// Until is, for BreakerOpen, when the open period ends; a replica that
	// hears of it later keeps its breaker open until then only.
	Until time.Time
}

// SharedBreakers carries breaker transitions between replicas. A breaker
// that opens on one replica opens on every replica; the closed path of a
// breaker never calls it.
type SharedBreakers interface {
	// Publish announces a local transition. It must not block: an
	// implementation queues the transition and sends it in the
	// background.
	Publish(t BreakerTransition)
	// Subscribe calls apply for each transition published by another
	// replica (and for open breakers found when state is read back) until
	// stop is called. apply must be cheap and must not block.
	Subscribe(apply func(BreakerTransition)) (stop func())
}

// SharedBudget names a usage budget that every replica charges: for
// example "tenant-42" with a daily window. The window begins at the Unix
// epoch and repeats, so all replicas agree on which window a run falls in.
type SharedBudget struct {
	// Name identifies the budget across replicas.
	Name string
	// Window is the period after which the budget starts again, at least
	// a second; 0 means it never does.
	Window time.Duration
	// CostLimit and TokenLimit bound what runs may spend in one window; 0
	// means no bound on that quantity.
	CostLimit  float64
	TokenLimit int
	// Hold is what one run reserves when it starts. A run never spends more
	// than its hold: the hold bounds it as WithUsageLimits does. The zero
	// Hold means the run's own usage limits, which must then be given.
	Hold Usage
}

// Validate reports what is wrong with b, naming the field.
func (b SharedBudget) Validate() error {
	var errs []error
	if b.Name == "" {
		errs = append(errs, errors.New("shared budget: Name is empty; name the budget, for example \"tenant-42\""))
	}
	if b.Window < 0 || (b.Window > 0 && b.Window < time.Second) {
		// Stores name a window by the Unix second it starts at: two
		// windows must not start within one second.
		errs = append(errs, fmt.Errorf("shared budget %q: Window is %v; want 0 (no window) or at least 1s", b.Name, b.Window))
	}
	if !finite(b.CostLimit) || b.CostLimit < 0 || b.TokenLimit < 0 {
		errs = append(errs, fmt.Errorf("shared budget %q: limits must be finite and not negative (CostLimit %v, TokenLimit %d)", b.Name, b.CostLimit, b.TokenLimit))
	}
	if b.CostLimit == 0 && b.TokenLimit == 0 {
		errs = append(errs, fmt.Errorf("shared budget %q: neither CostLimit nor TokenLimit is set; a budget must bound something", b.Name))
	}
	if !finite(b.Hold.Cost) || b.Hold.Cost < 0 || b.Hold.PromptTokens < 0 || b.Hold.CompletionTokens < 0 {
		errs = append(errs, fmt.Errorf("shared budget %q: Hold must be finite and not negative (Cost %v, PromptTokens %d, CompletionTokens %d)", b.Name, b.Hold.Cost, b.Hold.PromptTokens, b.Hold.CompletionTokens))
	}
	return errors.Join(errs...)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// WindowStart returns the start of the window that at falls in; the zero
// time when the budget has no window.
func (b SharedBudget) WindowStart(at time.Time) time.Time {
	if b.Window <= 0 {
		return time.Time{}
	}
	return time.Unix(0, at.UnixNano()-at.UnixNano()%int64(b.Window))
}

// SharedBudgets keeps usage budgets that every replica charges.
type SharedBudgets interface {
	// Reserve reserves hold in b's current window at once: ok is false,
	// and nothing is reserved, when what the window has spent and holds
	// plus hold would pass a limit of b. err reports that the store did
	// not answer.
	Reserve(ctx context.Context, b SharedBudget, hold Usage) (r Reservation, ok bool, err error)
}

// Reservation is a hold on a shared budget, made when a run starts.
type Reservation interface {
	// Commit replaces the hold by what the run spent; it is called once,
	// when the run ends, whether it succeeded or not. The run's tokens
	// come as one total, in spent.PromptTokens.
	Commit(ctx context.Context, spent Usage) error
}

// StatsShared holds the figures of an executor's shared services
// (runtime.Stats.Distributed). Store, Healthy and LastError come from the
// store's client (Shared.Stats), which executors of a process may share;
// without Shared.Stats, from the executor's own calls. Every other figure
// is the executor's own: its calls to the store and what came of them.
type StatsShared struct {
	// Enabled reports that the executor has shared services.
	Enabled bool `json:"enabled"`
	// Configured reports that the executor's configuration file
	// (flujo.WithConfigFile) has a distributed section that shares a
	// part. Without Enabled, it was given no shared services
	// (flujo.WithShared) and shares nothing: the recommendation
	// "distributed-not-wired" says so.
	Configured bool `json:"configured"`
	// Store names the store ("redis 127.0.0.1:6379"), its password
	// redacted.
	Store string `json:"store"`
	// Healthy reports that the last call to the store succeeded.
	Healthy bool `json:"healthy"`
	// Calls counts the executor's calls to the store (cache lookups and
	// stores, budget reservations and commits); Degraded those that
	// failed or timed out, after which the executor used its local state.
	Calls    uint64 `json:"calls"`
	Degraded uint64 `json:"degraded"`
	// RecentDegraded counts the degraded calls of the last minute or two
	// (the current and the previous minute): the recommendation
	// "distributed-degraded" reads it.
	RecentDegraded uint64 `json:"recent_degraded"`
	// LastError is the last failed call's error, its password redacted;
	// empty when none failed.
	LastError string `json:"last_error,omitempty"`
	// CacheHits and CacheMisses count second-level cache lookups: a hit
	// served a result computed on any replica.
	CacheHits   uint64 `json:"cache_hits"`
	CacheMisses uint64 `json:"cache_misses"`
	// BreakerPublished counts local transitions sent to the other
	// replicas; BreakerApplied the remote ones applied here.
	BreakerPublished uint64 `json:"breaker_published"`
	BreakerApplied   uint64 `json:"breaker_applied"`
	// BudgetReserved and BudgetRefused count reservations on shared
	// budgets; BudgetLocal those made on a local budget while the store
	// did not answer or without a store.
	BudgetReserved uint64 `json:"budget_reserved"`
	BudgetRefused  uint64 `json:"budget_refused"`
	BudgetLocal    uint64 `json:"budget_local"`
}
