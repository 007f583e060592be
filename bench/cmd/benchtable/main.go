// Command benchtable reads `go test -bench` output on stdin and prints one
// Markdown table: for every benchmark the median ns/op, B/op and allocs/op over
// the repeated runs (-count), the spread of ns/op, any custom metrics, and the
// ratio of each peer's ns/op to ours.
//
// Benchmarks are grouped by the part of their name before the last slash; in a
// group the entry named "flujo" is ours, and every other entry is compared
// with it. A ratio above 1 means flujo is faster.
//
// Usage:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./... | tee bench.txt
//	go run ./cmd/benchtable < bench.txt
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it parses in, writes the table to out and
// returns the exit code.
func run(in io.Reader, out, errOut io.Writer) int {
	res, err := parse(in)
	if err != nil {
		fmt.Fprintln(errOut, "benchtable:", err)
		return 2
	}
	if len(res.rows) == 0 {
		fmt.Fprintln(errOut, "benchtable: no benchmark results on stdin")
		return 1
	}
	if err := writeTable(out, res); err != nil {
		fmt.Fprintln(errOut, "benchtable:", err)
		return 2
	}
	if len(res.failed) > 0 {
		fmt.Fprintln(errOut, "benchtable: failed benchmarks:", strings.Join(res.failed, ", "))
		return 1
	}
	return 0
}
