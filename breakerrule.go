package flujo

import (
	"context"
	"errors"

	"github.com/flujo/flujo/runtime"
)

// InputError is the error of a step that rejected its input: the caller's
// fault, not the upstream's. A circuit breaker does not count it and the
// error classifier does not retry it. Make one with BadInput; any error type
// with a BadInput() bool method that returns true (runtime.BadInputError)
// is treated the same way.
type InputError struct {
	// Err says what is wrong with the input.
	Err error
}

// Error returns the wrapped error's message.
func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *InputError) Unwrap() error { return e.Err }

// BadInput reports true: the input is at fault.
func (e *InputError) BadInput() bool { return true }

// BadInput marks err as bad input: a step returns BadInput(err) when the
// input it was given can never succeed, so that bad requests from one
// client neither open the step's circuit breaker for every client nor get
// retried. It returns nil for nil.
func BadInput(err error) error {
	if err == nil {
		return nil
	}
	return &InputError{Err: err}
}

// IsBadInput reports whether err, or an error it wraps, declares itself bad
// input (runtime.BadInputError with BadInput() true).
func IsBadInput(err error) bool {
	for err != nil {
		if b, ok := err.(runtime.BadInputError); ok && b.BadInput() {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if IsBadInput(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// CountsAsBreakerFailure is the default rule by which a failed attempt
// counts toward opening its step's circuit breaker: only failures that say
// the upstream may be unhealthy count. Both engines apply it to every failed
// attempt of a step without a BreakerCounts option.
//
// These do not count, anywhere in err's tree: a validator's rejection
// (*ValidationFailedError), an error that declares itself permanent
// (runtime.PermanentError with Permanent() true) or bad input
// (runtime.BadInputError with BadInput() true, such as BadInput's), a
// usage-limit abort (*UsageLimitExceededError) and context.Canceled (the
// engines never report an attempt cut short by the caller's own context to
// the breaker at all). Everything else counts: timeouts
// (*StepTimeoutError, context.DeadlineExceeded), panics (*PanicError),
// transient and unknown errors. An attempt that does not count is neutral:
// it does not clear the consecutive failures counted either, as a success
// would.
func CountsAsBreakerFailure(err error) bool {
	return err != nil && !errors.Is(err, context.Canceled) && !breakerNeutral(err)
}

// breakerNeutral reports whether err, or an error it wraps, is one that
// CountsAsBreakerFailure does not count. It walks the tree in the order
// errors.As does, with type assertions only, so it does not allocate.
func breakerNeutral(err error) bool {
	for err != nil {
		switch e := err.(type) {
		case *ValidationFailedError, *UsageLimitExceededError:
			return true
		case runtime.PermanentError:
			if e.Permanent() {
				return true
			}
		}
		if b, ok := err.(runtime.BadInputError); ok && b.BadInput() {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if breakerNeutral(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}
