//go:build !flujogen

// Command realtime serves the question-answering API of package realtime;
// see its documentation for the endpoints and flags. (realtime.Main uses
// the generated executor, which flujogen does not see: it loads packages
// with the flujogen tag, so this file is left out then.)
package main

import (
	"context"
	"os"

	"github.com/flujo/flujo/examples/realtime"
)

func main() { os.Exit(realtime.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }
