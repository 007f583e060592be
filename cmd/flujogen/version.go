package main

import (
	"flag"
	"fmt"
	"runtime/debug"
)

func versionCommand() command {
	return command{
		name:    "version",
		args:    "",
		summary: "print the version of flujogen",
		help:    "Version prints the module version, the VCS revision when known, and the Go version flujogen was built with.",
		flags: func(*flag.FlagSet) func(*cli, []string) int {
			return func(c *cli, args []string) int {
				if len(args) > 0 {
					return c.usageError(versionCommand(), "unexpected argument %q", args[0])
				}
				fmt.Fprintln(c.stdout, versionLine(debug.ReadBuildInfo()))
				return exitOK
			}
		},
	}
}

// versionLine formats build information as
// "flujogen VERSION [(REVISION[, modified])] GOVERSION".
func versionLine(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "flujogen (unknown version)"
	}
	s := "flujogen " + info.Main.Version
	if s == "flujogen " {
		s += "(devel)"
	}
	var rev, modified string
	for _, kv := range info.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev != "" {
		s += fmt.Sprintf(" (%.12s%s)", rev, modified)
	}
	return s + " " + info.GoVersion
}
