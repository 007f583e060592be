package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

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

It prints "FILE: ok" for each valid file, and exits 1 when any file is invalid.
A FILE of "-" reads standard input, named <stdin> in messages.`,
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
		if _, err := c.load(l, f); err != nil {
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
		fmt.Fprintf(c.stdout, "%s: ok\n", displayName(f))
	}
	return code
}

// stdinName names standard input in messages.
const stdinName = "<stdin>"

func displayName(file string) string {
	if file == "-" {
		return stdinName
	}
	return file
}

// load loads file, or standard input for "-".
func (c *cli) load(l *schema.Loader, file string) (*schema.Config, error) {
	if file != "-" {
		return l.Load(file)
	}
	if c.stdin == nil {
		return l.Parse(stdinName, nil)
	}
	// One byte more than the limit is enough to know the input is too large.
	data, err := io.ReadAll(io.LimitReader(c.stdin, schema.MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	return l.Parse(stdinName, data)
}
