package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/schema"
	"github.com/flujo/flujo/templates"
)

func explainCommand() command {
	return command{
		name:    "explain",
		args:    "[-json] [PACKAGES]",
		summary: "show what the analysis finds in the pipeline declarations",
		help: `Explain loads the PACKAGES (default: .), finds every package-level variable
initialised with the flujo DSL, checks it and prints what flujogen decided for
each node ahead of time: types, options, the function called, whether the step
can be cached and how its input is hashed, what a cache hit copies, which
state fields each StepS writes and how a Parallel merges them.

With -json it prints the analysis model itself, the input of the generator.

Mistakes in the declarations are listed together, sorted by position, as

    triage.go:21:2: step "shout": expects input string, but step "parse" before it produces int

and the command exits 1. Each step shows its effective settings: the step
overrides of flujo.json (in the package folder, or upward to the module root)
applied, as both engines apply them, each value an override sets followed by
the override's key. A "distributed" section of flujo.json is shown under its
package, the password of its address as xxxxx.`,
		flags: func(fs *flag.FlagSet) func(*cli, []string) int {
			asJSON := fs.Bool("json", false, "print the analysis model as JSON")
			return func(c *cli, args []string) int { return runExplain(c, *asJSON, args) }
		},
	}
}

func runExplain(c *cli, asJSON bool, patterns []string) int {
	cmd := explainCommand()
	m, code := c.analyseForReport(cmd, patterns)
	if m == nil {
		return code
	}
	if asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			return c.errorf(cmd, "%v", err)
		}
		return exitOK
	}
	configs := newConfigFinder()
	out, err := templates.Explain(explainData(m, func(dir string) *schema.Config {
		if cfg, err := configs.find(dir); err == nil && cfg != nil {
			return cfg
		}
		return schema.Default() // the analysis already reported a broken flujo.json
	}))
	if err != nil {
		return c.errorf(cmd, "%v", err)
	}
	c.stdout.Write(out)
	return exitOK
}

// analyseForReport loads and analyses the packages matching patterns from
// the current directory. It prints analysis errors, one per line, and
// returns a nil model and the exit code when there are any.
func (c *cli) analyseForReport(cmd command, patterns []string) (*analysis.Model, int) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, c.errorf(cmd, "%v", err)
	}
	configs := newConfigFinder()
	m, err := analysis.Load(context.Background(), analysis.LoadOptions{
		Dir:       wd,
		Env:       os.Environ(),
		Patterns:  patterns,
		ConfigFor: configs.find,
	})
	var list analysis.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(c.stderr, e)
		}
		return nil, exitInvalid
	}
	if err != nil {
		return nil, c.errorf(cmd, "%v", err)
	}
	return m, exitOK
}

// shortType drops the import path of every package in a type key, leaving
// the package name: "map[string]*example.com/shop.Item" becomes
// "map[string]*shop.Item".
func shortType(key string) string {
	var b strings.Builder
	start := 0 // start of the current run of path characters in b
	for i := 0; i < len(key); i++ {
		ch := key[i]
		switch {
		case ch == '/':
			s := b.String()[:start]
			b.Reset()
			b.WriteString(s)
		case ch == '.' || ch == '-' || ch == '~' || ch == '_' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z':
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
			start = b.Len()
		}
	}
	return b.String()
}

func explainData(m *analysis.Model, configFor func(dir string) *schema.Config) templates.ExplainData {
	var d templates.ExplainData
	for _, p := range m.Packages {
		ep := templates.ExplainPackage{Path: p.Path, Dir: p.Dir}
		for _, sk := range p.Skipped {
			ep.Skipped = append(ep.Skipped, sk.Pos+": "+sk.Reason)
		}
		for _, n := range p.Notes {
			ep.Notes = append(ep.Notes, n.Pos+": "+n.Message)
		}
		cfg := configFor(p.Dir)
		if cfg.Distributed != nil {
			// String redacts the address's password.
			ep.Distributed = cfg.Distributed.String() + " (from " + configBase(cfg) + ")"
		}
		for _, pl := range p.Pipelines {
			xp := templates.ExplainPipeline{
				Var: pl.Var, Name: pl.Name, Pos: pl.Pos,
				In: shortType(pl.In.Type), Out: shortType(pl.Out.Type),
				Steps: pl.Steps, UsedBy: pl.UsedBy,
				Root: explainNode(m, cfg, pl.Name, pl.Root, ""),
			}
			if pl.State != nil {
				xp.State = "*" + shortType(pl.State.Type)
			}
			ep.Pipelines = append(ep.Pipelines, xp)
		}
		d.Packages = append(d.Packages, ep)
	}
	return d
}

// configBase names the configuration file in an override's source.
func configBase(cfg *schema.Config) string {
	if cfg.Path == "" {
		return schema.DefaultFileName
	}
	return filepath.Base(cfg.Path)
}

// configSource names where a configuration came from.
func configSource(cfg *schema.Config) string {
	if cfg.Path == "" {
		return "the default configuration (no flujo.json)"
	}
	return cfg.Path
}

// funcName renders a function reference as Go code names it.
func funcName(f analysis.FuncRef) string {
	pkg := f.PkgPath[strings.LastIndexByte(f.PkgPath, '/')+1:]
	name := f.Name
	if f.IsMethodExpr {
		recv := f.Recv
		if strings.HasPrefix(recv, "*") {
			recv = "(*" + pkg + "." + recv[1:] + ")"
		} else {
			recv = pkg + "." + recv
		}
		name = recv + "." + name
	} else {
		name = pkg + "." + name
	}
	if len(f.TypeArgs) > 0 {
		args := make([]string, len(f.TypeArgs))
		for i, a := range f.TypeArgs {
			args[i] = shortType(a)
		}
		name += "[" + strings.Join(args, ", ") + "]"
	}
	return name
}

func explainNode(m *analysis.Model, cfg *schema.Config, pipeline string, n *analysis.Node, label string) templates.ExplainNode {
	x := templates.ExplainNode{
		Label: label, Kind: string(n.Kind), Name: n.Name, Pos: n.Pos, Var: n.Var,
		In: shortType(n.In.Type), Out: shortType(n.Out.Type),
	}
	for _, o := range n.Options.Declared {
		x.Options = append(x.Options, o.Text)
	}
	add := func(format string, args ...any) { x.Details = append(x.Details, fmt.Sprintf(format, args...)) }
	switch {
	case n.Step != nil:
		explainLeaf(m, cfg, pipeline, n, add)
	case n.Parallel != nil:
		p := n.Parallel
		add("join: %s%s", funcName(p.Join), strings.TrimPrefix(shortType(p.Join.Signature), "func"))
		add("merge: %s, on branch failure: %s", n.Options.Merge, n.Options.OnBranchFailure)
		for i, bw := range p.Branches {
			add("branch %d %q: %s", i+1, bw.Branch, explainWrites(bw.ReadsState, bw.All, bw.Fields))
		}
		for _, c := range p.Conflicts {
			names := make([]string, len(c.Branches))
			for i, b := range c.Branches {
				names[i] = strconv.Quote(p.Branches[b].Branch)
			}
			add("conflict on %s: written by %s; resolution: %s", c.Field, strings.Join(names, " and "), c.Resolution)
		}
	case n.Loop != nil:
		add("until: %s, at most %d iterations", funcName(n.Loop.Until), n.Options.MaxLoops)
	case n.Branch != nil:
		def := "none"
		if n.Branch.HasDefault {
			def = strconv.Quote(n.Options.Default.Name)
		}
		add("chooser: %s, keys: %s, default: %s", funcName(n.Branch.Chooser), strings.Join(n.Branch.Keys, ", "), def)
	case n.Map != nil:
		add("elements at once: %d", n.Options.Concurrency)
	}
	if n.Kind != analysis.KindMap && !n.Kind.Leaf() && n.Options.Timeout > 0 {
		add("timeout of the whole run: %v", n.Options.Timeout)
	}
	for i, c := range n.Children {
		l := ""
		switch {
		case n.Branch != nil && i < len(n.Branch.Keys):
			l = "case " + strconv.Quote(n.Branch.Keys[i])
		case n.Parallel != nil:
			l = "branch " + strconv.Itoa(i+1)
		case n.Loop != nil || n.Map != nil:
			l = "body"
		}
		x.Children = append(x.Children, explainNode(m, cfg, pipeline, c, l))
	}
	if n.Options.Default != nil {
		x.Children = append(x.Children, explainNode(m, cfg, pipeline, n.Options.Default, "default"))
	}
	if n.Options.Fallback != nil {
		x.Children = append(x.Children, explainNode(m, cfg, pipeline, n.Options.Fallback, "fallback"))
	}
	return x
}

// explainLeaf describes a leaf step with its effective settings: the
// declaration over the optimization section, then the flujo.json step
// override, by the rule both engines follow (runtime.ResolveStep). A value
// an override set names the override.
func explainLeaf(m *analysis.Model, cfg *schema.Config, pipeline string, n *analysis.Node, add func(string, ...any)) {
	s := n.Step
	add("calls %s%s", funcName(s.Func), strings.TrimPrefix(shortType(s.Func.Signature), "func"))
	o := n.Options
	ov := n.Override
	if ov == nil {
		if x, ok := cfg.Step(pipeline, n.Name); ok {
			ov = &x
		}
	}
	if ov == nil {
		ov = &runtime.StepOverride{}
	}
	eff := runtime.ResolveStep(&cfg.Optimization, runtime.DeclaredStep{
		Retries: o.Retries, Timeout: o.Timeout, Cache: o.Cache, CacheTTL: o.CacheTTL,
	}, ov)
	src := fmt.Sprintf("from %s steps.%s", configBase(cfg), strconv.Quote(runtime.StepKey(pipeline, n.Name)))
	timeout := ""
	if eff.Timeout > 0 {
		timeout = fmt.Sprintf(", timeout %v per attempt", eff.Timeout)
		if ov.Timeout != nil {
			timeout += " (" + src + ")"
		}
	}
	retries := strconv.Itoa(eff.Attempts - 1)
	if ov.Retries != nil {
		retries += ", " + src
	}
	add("attempts: %d (retries %s)%s%s", eff.Attempts, retries, explainBackoff(o), timeout)
	if len(o.Validate) > 0 {
		names := make([]string, len(o.Validate))
		for i, v := range o.Validate {
			names[i] = funcName(v)
		}
		add("validators: %s", strings.Join(names, ", "))
	}
	// The breaker's settings are the optimization section's unless the
	// step overrides them; only then are they the step's own.
	if ov.CircuitBreakerFailureThreshold != nil || ov.CircuitBreakerRecoveryTimeoutSeconds != nil {
		state := "on"
		if !eff.Breaker {
			state = "off (enable_circuit_breaker is false)"
		}
		add("breaker: %s, opens after %d consecutive failures, probes after %v (%s)", state, eff.BreakerFailureThreshold, eff.BreakerRecoveryTimeout, src)
	}
	if o.BreakerCounts != nil {
		add("breaker counts: the failed attempts %s says count (BreakerCounts), in place of flujo.CountsAsBreakerFailure", funcName(*o.BreakerCounts))
	}
	declared := o.Cache
	if ov.Cache != nil {
		declared = *ov.Cache
	}
	ttl := eff.CacheTTL
	cacheFrom := ""
	if ov.Cache != nil || ov.CacheTTLSeconds != nil {
		cacheFrom = " (" + src + ")"
	}
	switch {
	case !s.Cacheable:
		add("cache: not possible: %s", s.CacheReason)
	case declared && !cfg.Optimization.EnableCacheOptimization:
		// The executors cache nothing then: say so, or the reader
		// believes the step is cached.
		add("cache: off: requested%s, but enable_cache_optimization is false in %s", cacheFrom, configSource(cfg))
	case eff.Cache:
		add("cache: on, for %s; key: fingerprint and hash of the input%s", ttl, cacheFrom)
	default:
		add("cache: off (possible)%s", cacheFrom)
	}
	on := eff.Cache
	if on && s.Hash != nil && s.Hash.Hashable {
		add("input hash: %s", explainHash(s.Hash))
	}
	if on && s.Cacheable && s.Copy != nil {
		switch {
		case o.ImmutableOutput:
			add("cache hits: the stored value itself (ImmutableOutput)")
		case !s.Copy.NeedsCopy:
			add("cache hits: copied by assignment")
		default:
			add("cache hits: deep copy of %s", strings.Join(copyParts(s.Copy.Root, nil), ", "))
		}
	}
	if t := m.Types[s.Out.Type]; t != nil && t.Kind == analysis.TypeInterface {
		add("usage: reported by the output's value when it has a Usage method")
	} else if s.OutReportsUsage {
		add("usage: reported by the output (Usage method)")
	}
	if s.Writes != nil {
		add("state %s: %s", "*"+shortType(s.State.Type), explainWrites(true, s.Writes.All, s.Writes.Fields))
		for _, w := range s.Writes.Writes {
			what := w.Field
			if w.Kind == analysis.WriteAll {
				what = "everything"
			}
			line := fmt.Sprintf("  writes %s (%s %s) at %s", what, w.Kind, w.Path, w.Pos)
			if w.Reason != "" {
				line += ": " + w.Reason
			}
			add("%s", line)
		}
	}
}

func explainBackoff(o analysis.Options) string {
	if o.BackoffInitial == 0 && o.BackoffMax == 0 {
		return ""
	}
	return fmt.Sprintf(", backoff %v doubling up to %v", o.BackoffInitial, o.BackoffMax)
}

func explainTimeout(o analysis.Options) string {
	if o.Timeout == 0 {
		return ""
	}
	return fmt.Sprintf(", timeout %v per attempt", o.Timeout)
}

func explainWrites(reads, all bool, fields []string) string {
	switch {
	case !reads:
		return "does not use the state"
	case all:
		return "may write every field"
	case len(fields) == 0:
		return "reads the state, writes nothing"
	}
	return "writes " + strings.Join(fields, ", ")
}

// explainHash lists how each leaf of the input is hashed.
func explainHash(p *analysis.HashPlan) string {
	var parts []string
	var walk func(n *analysis.HashNode)
	walk = func(n *analysis.HashNode) {
		if n == nil {
			return
		}
		switch n.How {
		case analysis.HashStruct:
			for _, f := range n.Fields {
				walk(f.Plan)
			}
			if len(n.Fields) == 0 {
				parts = append(parts, n.Path+" (empty)")
			}
		case analysis.HashArray, analysis.HashSlice, analysis.HashPointer:
			walk(n.Elem)
		case analysis.HashMap:
			walk(n.Key)
			walk(n.Elem)
		default:
			parts = append(parts, n.Path+" "+string(n.How))
		}
	}
	walk(p.Root)
	const most = 8
	if len(parts) > most {
		parts = append(parts[:most], fmt.Sprintf("and %d more", len(parts)-most))
	}
	s := strings.Join(parts, ", ")
	if p.Reflective {
		s += " (interfaces through the reflective hasher)"
	}
	return s
}

// copyParts lists the reference-typed parts a deep copy duplicates.
func copyParts(n *analysis.CopyNode, out []string) []string {
	if n == nil {
		return out
	}
	switch n.How {
	case analysis.CopyStruct, analysis.CopyArray:
		for _, f := range n.Fields {
			out = copyParts(f.Plan, out)
		}
		if n.How == analysis.CopyArray {
			out = copyParts(n.Elem, out)
		}
		return out
	case analysis.CopyValue, analysis.CopyShared:
		return out
	}
	return append(out, n.Path)
}
