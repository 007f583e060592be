// Package runtime is the thin support library shared by the dynamic
// ExecutorCore and the executors that flujogen generates.
package runtime
