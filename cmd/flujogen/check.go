package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/flujo/flujo/gen"

	"github.com/flujo/flujo/internal/genwrite"
)

// Exit codes of check.
const (
	checkUpToDate = 0
	checkStale    = 1
	checkError    = 2
)

func checkCommand() command {
	return command{
		name:    "check",
		args:    "[PACKAGES]",
		summary: "report generated files that are missing, stale or orphaned",
		help: `Check does what generate would do without writing anything, and compares.
It exits 0 when every generated file is up to date, 1 when any is missing,
stale (a unified diff is printed) or orphaned (left behind by a removed
pipeline), and 2 on an error, analysis errors included.

Use it in CI as: flujogen check ./...`,
		flags: func(*flag.FlagSet) func(*cli, []string) int {
			return func(c *cli, args []string) int {
				wd, err := os.Getwd()
				if err != nil {
					fmt.Fprintf(c.stderr, "flujogen check: %v\n", err)
					return checkError
				}
				return runCheck(c, wd, args, loadModel)
			}
		},
	}
}

func runCheck(c *cli, wd string, patterns []string, load modelLoader) int {
	p, err := makePlan(wd, patterns, load)
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return checkError
	}
	changes, err := genwrite.Check(p.files, p.orphans)
	var ng *genwrite.NotGeneratedError
	if errors.As(err, &ng) {
		fmt.Fprintln(c.stderr, genwrite.NotGeneratedMessage(relAll(wd, ng.Paths)))
		return checkError
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "flujogen check: %v\n", err)
		return checkError
	}
	if len(changes) == 0 {
		return checkUpToDate
	}
	for _, ch := range changes {
		switch ch.Kind {
		case "missing":
			fmt.Fprintf(c.stdout, "missing: %s\n", rel(wd, ch.Path))
		case "stale":
			fmt.Fprintf(c.stdout, "stale: %s\n", rel(wd, ch.Path))
			if why := sourceChange(ch.Old, ch.New); why != "" {
				fmt.Fprintf(c.stdout, "note: %s\n", why)
			}
			fmt.Fprint(c.stdout, ch.Diff)
		case "orphan":
			fmt.Fprintf(c.stdout, "orphaned: %s (its pipelines are gone; flujogen generate removes it)\n", rel(wd, ch.Path))
		}
	}
	fmt.Fprintf(c.stderr, "flujogen check: %d generated file(s) out of date: run flujogen generate\n", len(changes))
	return checkStale
}

// sourceChange says in one line how the configuration recorded in a stale
// generated file (old) differs from the one that applies now (new); empty
// when it does not, or when old records none.
func sourceChange(old, new []byte) string {
	was, ok := gen.RecordedSource(old)
	if !ok {
		return ""
	}
	now, _ := gen.RecordedSource(new)
	if was == now {
		return ""
	}
	wasPath, wasDigest, wasFile := splitSource(was)
	nowPath, nowDigest, nowFile := splitSource(now)
	switch {
	case wasFile && nowFile && wasPath == nowPath:
		return fmt.Sprintf("%s changed since this file was generated (%s, now %s)", wasPath, wasDigest, nowDigest)
	case wasFile && !nowFile:
		return fmt.Sprintf("this file was generated from %s, which is gone: the embedded defaults apply now", wasPath)
	case !wasFile && nowFile:
		return fmt.Sprintf("this file was generated from the embedded defaults, but %s applies now", nowPath)
	default:
		return fmt.Sprintf("this file was generated from %s, but %s applies now", wasPath, nowPath)
	}
}

// splitSource splits a gen.FileSource into path and digest; file is false
// for the embedded defaults.
func splitSource(s string) (path, digest string, file bool) {
	if s == gen.DefaultsSource {
		return "", "", false
	}
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return s, "", true
	}
	return s[:i], s[i+1:], true
}
