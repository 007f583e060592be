// Command realtime serves the question-answering API of package realtime;
// see its documentation for the endpoints and flags. It is a module of its
// own, so that what it wires in from contrib (metrics, shared services)
// stays out of the flujo module's dependencies. Run it from this
// directory:
//
//	go run . [-addr 127.0.0.1:8080]
//	go run . -demo
//
// Next to the API it serves GET /metrics (metrics.go).
package main

import (
	"context"
	"io"
	"os"

	"github.com/flujo/flujo/examples/realtime"
)

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

// run is the command, testable in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return realtime.MainWith(ctx, args, stdout, stderr, realtime.Options{Routes: metricsRoutes})
}
