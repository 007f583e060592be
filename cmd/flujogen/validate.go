package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/flujo/flujo/schema"
)

func validateCommand() command {
	return command{
		name:    "validate",
		args:    "[FILE...] [PACKAGES]",
		summary: "check configuration files against the schema and the rules",
		help: `Validate checks each FILE (default: ` + schema.DefaultFileName + `) against the JSON Schema and
the rules between fields, and prints every problem at once, sorted by position:

    flujo.json:3:29: /optimization/telemetry_batch_size: must be >= 1, got 0

With PACKAGES (arguments with "...", folders holding .go files and import
paths; "-", names ending in .json and other existing files are FILEs), it
also checks each valid FILE against the pipelines those packages
declare, as generate would use it: a "steps" key that names no pipeline or
no step of its pipeline is reported at its line in FILE.

    flujogen validate flujo.json ./pkg/...

It prints "FILE: ok" for each valid file, and exits 1 when any file is invalid.
A FILE of "-" reads standard input, named <stdin> in messages.`,
		flags: func(*flag.FlagSet) func(*cli, []string) int {
			return func(c *cli, args []string) int {
				files, patterns := splitValidateArgs(args)
				return runValidate(c, files, patterns, loadModel)
			}
		},
	}
}

// splitValidateArgs tells configuration files from package patterns: a
// pattern has "...", or is a folder holding .go files, or is an import
// path; anything else that exists, "-" and names ending in .json are files.
func splitValidateArgs(args []string) (files, patterns []string) {
	for _, a := range args {
		if isPattern(a) {
			patterns = append(patterns, a)
		} else {
			files = append(files, a)
		}
	}
	return files, patterns
}

func isPattern(arg string) bool {
	if arg == "-" || strings.HasSuffix(arg, ".json") {
		return false
	}
	if strings.Contains(arg, "...") {
		return true
	}
	fi, err := os.Stat(arg)
	if err != nil {
		return true // an import path, or a folder that is not there
	}
	if !fi.IsDir() {
		return false
	}
	goFiles, _ := filepath.Glob(filepath.Join(arg, "*.go"))
	return len(goFiles) > 0
}

func runValidate(c *cli, files, patterns []string, load modelLoader) int {
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
		cfg, err := c.load(l, f)
		if err != nil {
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
		if len(patterns) > 0 {
			problems, err := checkAgainstPackages(cfg, patterns, load)
			if err != nil {
				code = exitInvalid
				fmt.Fprintln(c.stderr, err)
				continue
			}
			if len(problems) > 0 {
				code = exitInvalid
				for _, p := range problems {
					fmt.Fprintln(c.stderr, p)
				}
				continue
			}
		}
		fmt.Fprintf(c.stdout, "%s: ok\n", displayName(f))
	}
	return code
}

// checkAgainstPackages loads the packages of patterns with cfg as their
// configuration and reports what the analysis finds wrong with it, and the
// "steps" keys that name none of their pipelines.
func checkAgainstPackages(cfg *schema.Config, patterns []string, load modelLoader) ([]string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	m, err := load(context.Background(), wd, patterns, func(string) (*schema.Config, error) { return cfg, nil })
	if err != nil {
		return nil, err
	}
	pipelines := map[string]bool{}
	for _, pkg := range m.Packages {
		for _, p := range pkg.Pipelines {
			pipelines[p.Name] = true
		}
	}
	names := slices.Sorted(maps.Keys(pipelines))
	var problems []string
	for _, key := range cfg.StepKeys() {
		known := false
		for name := range pipelines {
			if strings.HasPrefix(key, name+".") {
				known = true
				break
			}
		}
		if known {
			continue
		}
		have := "they declare no pipeline"
		if len(names) > 0 {
			have = "their pipelines are " + strings.Join(quoted(names), ", ")
		}
		problems = append(problems, fmt.Sprintf("%s: steps.%q: no pipeline of %s is named by this key (keys are \"<pipeline>.<step>\"); %s; fix the key or remove it",
			displayName(cfg.KeyPosition(key)), key, strings.Join(patterns, " "), have))
	}
	return problems, nil
}

func quoted(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strconv.Quote(x)
	}
	return out
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
