package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/schema"
)

func initCommand() command {
	return command{
		name:    "init",
		args:    "[-profile NAME] [-o FILE] [-force]",
		summary: "write a starter flujo.json",
		help: `Init writes a flujo.json that names the schema and lists every optimization
setting: the defaults, or those of a profile. It refuses to overwrite an existing
file unless -force is given, and writes atomically.

Profiles:
  ` + strings.Join(runtime.ProfileNames(), "\n  "),
		flags: func(fs *flag.FlagSet) func(*cli, []string) int {
			profile := fs.String("profile", "", "start from the named profile instead of the defaults")
			out := fs.String("o", schema.DefaultFileName, `write to FILE; "-" prints to standard output`)
			force := fs.Bool("force", false, "overwrite FILE if it exists")
			return func(c *cli, args []string) int {
				return runInit(c, args, *profile, *out, *force)
			}
		},
	}
}

func runInit(c *cli, args []string, profile, out string, force bool) int {
	cmd := initCommand()
	if len(args) > 0 {
		return c.usageError(cmd, "unexpected argument %q (the output file goes after -o)", args[0])
	}
	if out == "" {
		return c.usageError(cmd, "-o needs a file name")
	}
	cfg := runtime.DefaultOptimizationConfig()
	if profile != "" {
		p, err := runtime.LookupProfile(profile)
		if err != nil {
			return c.usageError(cmd, "%v", err)
		}
		cfg = p.Config()
	}
	data, err := renderStarter(cfg)
	if err != nil {
		return c.errorf(cmd, "%v", err)
	}
	// What init writes must validate; a failure here is a bug, caught
	// before anything reaches the disk.
	if _, err := schema.Parse(out, data); err != nil {
		return c.errorf(cmd, "the starter file does not validate:\n%v", err)
	}
	if out == "-" {
		if _, err := c.stdout.Write(data); err != nil {
			return c.errorf(cmd, "%v", err)
		}
		return exitOK
	}
	if err := writeNew(out, data, force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return c.errorf(cmd, "%s already exists; use -force to overwrite it", out)
		}
		return c.errorf(cmd, "%v", err)
	}
	what := "the defaults"
	if profile != "" {
		what = "profile " + profile
	}
	fmt.Fprintf(c.stdout, "wrote %s (%s)\n", out, what)
	return exitOK
}

// writeNew writes data to path atomically: into a temporary file in the
// same folder, then renamed (or, without force, hard-linked, which fails
// when path exists) into place, so readers never see half a file and an
// existing file is never clobbered by accident.
func writeNew(path string, data []byte, force bool) (err error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("cannot write %s: it is a directory", path)
		}
		if !force {
			return fmt.Errorf("%s: %w", path, fs.ErrExist)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	defer func() {
		if rmErr := os.Remove(tmp.Name()); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = rmErr
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	if force {
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
		}
		return nil
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", path, fs.ErrExist)
		}
		// No hard links here: the Lstat above is the only guard left.
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
		}
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
