package runtime

import "fmt"

// MaxLoopsError is the error of a Loop whose exit condition did not hold
// after MaxLoops iterations.
type MaxLoopsError struct {
	Loop     string
	MaxLoops int
}

// Error describes the problem.
func (e *MaxLoopsError) Error() string {
	return fmt.Sprintf("loop %q reached max_loops (%d) without meeting its exit condition", e.Loop, e.MaxLoops)
}

// NoBranchError is the error of a Branch whose chooser returned a key with
// no case and that has no Default.
type NoBranchError struct {
	Branch string
	Key    string
}

// Error describes the problem.
func (e *NoBranchError) Error() string {
	return fmt.Sprintf("branch %q has no case for key %q and no Default", e.Branch, e.Key)
}

// JoinError is the error returned by a Parallel's join function.
type JoinError struct {
	Parallel string
	Err      error
}

// Error describes the problem.
func (e *JoinError) Error() string { return fmt.Sprintf("parallel %q: join: %v", e.Parallel, e.Err) }

// Unwrap returns the join function's error.
func (e *JoinError) Unwrap() error { return e.Err }
