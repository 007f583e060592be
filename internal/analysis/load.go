// Package analysis loads Go packages that declare flujo pipelines, finds the
// declarations, checks them and describes every step ahead of time: its
// function, types, hashing and copying plans and state writes. The result is
// a plain-data Model that the code generator and the explain and graph
// commands work from.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"go/token"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/flujo/flujo/schema"
)

// FlujoPath is the import path of the DSL package; calls are recognised by
// their callee's object in this package.
const FlujoPath = "github.com/flujo/flujo"

// RuntimePath is the import path of the runtime package.
const RuntimePath = "github.com/flujo/flujo/runtime"

// BuildTag is the build tag packages are loaded with. Generated files are
// constrained by !flujogen, so the analysis never reads its own output.
const BuildTag = "flujogen"

// LoadOptions say what to load and how.
type LoadOptions struct {
	// Dir is the directory the go command runs in and positions are shown
	// relative to; empty means the current directory.
	Dir string
	// Env is the go command's environment; nil means the current
	// process's.
	Env []string
	// Patterns are the package patterns; none means ".".
	Patterns []string
	// Config, when not nil, supplies the step overrides of every package.
	Config *schema.Config
	// ConfigFor, when not nil, supplies the configuration of the package in
	// dir and takes precedence over Config. A nil result means none.
	ConfigFor func(dir string) (*schema.Config, error)
}

// Load loads the packages, analyses their pipeline declarations and returns
// the model. Problems in the sources (load errors, and every mistake in the
// declarations) are returned together as an ErrorList, sorted by position;
// other failures, such as a go command that cannot run, as plain errors.
//
// What the model says about a package does not depend on the other
// packages named with it: when the analysis of a package reads code of
// another package of its module (a node variable declared there, a
// function a StepS calls with its state), that package's source is loaded
// as the analysis needs it, whether it was named or not.
func Load(ctx context.Context, opts LoadOptions) (*Model, error) {
	dir, err := filepath.Abs(cmpOr(opts.Dir, "."))
	if err != nil {
		return nil, err
	}
	extra := map[string]bool{}
	for {
		pkgs, fset, err := loadPackages(ctx, opts, extra)
		if err != nil {
			return nil, err
		}
		a := newAnalyzer(dir, fset, pkgs)
		if errs := a.loadErrors(pkgs); len(errs) > 0 {
			return nil, errs
		}
		if err := a.configs(opts); err != nil {
			return nil, err
		}
		m := a.run()
		// Each round adds at least one package of the module: the rounds
		// end.
		if more := a.missing(extra); len(more) > 0 {
			for _, path := range more {
				extra[path] = true
			}
			continue
		}
		if errs := a.errs.sorted(); len(errs) > 0 {
			return nil, errs
		}
		return m, nil
	}
}

// Loaded is the result of Load's first phase, go/packages loading, which
// LoadPackages and Analyze run apart for measurements.
type Loaded struct {
	// Packages are the loaded packages, ready for Analyze.
	Packages []*packages.Package
	// Fset is their file set.
	Fset *token.FileSet
}

// LoadPackages runs the go/packages phase of Load alone.
func LoadPackages(ctx context.Context, opts LoadOptions) (*Loaded, error) {
	pkgs, fset, err := loadPackages(ctx, opts, nil)
	if err != nil {
		return nil, err
	}
	return &Loaded{Packages: pkgs, Fset: fset}, nil
}

// Analyze runs the analysis phase of Load on packages LoadPackages loaded
// with the same options. Unlike Load, it loads no source the analysis
// finds it needs: code of packages that were not named counts as unknown.
func Analyze(l *Loaded, opts LoadOptions) (*Model, error) {
	dir, err := filepath.Abs(cmpOr(opts.Dir, "."))
	if err != nil {
		return nil, err
	}
	a := newAnalyzer(dir, l.Fset, l.Packages)
	if errs := a.loadErrors(l.Packages); len(errs) > 0 {
		return nil, errs
	}
	if err := a.configs(opts); err != nil {
		return nil, err
	}
	m := a.run()
	if errs := a.errs.sorted(); len(errs) > 0 {
		return nil, errs
	}
	return m, nil
}

// loadPackages loads the packages of opts' patterns, and the source of the
// packages they depend on whose import paths extra holds.
func loadPackages(ctx context.Context, opts LoadOptions, extra map[string]bool) ([]*packages.Package, *token.FileSet, error) {
	patterns := opts.Patterns
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	// The packages are listed without types, then checked from source
	// against their dependencies' export data (see loadSource).
	base := packages.Config{
		Context:    ctx,
		Dir:        opts.Dir,
		Env:        opts.Env,
		BuildFlags: []string{"-tags=" + BuildTag},
		Fset:       token.NewFileSet(),
	}
	cfg := base
	cfg.Mode = listMode
	pkgs, err := packages.Load(&cfg, patterns...)
	if err != nil {
		return nil, nil, fmt.Errorf("loading packages %s: %w", strings.Join(patterns, " "), err)
	}
	if len(pkgs) == 0 {
		return nil, nil, fmt.Errorf("no packages match %s", strings.Join(patterns, " "))
	}
	if err := loadSource(ctx, base, pkgs, extra); err != nil {
		return nil, nil, fmt.Errorf("loading packages %s: %w", strings.Join(patterns, " "), err)
	}
	slices.SortFunc(pkgs, func(a, b *packages.Package) int { return strings.Compare(a.PkgPath, b.PkgPath) })
	return pkgs, base.Fset, nil
}

// loadErrors collects the packages' own errors with their positions,
// without repeats.
// A use of a generated executor was dropped when the package was checked
// (see usesGenerated).
func (a *analyzer) loadErrors(pkgs []*packages.Package) ErrorList {
	var set errorSet
	for _, p := range pkgs {
		// A file that does not parse makes every later phase report
		// consequences of it, as position-less list errors or type errors;
		// like go build, report the syntax and nothing that follows from
		// it. The go command and the source loader both parse the files, so
		// one line of a file is reported once.
		broken := false
		for _, e := range p.Errors {
			if e.Kind != packages.TypeError && e.Pos != "" && e.Pos != "-" {
				broken = true
			}
		}
		lines := map[string]bool{}
		for _, e := range p.Errors {
			if e.Pos == "" || e.Pos == "-" {
				if !broken {
					a.compilerOutput(&set, e.Msg)
				}
				continue
			}
			if e.Kind == packages.TypeError && broken {
				continue
			}
			file, line, col := parsePos(e.Pos)
			if !filepath.IsAbs(file) {
				file = filepath.Join(a.dir, file)
			}
			file = a.display(file)
			if e.Kind != packages.TypeError {
				at := fmt.Sprintf("%s:%d", file, line)
				if lines[at] {
					continue
				}
				lines[at] = true
			}
			set.add(Error{File: file, Line: line, Col: col, Msg: e.Msg})
		}
		if p.Module != nil && p.Module.Error != nil {
			set.add(Error{Msg: p.Module.Error.Err})
		}
	}
	return set.sorted()
}

// compilerOutput adds a position-less error. The go command reports a
// dependency that does not compile as one such error holding the
// compiler's output ("# pkg" and one "file:line:col: message" line per
// problem); its lines become errors of their own, which also removes the
// repeats of the type checker's errors.
func (a *analyzer) compilerOutput(set *errorSet, msg string) {
	if !strings.HasPrefix(msg, "# ") {
		// Any other message keeps its lines together, such as the go
		// command's "no required module provides package p; to add
		// it:" and the command that follows.
		set.add(Error{Msg: strings.Join(strings.Fields(msg), " ")})
		return
	}
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "# ") {
			continue
		}
		if pos, text, ok := strings.Cut(line, ": "); ok {
			if file, l, c := parsePos(pos); l > 0 {
				if !filepath.IsAbs(file) {
					file = filepath.Join(a.dir, file)
				}
				set.add(Error{File: a.display(file), Line: l, Col: c, Msg: text})
				continue
			}
		}
		set.add(Error{Msg: line})
	}
}

// configs resolves the configuration of each package.
func (a *analyzer) configs(opts LoadOptions) error {
	for _, p := range a.pkgs {
		p.config = opts.Config
		if opts.ConfigFor == nil {
			continue
		}
		c, err := opts.ConfigFor(p.dir)
		if err != nil {
			var se *schema.Error
			if errors.As(err, &se) {
				for _, pr := range se.Problems {
					msg := pr.Message
					if pr.Pointer != "" {
						msg = pr.Pointer + ": " + msg
					}
					a.errs.add(Error{File: a.display(pr.File), Line: pr.Line, Col: pr.Col, Msg: msg})
				}
				if len(se.Problems) > 0 {
					continue
				}
			}
			return err
		}
		if c != nil {
			p.config = c
		}
	}
	return nil
}

// display renders a file name for positions: relative to the load
// directory when inside it.
func (a *analyzer) display(file string) string {
	if file == "" {
		return ""
	}
	if rel, err := filepath.Rel(a.dir, file); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return file
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
