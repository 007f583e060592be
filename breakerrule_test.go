package flujo

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

type permanent struct{ p bool }

func (e permanent) Error() string   { return "permanent" }
func (e permanent) Permanent() bool { return e.p }

type badInput struct{ b bool }

func (e badInput) Error() string  { return "bad input" }
func (e badInput) BadInput() bool { return e.b }

func TestCountsAsBreakerFailure(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", boom, true},
		{"timeout", &StepTimeoutError{Step: "s"}, true},
		{"deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), true},
		{"panic", &PanicError{Step: "s", Value: "x"}, true},
		{"canceled", fmt.Errorf("call: %w", context.Canceled), false},
		{"validation", &ValidationFailedError{Step: "s", Err: boom}, false},
		{"wrapped validation", fmt.Errorf("x: %w", &ValidationFailedError{Step: "s", Err: boom}), false},
		{"usage limit", fmt.Errorf("sub-run: %w", &UsageLimitExceededError{Limit: "total_cost_limit"}), false},
		{"permanent", fmt.Errorf("x: %w", permanent{true}), false},
		{"not permanent is no claim", permanent{false}, true},
		{"bad input type", badInput{true}, false},
		{"not bad input is no claim", badInput{false}, true},
		{"BadInput", BadInput(boom), false},
		{"BadInput wrapped", fmt.Errorf("parse: %w", BadInput(boom)), false},
		{"BadInput in a join", errors.Join(boom, BadInput(boom)), false},
		{"permanent in a join", errors.Join(boom, permanent{true}), false},
		{"join of counted errors", errors.Join(boom, &StepTimeoutError{}), true},
	}
	for _, tt := range tests {
		if got := CountsAsBreakerFailure(tt.err); got != tt.want {
			t.Errorf("%s: CountsAsBreakerFailure(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	if BadInput(nil) != nil {
		t.Error("BadInput(nil) is not nil")
	}
	boom := errors.New("question is empty")
	err := fmt.Errorf("parse: %w", BadInput(boom))
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, boom) || err.Error() != "parse: question is empty" {
		t.Errorf("BadInput lost the error: %v", err)
	}
	if !IsBadInput(err) || !IsBadInput(badInput{true}) || IsBadInput(badInput{false}) || IsBadInput(boom) || IsBadInput(nil) {
		t.Error("IsBadInput answers wrongly")
	}
	if got := failureFeedback(BadInput(boom)); got != "Agent execution failed with flujo.InputError: question is empty" {
		t.Errorf("feedback %q", got)
	}
}

func TestCountsAsBreakerFailureDoesNotAllocate(t *testing.T) {
	errs := []error{errors.New("boom"), fmt.Errorf("x: %w", BadInput(errors.New("y"))), &ValidationFailedError{Err: errors.New("v")}, &StepTimeoutError{}}
	if n := testing.AllocsPerRun(100, func() {
		for _, e := range errs {
			CountsAsBreakerFailure(e)
		}
	}); n != 0 {
		t.Errorf("CountsAsBreakerFailure: %v allocs, want 0", n)
	}
}
