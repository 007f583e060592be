package runtime

import "fmt"

// PanicError reports a panic raised by a work item. Find it with errors.As.
type PanicError struct {
	// Index is the index of the item that panicked.
	Index int
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack, captured in the recovery.
	Stack []byte
}

// Error describes the panic without the stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("runtime: work item %d panicked: %v", e.Index, e.Value)
}

// Unwrap returns the panic value when it is an error, so errors.Is sees
// through a panic(err).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
