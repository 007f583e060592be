package flujo

import (
	"fmt"

	"github.com/flujo/flujo/internal/kernel"
	"github.com/flujo/flujo/runtime"
)

// ErrClosed is returned by Execute after Close.
var ErrClosed = kernel.ErrClosed

// StepError is returned by Execute when a run fails: it names the node that
// failed, as a path from the root, and wraps its error.
type StepError = runtime.StepError

// MaxLoopsError is the error of a Loop whose exit condition did not hold
// after MaxLoops iterations.
type MaxLoopsError = runtime.MaxLoopsError

// NoBranchError is the error of a Branch whose chooser returned a key with
// no case and that has no Default.
type NoBranchError = runtime.NoBranchError

// MergeConflictError is the error of a Parallel merging with
// ErrorOnConflict when two branches wrote the same state field.
type MergeConflictError struct {
	Parallel string
	Field    string
	Branches [2]string
}

// Error describes the problem.
func (e *MergeConflictError) Error() string {
	return fmt.Sprintf("parallel %q: branches %q and %q both wrote state field %s", e.Parallel, e.Branches[0], e.Branches[1], e.Field)
}

// JoinError is the error returned by a Parallel's join function.
type JoinError = runtime.JoinError

// PanicError is the error of an attempt whose step function panicked.
type PanicError = runtime.PanicError

// GoexitError is the error of a node in which a step called runtime.Goexit
// on a goroutine the executor started for it.
type GoexitError = runtime.GoexitError

// StepTimeoutError is the error of an attempt or a composite node that
// overran its Timeout.
type StepTimeoutError = runtime.StepTimeoutError

// ValidationFailedError is the error of an attempt whose output a Validate
// function rejected.
type ValidationFailedError = runtime.ValidationFailedError

// FallbackError is the error of a node whose fallback failed too.
type FallbackError = runtime.FallbackError

// UsageLimitExceededError aborts a run whose usage went above a limit; its
// Partial result holds every step that ran.
type UsageLimitExceededError = runtime.UsageLimitExceededError

func failureFeedback(err error) string { return runtime.FailureFeedback(err) }

func fallbackFeedback(original, fallback string) string {
	return runtime.FallbackFeedback(original, fallback)
}
