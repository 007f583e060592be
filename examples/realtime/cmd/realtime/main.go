// Command realtime serves the question-answering API of package realtime;
// see its documentation for the endpoints and flags. It is a module of its
// own, so that what it wires in from contrib (metrics, shared services)
// stays out of the flujo module's dependencies. Run it from this
// directory:
//
//	go run . [-addr 127.0.0.1:8080]
//	go run . -demo
package main

import (
	"context"
	"os"

	"github.com/flujo/flujo/examples/realtime"
)

func main() { os.Exit(realtime.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }
