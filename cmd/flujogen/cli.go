package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/flujo/flujo/runtime"
)

// Exit codes of every command.
const (
	exitOK      = 0 // done, every input valid
	exitInvalid = 1 // an input is invalid or cannot be read or written
	exitUsage   = 2 // the command line is wrong
)

// cli is one run of flujogen: its streams. Commands write only through it,
// so Main runs in-process in tests.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand. New ones (generate, check, explain, graph)
// are one more entry in commands.
type command struct {
	name    string
	args    string // synopsis of the arguments
	summary string
	// flags declares the command's flags on fs and returns a function that
	// runs the command with the parsed flags and the remaining arguments.
	flags func(fs *flag.FlagSet) func(c *cli, args []string) int
	// help is printed after the usage line by `flujogen help NAME`.
	help string
}

// synopsis is the command's usage line.
func (cmd command) synopsis() string {
	return strings.TrimSpace("flujogen " + cmd.name + " " + cmd.args)
}

func commands() []command {
	return []command{
		validateCommand(),
		schemaCommand(),
		initCommand(),
		versionCommand(),
		generateCommand(),
		checkCommand(),
		explainCommand(),
		graphCommand(),
	}
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// Main runs flujogen with args (without the program name) and returns the
// exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		c.usage(c.stderr)
		return exitUsage
	}
	switch name := args[0]; name {
	case "help", "-h", "-help", "--help":
		return c.help(args[1:])
	default:
		cmd, ok := lookupCommand(name)
		if !ok {
			msg := fmt.Sprintf("unknown command %q", name)
			if strings.HasPrefix(name, "-") {
				msg = fmt.Sprintf("unknown flag %q", name)
			} else if s := runtime.ClosestName(name, commandNames()); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			fmt.Fprintf(c.stderr, "flujogen: %s\nRun 'flujogen help' for usage.\n", msg)
			return exitUsage
		}
		return c.run(cmd, args[1:])
	}
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

// run parses the command's flags and runs it.
func (c *cli) run(cmd command, args []string) int {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	run := cmd.flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.commandHelp(c.stdout, cmd)
			return exitOK
		}
		return c.usageError(cmd, "%v", err)
	}
	// The flag package stops at the first argument; a flag after it would
	// otherwise be taken for a package pattern or a file name.
	if rest := fs.Args(); !slices.Contains(args[:len(args)-len(rest)], "--") {
		for i, a := range rest {
			if len(a) > 1 && a[0] == '-' {
				name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
				if fs.Lookup(name) == nil {
					return c.usageError(cmd, "flag provided but not defined: %s", a)
				}
				fixed := strings.Join(append(slices.Clone(rest[i:]), rest[:i]...), " ")
				return c.usageError(cmd, "flag %s comes after an argument; put flags first: flujogen %s %s", a, cmd.name, fixed)
			}
		}
	}
	return run(c, fs.Args())
}

// usageError reports a wrong command line for cmd.
func (c *cli) usageError(cmd command, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "flujogen %s: %s\nusage: %s\nRun 'flujogen help %s' for details.\n",
		cmd.name, fmt.Sprintf(format, args...), cmd.synopsis(), cmd.name)
	return exitUsage
}

// errorf reports a failure of cmd that is not about the command line.
func (c *cli) errorf(cmd command, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "flujogen %s: %s\n", cmd.name, fmt.Sprintf(format, args...))
	return exitInvalid
}

func (c *cli) help(args []string) int {
	switch len(args) {
	case 0:
		c.usage(c.stdout)
		return exitOK
	case 1:
		if a := args[0]; a == "-h" || a == "-help" || a == "--help" {
			c.usage(c.stdout)
			return exitOK
		}
		cmd, ok := lookupCommand(args[0])
		if !ok {
			fmt.Fprintf(c.stderr, "flujogen help: unknown command %q\nRun 'flujogen help' for usage.\n", args[0])
			return exitUsage
		}
		c.commandHelp(c.stdout, cmd)
		return exitOK
	default:
		fmt.Fprintf(c.stderr, "flujogen help: too many arguments\nusage: flujogen help [COMMAND]\n")
		return exitUsage
	}
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintf(w, "flujogen generates type-specialized executors of flujo pipelines and checks\nflujo.json configuration files.\n\n")
	fmt.Fprintf(w, "Usage:\n\n  flujogen COMMAND [ARGUMENTS]\n\nCommands:\n\n")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "help", "show help for a command")
	fmt.Fprintf(w, "\nExit status: 0 done, 1 invalid input, 2 usage error; check exits 1 when\ngenerated files are out of date and 2 on any error.\n")
	fmt.Fprintf(w, "Run 'flujogen help COMMAND' for the details of a command.\n")
}

func (c *cli) commandHelp(w io.Writer, cmd command) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", cmd.synopsis(), cmd.help)
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	cmd.flags(fs)
	if hasFlags(fs) {
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}
