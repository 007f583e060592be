package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/flujo/flujo/gen"
	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/internal/genwrite"
	"github.com/flujo/flujo/schema"
)

func generateCommand() command {
	return command{
		name:    "generate",
		args:    "[PACKAGES]",
		summary: "write the generated executors of packages (default .)",
		help: `Generate analyses the pipeline declarations of PACKAGES (default: the package
in the current directory) and writes, into each package that declares
pipelines, the file named by flujo.json's "output" (default ` + schema.DefaultOutput + `) with
one executor per pipeline variable X: XExecutor and NewXExecutor.

The configuration of a package is the flujo.json of its folder, else the first
one found upward to the module root, else the embedded defaults.

Files are written atomically and only when their bytes change. Generated files
left behind by removed pipelines are removed. Any analysis or generation error
is printed as file:line:col: message, and then nothing is written (exit 1).
A package without pipelines gets no file, which is not an error (exit 0): its
stale generated file, if any, is removed. When no package matched declares
any pipeline, generate says so.

Use it as //go:generate go tool flujogen generate`,
		flags: func(*flag.FlagSet) func(*cli, []string) int {
			return func(c *cli, args []string) int {
				wd, err := os.Getwd()
				if err != nil {
					return c.errorf(generateCommand(), "%v", err)
				}
				return runGenerate(c, wd, args, loadModel)
			}
		},
	}
}

// modelLoader loads the analysis model of patterns, run from dir, with the
// configuration of each package from configFor.
type modelLoader func(ctx context.Context, dir string, patterns []string, configFor func(string) (*schema.Config, error)) (*analysis.Model, error)

// plan is what generate would write and remove.
type plan struct {
	files   []genwrite.File
	orphans []string
	empty   []string // packages without pipelines
	notes   []string // package-level nodes that get no executor, analysis notes
}

// makePlan loads, analyses and generates everything in memory.
func makePlan(wd string, patterns []string, load modelLoader) (*plan, error) {
	configs := newConfigFinder()
	m, err := load(context.Background(), wd, patterns, configs.find)
	if err != nil {
		return nil, err
	}
	p := &plan{}
	keep := map[string]bool{}
	var dirs []string
	var errs []error
	for _, pkg := range m.Packages {
		for _, sk := range pkg.Skipped {
			p.notes = append(p.notes, sk.Pos+": "+sk.Reason)
		}
		for _, n := range pkg.Notes {
			p.notes = append(p.notes, n.Pos+": "+n.Message)
		}
		cfg, err := configs.find(pkg.Dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		source := gen.DefaultsSource
		if cfg == nil {
			cfg = schema.Default()
		} else {
			source = gen.FileSource(moduleRelative(cfg.Path), cfg.Digest)
		}
		dirs = append(dirs, pkg.Dir)
		data, err := gen.GenerateWith(m, pkg, cfg, gen.Options{Source: source})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if data == nil {
			p.empty = append(p.empty, pkg.Path)
			continue
		}
		out := cfg.Output
		if out == "" {
			out = schema.DefaultOutput
		}
		path := filepath.Join(pkg.Dir, out)
		keep[path] = true
		p.files = append(p.files, genwrite.File{Path: path, Data: data})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	orphans, err := genwrite.Orphans(dirs, keep)
	if err != nil {
		return nil, err
	}
	p.orphans = orphans
	sort.Slice(p.files, func(i, j int) bool { return p.files[i].Path < p.files[j].Path })
	return p, nil
}

func runGenerate(c *cli, wd string, patterns []string, load modelLoader) int {
	cmd := generateCommand()
	p, err := makePlan(wd, patterns, load)
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		fmt.Fprintf(c.stderr, "flujogen generate: nothing written\n")
		return exitInvalid
	}
	for _, n := range p.notes {
		fmt.Fprintf(c.stderr, "flujogen generate: note: %s\n", n)
	}
	// Packages without pipelines among others that have some are normal
	// (./... patterns); they are worth a word only when none has any.
	if len(p.files) == 0 {
		for _, e := range p.empty {
			fmt.Fprintf(c.stderr, "flujogen generate: %s declares no pipelines: nothing to generate\n", e)
		}
	}
	changes, err := genwrite.Write(p.files, p.orphans)
	var ng *genwrite.NotGeneratedError
	if errors.As(err, &ng) {
		fmt.Fprintln(c.stderr, genwrite.NotGeneratedMessage(relAll(wd, ng.Paths)))
		fmt.Fprintf(c.stderr, "flujogen generate: nothing written\n")
		return exitInvalid
	}
	for _, ch := range changes {
		verb := "wrote"
		if ch.Kind == "remove" {
			verb = "removed orphaned"
		}
		fmt.Fprintf(c.stdout, "%s %s\n", verb, rel(wd, ch.Path))
	}
	if err != nil {
		return c.errorf(cmd, "%v", err)
	}
	return exitOK
}

// moduleRelative returns path relative to the root of its module (the
// nearest folder upward with a go.mod), slash-separated, so that what a
// generated file records does not depend on where the module is checked
// out; path itself when no module holds it.
func moduleRelative(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if r, err := filepath.Rel(d, abs); err == nil {
				return filepath.ToSlash(r)
			}
		}
		if filepath.Dir(d) == d {
			return filepath.ToSlash(abs)
		}
	}
}

func relAll(wd string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = rel(wd, p)
	}
	return out
}

func rel(wd, path string) string {
	if r, err := filepath.Rel(wd, path); err == nil {
		return r
	}
	return path
}

// configFinder finds and loads each package's flujo.json once.
type configFinder struct {
	loader *schema.Loader
	err    error
	byDir  map[string]*schema.Config
}

func newConfigFinder() *configFinder {
	l, err := schema.NewLoader()
	return &configFinder{loader: l, err: err, byDir: map[string]*schema.Config{}}
}

// find returns the configuration of the package in dir: flujo.json there,
// else upward to the module root (the folder with go.mod); nil for none.
func (f *configFinder) find(dir string) (*schema.Config, error) {
	if f.err != nil {
		return nil, f.err
	}
	if cfg, ok := f.byDir[dir]; ok {
		return cfg, nil
	}
	var cfg *schema.Config
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, schema.DefaultFileName)
		// Lstat, so that a dangling symbolic link is an error, not a
		// missing file that silently means the defaults.
		if _, err := os.Lstat(p); err == nil {
			c, err := f.loader.Load(p)
			if err != nil {
				return nil, err
			}
			cfg = c
			break
		}
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil || filepath.Dir(d) == d {
			break
		}
	}
	f.byDir[dir] = cfg
	return cfg, nil
}

// loadModel loads the model with the analysis package. Load errors (a
// package that does not compile) and declaration errors come back as one
// positioned list.
func loadModel(ctx context.Context, dir string, patterns []string, configFor func(string) (*schema.Config, error)) (*analysis.Model, error) {
	return analysis.Load(ctx, analysis.LoadOptions{Dir: dir, Patterns: patterns, ConfigFor: configFor})
}
