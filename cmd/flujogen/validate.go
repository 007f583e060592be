package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/flujo/flujo/schema"
)

func validateCommand() command {
	return command{
		name:    "validate",
		args:    "[FILE...]",
		summary: "check configuration files against the schema and the rules",
		help: `Validate checks each FILE (default: ` + schema.DefaultFileName + `) against the JSON Schema and
the rules between fields, and prints every problem at once, sorted by position:

    flujo.json:3:29: /optimization/telemetry_batch_size: must be >= 1, got 0

It prints "FILE: ok" for each valid file, and exits 1 when any file is invalid.`,
		flags: func(*flag.FlagSet) func(*cli, []string) int { return runValidate },
	}
}

func runValidate(c *cli, files []string) int {
	cmd := validateCommand()
	if len(files) == 0 {
		files = []string{schema.DefaultFileName}
	}
	l, err := schema.NewLoader()
	if err != nil {
		return c.errorf(cmd, "%v", err)
	}
	code := exitOK
	for _, f := range files {
		if _, err := l.Load(f); err != nil {
			code = exitInvalid
			var se *schema.Error
			if errors.As(err, &se) {
				for _, p := range se.Problems {
					fmt.Fprintln(c.stderr, p)
				}
				continue
			}
			c.errorf(cmd, "%s: %v", f, err)
			continue
		}
		fmt.Fprintf(c.stdout, "%s: ok\n", f)
	}
	return code
}
