// Command realtime serves the question-answering API of package realtime;
// see its documentation for the endpoints and flags. It is a module of its
// own, so that what it wires in from contrib (metrics, shared services)
// stays out of the flujo module's dependencies. Run it from this
// directory:
//
//	go run . [-addr 127.0.0.1:8080]
//	go run . -demo
//
// Next to the API it serves GET /metrics (metrics.go). Two modes come first
// on the command line when used (distributed.go):
//
//	go run . -shared flujo.json [flags]   # one replica of several: shares
//	                                      # through the Redis or Valkey server
//	                                      # the file's "distributed" section names
//	go run . -demo-distributed            # starts redis-server and two
//	                                      # replicas, and shows what they share
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/flujo/flujo/examples/realtime"
)

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

// run is the command, testable in-process: the distributed demo, a replica
// or the service.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) > 0 && (args[0] == "-demo-distributed" || args[0] == "--demo-distributed"):
		if err := demoDistributed(ctx, stdout); err != nil {
			fmt.Fprintln(stderr, "demo-distributed:", err)
			return 1
		}
		return 0
	case len(args) > 1 && (args[0] == "-shared" || args[0] == "--shared"):
		return runReplica(ctx, args[1], args[2:], stdout, stderr)
	}
	return realtime.MainWith(ctx, args, stdout, stderr, realtime.Options{Routes: metricsRoutes})
}
