// Package hello is the smallest package with a generated executor: one
// pipeline, Greeting, and the GreetingExecutor that flujogen generates from
// it into flujo_gen.go, with the embedded default configuration (the package
// has no flujo.json).
//
// The executor runs Greeting as the ExecutorCore does, with the step
// functions called directly and no reflection:
//
//	exec, err := hello.NewGreetingExecutor()
//	...
//	defer exec.Close(ctx)
//	out, err := exec.Execute(ctx, "  World ") // "Hello, world!"
//
// After changing pipeline.go, regenerate from the module root with
// `go generate ./examples/hello`; `go tool flujogen check ./examples/...`
// reports a stale flujo_gen.go.
package hello

//go:generate go tool flujogen generate
