package main

import (
	"flag"

	"github.com/flujo/flujo/schema"
)

func schemaCommand() command {
	return command{
		name:    "schema",
		args:    "[-docs]",
		summary: "print the JSON Schema of flujo.json, or with -docs its Markdown reference",
		help: `Schema prints the JSON Schema of flujo.json as the Go types produce it; it equals
schema/flujo.schema.json byte for byte. With -docs it prints the configuration
reference (docs/config.md) rendered from the schema instead.`,
		flags: func(fs *flag.FlagSet) func(*cli, []string) int {
			docs := fs.Bool("docs", false, "print the Markdown configuration reference instead of the schema")
			return func(c *cli, args []string) int {
				cmd := schemaCommand()
				if len(args) > 0 {
					return c.usageError(cmd, "unexpected argument %q", args[0])
				}
				var out []byte
				var err error
				if *docs {
					out, err = renderReference()
				} else {
					out, err = schema.Generate()
				}
				if err != nil {
					return c.errorf(cmd, "%v", err)
				}
				if _, err := c.stdout.Write(out); err != nil {
					return c.errorf(cmd, "%v", err)
				}
				return exitOK
			}
		},
	}
}
