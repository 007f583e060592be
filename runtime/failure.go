package runtime

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// StepError is returned by a run that fails: it names the node that
// failed, as a path from the root, and wraps its error.
type StepError struct {
	// Path names the failed node and the nodes that contain it, from the
	// root down.
	Path []string
	// Feedback is the failed node's feedback.
	Feedback string
	// Err is the failed node's error.
	Err error
}

// Error describes the problem.
func (e *StepError) Error() string {
	return fmt.Sprintf("flujo: step %q failed: %s", strings.Join(e.Path, "/"), e.Feedback)
}

// Unwrap returns the failed node's error.
func (e *StepError) Unwrap() error { return e.Err }

// PanicError is the error of an attempt whose step function panicked.
type PanicError struct {
	Step  string
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

// Error describes the problem.
func (e *PanicError) Error() string {
	return fmt.Sprintf("step %q panicked: %v\n%s", e.Step, e.Value, e.Stack)
}

// GoexitError is the error of a node in which a step called runtime.Goexit
// (as t.Fatal and t.SkipNow do) on a goroutine the executor started for it:
// an attempt under a Timeout, a Parallel branch, an element of a concurrent
// Map. That goroutine ends, as Goexit demands, and the node fails. A step
// that calls Goexit on the caller's own goroutine ends the caller's
// goroutine, and the run returns nothing; its concurrency permit is released
// either way.
type GoexitError struct {
	// Node names the attempt's step, or the branch or Map body that ran it.
	Node string
}

// Error describes the problem.
func (e *GoexitError) Error() string {
	return fmt.Sprintf("%q: a step called runtime.Goexit", e.Node)
}

// StepTimeoutError is the error of an attempt or a composite node that
// overran its Timeout.
type StepTimeoutError struct {
	Step    string
	Timeout time.Duration
}

// Error describes the problem.
func (e *StepTimeoutError) Error() string {
	return fmt.Sprintf("step %q timed out after %v", e.Step, e.Timeout)
}

// Is makes errors.Is(err, context.DeadlineExceeded) hold.
func (e *StepTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// ValidationFailedError is the error of an attempt whose output a Validate
// function rejected.
type ValidationFailedError struct {
	Step string
	Err  error
}

// Error describes the problem.
func (e *ValidationFailedError) Error() string {
	return fmt.Sprintf("step %q: validation failed: %v", e.Step, e.Err)
}

// Unwrap returns the validator's error.
func (e *ValidationFailedError) Unwrap() error { return e.Err }

// FallbackError is the error of a node whose fallback failed too.
type FallbackError struct {
	Original error
	Fallback error
}

// Error describes the problem.
func (e *FallbackError) Error() string {
	return fmt.Sprintf("original error: %v; fallback error: %v", e.Original, e.Fallback)
}

// Unwrap returns both errors, for errors.Is and errors.As.
func (e *FallbackError) Unwrap() []error { return []error{e.Original, e.Fallback} }

// UsageLimitExceededError aborts a run whose usage went above a limit. The
// partial result holds every step that ran, the one that went over
// included.
type UsageLimitExceededError struct {
	// Limit names the limit: "total_cost_limit" or "total_tokens_limit".
	Limit  string
	Limits UsageLimits
	// Cost and Tokens are the run's real totals: every charge made before
	// the run ended, the one that went over and those of concurrent
	// branches that were in flight included.
	Cost    float64
	Tokens  int
	Partial *PipelineResult
}

// Error describes the problem.
func (e *UsageLimitExceededError) Error() string {
	if e.Limit == "total_tokens_limit" {
		return fmt.Sprintf("flujo: token limit of %d exceeded (used %d)", e.Limits.TotalTokensLimit, e.Tokens)
	}
	// Costs are sums of float64s; round away the representation noise
	// (0.03423999999999999) that would otherwise show.
	return fmt.Sprintf("flujo: cost limit of %s exceeded (used %s)", formatCost(e.Limits.TotalCostLimit), formatCost(e.Cost))
}

// errorTypeName is the error's dynamic type as feedback shows it: the Go
// type with the pointer star dropped, the types of this package named as the
// root package names them, e.g. "errors.errorString" or
// "flujo.StepTimeoutError".
func errorTypeName(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer && t.Elem().PkgPath() == modulePackage {
		// The failure types of this package are the root package's, under
		// the same names: feedback names them as users write them.
		return "flujo." + t.Elem().Name()
	}
	return strings.TrimPrefix(t.String(), "*")
}

// modulePackage is this package's import path.
const modulePackage = "github.com/flujo/flujo/runtime"

// FailureFeedback returns the feedback of a step whose last attempt failed
// with err: "Validation failed: <message>" for a validator's rejection, a
// one-line panic description for a *PanicError, else "Agent execution
// failed with <type>: <message>", <type> being err's Go type without the
// pointer star.
func FailureFeedback(err error) string {
	var v *ValidationFailedError
	if errors.As(err, &v) {
		return "Validation failed: " + v.Err.Error()
	}
	var p *PanicError
	if errors.As(err, &p) {
		// The stack stays in the error; feedback keeps to one line.
		return fmt.Sprintf("Agent execution failed with flujo.PanicError: step %q panicked: %v", p.Step, p.Value)
	}
	return "Agent execution failed with " + errorTypeName(err) + ": " + err.Error()
}

// FallbackFeedback is the feedback of a node whose fallback failed after
// its primary did.
func FallbackFeedback(original, fallback string) string {
	return "Original error: " + original + "; Fallback error: " + fallback
}

// formatCost prints a cost with at most 10 significant digits and no
// trailing zeros.
func formatCost(c float64) string {
	return strconv.FormatFloat(c, 'g', 10, 64)
}

// InputTypeError is returned by Execute when the input does not fit the
// root node's input type.
type InputTypeError struct {
	Node     string
	Expected reflect.Type
	Got      reflect.Type
}

// Error describes the problem.
func (e *InputTypeError) Error() string {
	return fmt.Sprintf("flujo: %q expects input %v, got %v", e.Node, e.Expected, e.Got)
}

// StateTypeError is returned by Execute when WithState's value is not the
// *S the declaration's StepS use.
type StateTypeError struct {
	Node     string
	Expected reflect.Type
	Got      reflect.Type
}

// Error describes the problem.
func (e *StateTypeError) Error() string {
	return fmt.Sprintf("flujo: %q needs state %v, got %v", e.Node, e.Expected, e.Got)
}
