package flujotest

import (
	"errors"

	"github.com/flujo/flujo"
)

// ErrJoinRefused is the error of the joins that refuse their inputs.
var ErrJoinRefused = errors.New("join refused")

// JoinTwoRefuses is a join that always fails.
func JoinTwoRefuses(a, b Job) (Job, error) { return Job{}, ErrJoinRefused }

// JoinThreeRefuses is a join that always fails.
func JoinThreeRefuses(a, b, c Job) (Job, error) { return Job{}, ErrJoinRefused }

// The declarations of the failed-Parallel rules.
var (
	// JoinFailsAfterIgnored: inside pipeline "joined", Parallel "fan"
	// ignores its failing branch "fail", then its join fails.
	JoinFailsAfterIgnored = flujo.Pipeline("joined",
		flujo.Parallel("fan", JoinTwoRefuses, flujo.Step("echo", Echo), flujo.Step("fail", Fail, flujo.Retries(0))).
			With(flujo.OnBranchFailure(flujo.Ignore)),
	)
	// FanJoinFails: two branches write A and B, a third fails and is
	// ignored, and the join fails.
	FanJoinFails = flujo.Parallel("fan", JoinThreeRefuses,
		flujo.StepS("a1", WriteA), flujo.StepS("b", WriteB), flujo.Step("fail", Fail, flujo.Retries(0)),
	).With(flujo.OnBranchFailure(flujo.Ignore))
	// FanBranchFails: a branch writes A and B, another fails, which fails
	// the Parallel (Propagate).
	FanBranchFails = flujo.Parallel("fan", JoinTwo,
		flujo.Pipeline("p1", flujo.StepS("a1", WriteA), flujo.StepS("b", WriteB)), flujo.Step("fail", Fail, flujo.Retries(0)),
	)
)
