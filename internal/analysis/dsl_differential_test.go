package analysis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/internal/dsl"
)

// diffFuncsFile holds the functions the differential declarations call:
// the reflective checker calls them compiled in this test, the analysis
// reads the same file as a source of the declarations' package.
const diffFuncsFile = "dsl_differential_funcs_test.go"

// diffPrelude returns diffFuncsFile as a file of package pkg.
func diffPrelude(t *testing.T, pkg string) []byte {
	t.Helper()
	data, err := os.ReadFile(diffFuncsFile)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(data, []byte("package analysis"), []byte("package "+pkg), 1)
}

// diffOption is an option written twice: as a value for the reflective
// checker and as source for the analysis.
type diffOption struct {
	opt flujo.Option
	src string
	// v is the option's arguments as the rule table reads them.
	v dsl.Value
}

// diffNode declares a node named "n" of kind k with the option: the
// reflective node (nil when building it panics, with the problems) and
// the source.
func diffNode(k dsl.Kind, o diffOption) (build func() flujo.Node, src string) {
	body := func() flujo.Node { return flujo.Step("n1", diffEdit) }
	const bodySrc = `flujo.Step("n1", diffEdit)`
	switch k {
	case dsl.Step:
		return func() flujo.Node { return flujo.Step("n", diffEdit, o.opt) }, `flujo.Step("n", diffEdit, ` + o.src + `)`
	case dsl.StepS:
		return func() flujo.Node { return flujo.StepS("n", diffMarkI, o.opt) }, `flujo.StepS("n", diffMarkI, ` + o.src + `)`
	case dsl.Func:
		return func() flujo.Node { return flujo.Func("n", diffUpper, o.opt) }, `flujo.Func("n", diffUpper, ` + o.src + `)`
	case dsl.Pipeline:
		return func() flujo.Node { return flujo.Pipeline("n", body()).With(o.opt) }, `flujo.Pipeline("n", ` + bodySrc + `).With(` + o.src + `)`
	case dsl.Parallel:
		return func() flujo.Node {
				return flujo.Parallel("n", diffPair, body(), flujo.Step("n2", diffEdit)).With(o.opt)
			},
			`flujo.Parallel("n", diffPair, ` + bodySrc + `, flujo.Step("n2", diffEdit)).With(` + o.src + `)`
	case dsl.Loop:
		return func() flujo.Node { return flujo.Loop("n", body(), diffDone, o.opt) }, `flujo.Loop("n", ` + bodySrc + `, diffDone, ` + o.src + `)`
	case dsl.Branch:
		return func() flujo.Node { return flujo.Branch("n", diffPick, map[string]flujo.Node{"x": body()}, o.opt) },
			`flujo.Branch("n", diffPick, map[string]flujo.Node{"x": ` + bodySrc + `}, ` + o.src + `)`
	case dsl.Map:
		return func() flujo.Node { return flujo.Map[string, string]("n", body(), o.opt) }, `flujo.Map[string, string]("n", ` + bodySrc + `, ` + o.src + `)`
	}
	panic("unknown kind")
}

// diffCase is one broken declaration and the problem the rule table says
// both checkers report for it.
type diffCase struct {
	rule  string
	build func() flujo.Node
	src   string
	want  []string
}

// validOptions has, for every option of the rule table, a value it
// accepts; invalidOptions one it rejects, where it rejects values; and
// nilOptions a nil argument, where it takes a function or a node.
var (
	validOptions = map[dsl.Option]diffOption{
		dsl.Retries:         {flujo.Retries(2), "flujo.Retries(2)", dsl.Value{N: 2}},
		dsl.Backoff:         {flujo.Backoff(time.Millisecond, time.Second), "flujo.Backoff(time.Millisecond, time.Second)", dsl.Value{D1: time.Millisecond, D2: time.Second}},
		dsl.Timeout:         {flujo.Timeout(time.Second), "flujo.Timeout(time.Second)", dsl.Value{D1: time.Second}},
		dsl.Fallback:        {flujo.Fallback(flujo.Step("fb", diffEdit)), `flujo.Fallback(flujo.Step("fb", diffEdit))`, dsl.Value{Node: "fb"}},
		dsl.Cache:           {flujo.Cache(), "flujo.Cache()", dsl.Value{}},
		dsl.CacheTTL:        {flujo.CacheTTL(time.Minute), "flujo.CacheTTL(time.Minute)", dsl.Value{D1: time.Minute}},
		dsl.ImmutableOutput: {flujo.ImmutableOutput(), "flujo.ImmutableOutput()", dsl.Value{}},
		dsl.Validate:        {flujo.Validate(diffCheck), "flujo.Validate(diffCheck)", dsl.Value{Type: "string"}},
		dsl.Merge:           {flujo.Merge(flujo.KeepFirst), "flujo.Merge(flujo.KeepFirst)", dsl.Value{N: 2}},
		dsl.OnBranchFailure: {flujo.OnBranchFailure(flujo.Ignore), "flujo.OnBranchFailure(flujo.Ignore)", dsl.Value{N: 1}},
		dsl.MaxLoops:        {flujo.MaxLoops(3), "flujo.MaxLoops(3)", dsl.Value{N: 3}},
		dsl.Default:         {flujo.Default(flujo.Step("d", diffEdit)), `flujo.Default(flujo.Step("d", diffEdit))`, dsl.Value{Node: "d"}},
		dsl.Concurrency:     {flujo.Concurrency(2), "flujo.Concurrency(2)", dsl.Value{N: 2}},
		dsl.BreakerCounts:   {flujo.BreakerCounts(diffCounts), "flujo.BreakerCounts(diffCounts)", dsl.Value{}},
	}
	invalidOptions = map[dsl.Option][]diffOption{
		dsl.Retries: {{flujo.Retries(-1), "flujo.Retries(-1)", dsl.Value{N: -1}}},
		dsl.Backoff: {
			{flujo.Backoff(2*time.Second, time.Second), "flujo.Backoff(2*time.Second, time.Second)", dsl.Value{D1: 2 * time.Second, D2: time.Second}},
			{flujo.Backoff(-time.Second, time.Second), "flujo.Backoff(-time.Second, time.Second)", dsl.Value{D1: -time.Second, D2: time.Second}},
		},
		dsl.Timeout:         {{flujo.Timeout(0), "flujo.Timeout(0)", dsl.Value{}}},
		dsl.CacheTTL:        {{flujo.CacheTTL(-time.Second), "flujo.CacheTTL(-time.Second)", dsl.Value{D1: -time.Second}}},
		dsl.Merge:           {{flujo.Merge(flujo.MergeStrategy(7)), "flujo.Merge(flujo.MergeStrategy(7))", dsl.Value{N: 7}}},
		dsl.OnBranchFailure: {{flujo.OnBranchFailure(flujo.BranchFailurePolicy(5)), "flujo.OnBranchFailure(flujo.BranchFailurePolicy(5))", dsl.Value{N: 5}}},
		dsl.MaxLoops:        {{flujo.MaxLoops(0), "flujo.MaxLoops(0)", dsl.Value{}}},
		dsl.Concurrency:     {{flujo.Concurrency(0), "flujo.Concurrency(0)", dsl.Value{}}},
	}
	nilOptions = map[dsl.Option]diffOption{
		dsl.Fallback:      {flujo.Fallback(nil), "flujo.Fallback(nil)", dsl.Value{Nil: true}},
		dsl.Default:       {flujo.Default(nil), "flujo.Default(nil)", dsl.Value{Nil: true}},
		dsl.Validate:      {flujo.Validate[string](nil), "flujo.Validate[string](nil)", dsl.Value{Nil: true}},
		dsl.BreakerCounts: {flujo.BreakerCounts(nil), "flujo.BreakerCounts(nil)", dsl.Value{Nil: true}},
	}
)

// diffCases walks the rule table: for every option, a node it does not
// apply to, each value it rejects and a nil argument, then the other
// shared rules.
func diffCases(t *testing.T) []diffCase {
	var cases []diffCase
	add := func(rule string, k dsl.Kind, o diffOption, msg string) {
		build, src := diffNode(k, o)
		cases = append(cases, diffCase{rule: rule, build: build, src: src, want: []string{dsl.Describe(k, "n") + ": " + msg}})
	}
	for o := dsl.Retries; int(o) < len(dsl.Rules); o++ {
		r := dsl.Rules[o]
		valid, ok := validOptions[o]
		if !ok {
			t.Errorf("%s: no valid value to test with; add one to validOptions", o)
			continue
		}
		if got := valid.opt.String(); got != o.Text(valid.v) {
			t.Errorf("%s: flujo.Option.String %q, the table's Text %q", o, got, o.Text(valid.v))
		}
		for k := dsl.Step; k <= dsl.Map; k++ {
			if !o.AppliesTo(k) {
				add(o.String()+" on a "+k.String(), k, valid, dsl.NotApplicable(o, k))
			}
		}
		checksValues := r.Args == dsl.IntArg || r.Args == dsl.DurationArg || r.Args == dsl.DurationsArg || r.Args == dsl.MergeArg || r.Args == dsl.PolicyArg
		if bad := invalidOptions[o]; checksValues && len(bad) == 0 {
			t.Errorf("%s: no rejected value to test with; add one to invalidOptions", o)
		}
		for _, bad := range invalidOptions[o] {
			msg := dsl.Invalid(o, bad.v)
			if msg == "" {
				t.Errorf("%s: the table accepts %s", o, bad.src)
				continue
			}
			add(bad.src, r.Kinds[0], bad, msg)
		}
		if takesNil := r.Args == dsl.NodeArg || r.Args == dsl.FuncArg; takesNil {
			n, ok := nilOptions[o]
			if !ok {
				t.Errorf("%s: no nil argument to test with; add one to nilOptions", o)
				continue
			}
			add(n.src, r.Kinds[0], n, dsl.NilArg(o))
		}
	}

	// The other shared rules.
	type node = func() flujo.Node
	shared := func(rule string, build node, src string, want ...string) {
		cases = append(cases, diffCase{rule, build, src, want})
	}
	step := func(name string) flujo.Node { return flujo.Step(name, diffEdit) }
	shared("empty name", func() flujo.Node { return step("") }, `flujo.Step("", diffEdit)`,
		dsl.Describe(dsl.Step, "")+": "+dsl.NameEmpty)
	shared("blank name", func() flujo.Node { return flujo.Pipeline("p", step(" \t")) }, `flujo.Pipeline("p", flujo.Step(" \t", diffEdit))`,
		dsl.Describe(dsl.Step, " \t")+": "+dsl.NameBlank)
	shared("duplicate name", func() flujo.Node { return flujo.Pipeline("p", step("a"), step("a")) },
		`flujo.Pipeline("p", flujo.Step("a", diffEdit), flujo.Step("a", diffEdit))`,
		`step "a": `+dsl.DuplicateName("a", `step "a"`, "", `pipeline "p"`))
	shared("two state types", func() flujo.Node {
		return flujo.Pipeline("p", flujo.StepS("a", diffMarkI), flujo.StepS("b", diffMarkS))
	},
		`flujo.Pipeline("p", flujo.StepS("a", diffMarkI), flujo.StepS("b", diffMarkS))`,
		`step "b": `+dsl.TwoStates("string", `step "a"`, "", "int"))
	shared("zero Option", func() flujo.Node { return flujo.Step("z", diffEdit, flujo.Option{}) },
		`flujo.Step("z", diffEdit, flujo.Option{})`,
		`step "z": `+dsl.ZeroOption)
	shared("Validate of another type", func() flujo.Node { return flujo.Step("v", diffEdit, flujo.Validate(diffCheckInt)) },
		`flujo.Step("v", diffEdit, flujo.Validate(diffCheckInt))`,
		`step "v": `+dsl.ValidateType("int", "string"))
	shared("fallback of other types", func() flujo.Node { return flujo.Step("s", diffEdit, flujo.Fallback(flujo.Step("f", diffSize))) },
		`flujo.Step("s", diffEdit, flujo.Fallback(flujo.Step("f", diffSize)))`,
		`step "s": `+dsl.FallbackTypes("f", "string", "int", "string", "string"))
	shared("concurrent Map over state", func() flujo.Node {
		return flujo.Map[string, string]("m", flujo.StepS("s", diffMarkI), flujo.Concurrency(2))
	},
		`flujo.Map[string, string]("m", flujo.StepS("s", diffMarkI), flujo.Concurrency(2))`,
		`map "m": `+dsl.ConcurrentState(2))
	shared("output does not fit the next input", func() flujo.Node { return flujo.Pipeline("p", flujo.Step("a", diffSize), step("b")) },
		`flujo.Pipeline("p", flujo.Step("a", diffSize), flujo.Step("b", diffEdit))`,
		`step "b": `+dsl.InputMismatch("string", `step "a"`, "int"))
	shared("branch input", func() flujo.Node { return flujo.Parallel("p", diffPairSI, step("a"), flujo.Step("b", diffInc)) },
		`flujo.Parallel("p", diffPairSI, flujo.Step("a", diffEdit), flujo.Step("b", diffInc))`,
		`step "b": `+dsl.BranchInput("int", `parallel "p"`, `step "a"`, "string"))
	shared("join parameter", func() flujo.Node { return flujo.Parallel("p", diffPair, step("a"), flujo.Step("b", diffSize)) },
		`flujo.Parallel("p", diffPair, flujo.Step("a", diffEdit), flujo.Step("b", diffSize))`,
		`step "b": `+dsl.JoinParam("int", 2, `parallel "p"`, "string"))
	shared("loop body", func() flujo.Node { return flujo.Loop("l", flujo.Step("s", diffSize), diffDone) },
		`flujo.Loop("l", flujo.Step("s", diffSize), diffDone)`,
		`step "s": `+dsl.LoopBody("string", "int", `loop "l"`, "string"))
	shared("map body", func() flujo.Node { return flujo.Map[int, int]("m", step("s")) },
		`flujo.Map[int, int]("m", flujo.Step("s", diffEdit))`,
		`step "s": `+dsl.MapBody("string", "string", `map "m"`, "int", "int"))
	shared("case input", func() flujo.Node {
		return flujo.Branch("b", diffPick, map[string]flujo.Node{"x": flujo.Step("s", diffInc)})
	},
		`flujo.Branch("b", diffPick, map[string]flujo.Node{"x": flujo.Step("s", diffInc)})`,
		`step "s": `+dsl.CaseInput(dsl.CaseLabel("x"), `branch "b"`, "int", "string"))
	shared("case output", func() flujo.Node {
		return flujo.Branch("b", diffPick, map[string]flujo.Node{"x": step("x"), "y": flujo.Step("y", diffSize)})
	},
		`flujo.Branch("b", diffPick, map[string]flujo.Node{"x": flujo.Step("x", diffEdit), "y": flujo.Step("y", diffSize)})`,
		`step "y": `+dsl.CaseOutput(dsl.CaseLabel("y"), `branch "b"`, "int", `step "x"`, "string"))
	shared("pipeline without steps", func() flujo.Node { return flujo.Pipeline("p") }, `flujo.Pipeline("p")`,
		`pipeline "p": `+dsl.NoSteps)
	shared("nil pipeline node", func() flujo.Node { return flujo.Pipeline("p", step("a"), nil) },
		`flujo.Pipeline("p", flujo.Step("a", diffEdit), nil)`,
		`pipeline "p": `+dsl.NodeNil(2))
	shared("parallel without branches", func() flujo.Node { return flujo.Parallel("p", diffPair) }, `flujo.Parallel("p", diffPair)`,
		`parallel "p": `+dsl.NoBranches, `parallel "p": `+dsl.JoinArity(2, 0))
	shared("nil branch", func() flujo.Node { return flujo.Parallel("p", diffPair, step("a"), nil) },
		`flujo.Parallel("p", diffPair, flujo.Step("a", diffEdit), nil)`,
		`parallel "p": `+dsl.BranchNil(2))
	shared("nil join", func() flujo.Node { return flujo.Parallel("p", nil, step("a")) },
		`flujo.Parallel("p", nil, flujo.Step("a", diffEdit))`,
		`parallel "p": `+dsl.JoinNil)
	shared("variadic join", func() flujo.Node { return flujo.Parallel("p", diffJoinV, step("a")) },
		`flujo.Parallel("p", diffJoinV, flujo.Step("a", diffEdit))`,
		`parallel "p": `+dsl.JoinVariadic)
	shared("join without result", func() flujo.Node { return flujo.Parallel("p", diffJoin0, step("a"), step("b")) },
		`flujo.Parallel("p", diffJoin0, flujo.Step("a", diffEdit), flujo.Step("b", diffEdit))`,
		`parallel "p": `+dsl.JoinResults("func(string, string)"))
	shared("nil loop body", func() flujo.Node { return flujo.Loop("l", nil, diffDone) }, `flujo.Loop("l", nil, diffDone)`,
		`loop "l": `+dsl.BodyNil)
	shared("nil map body", func() flujo.Node { return flujo.Map[string, string]("m", nil) }, `flujo.Map[string, string]("m", nil)`,
		`map "m": `+dsl.BodyNil)
	shared("branch without cases", func() flujo.Node { return flujo.Branch("b", diffPick, map[string]flujo.Node{}) },
		`flujo.Branch("b", diffPick, map[string]flujo.Node{})`,
		`branch "b": `+dsl.NoCases)
	shared("nil case", func() flujo.Node { return flujo.Branch("b", diffPick, map[string]flujo.Node{"x": nil}) },
		`flujo.Branch("b", diffPick, map[string]flujo.Node{"x": nil})`,
		`branch "b": `+dsl.CaseNil(dsl.CaseLabel("x")))
	chain := []string{"deep"}
	src := `flujo.Step("f11", diffEdit)`
	for i := dsl.MaxFallbackDepth; i >= 1; i-- {
		src = fmt.Sprintf(`flujo.Step("f%d", diffEdit, flujo.Fallback(%s))`, i, src)
	}
	for i := 1; i <= dsl.MaxFallbackDepth+1; i++ {
		chain = append(chain, fmt.Sprintf("f%d", i))
	}
	cases = append(cases, diffCase{"fallback chain too deep",
		func() flujo.Node {
			n := flujo.Step("f11", diffEdit)
			for i := dsl.MaxFallbackDepth; i >= 1; i-- {
				n = flujo.Step(fmt.Sprintf("f%d", i), diffEdit, flujo.Fallback(n))
			}
			return flujo.Step("deep", diffEdit, flujo.Fallback(n))
		},
		`flujo.Step("deep", diffEdit, flujo.Fallback(` + src + `))`,
		[]string{`step "deep": ` + dsl.FallbackTooDeep(chain)}})
	return cases
}

// reflectiveProblems builds the declaration and returns the problems the
// DSL panics with.
func reflectiveProblems(build func() flujo.Node) (problems []string) {
	defer func() {
		if v := recover(); v != nil {
			var de *flujo.DeclarationError
			if err, ok := v.(error); ok && errors.As(err, &de) {
				problems = de.Problems
				return
			}
			panic(v)
		}
	}()
	build()
	return nil
}

// atPos is the position a message of the analysis names another node by.
var atPos = regexp.MustCompile(` at [^ ;]+:\d+:\d+`)

// TestDSLRulesDifferential proves that both checkers apply the rule table
// of internal/dsl in its words: for every option, a node it does not
// apply to, each value it rejects and a nil argument, and for the other
// shared rules, the reflective checker (the DSL's constructors) and the
// analysis of the same source report the table's message, and nothing
// else.
func TestDSLRulesDifferential(t *testing.T) {
	cases := diffCases(t)
	files := map[string][]byte{"dsldiff/prelude.go": diffPrelude(t, "dsldiff")}
	for i, c := range cases {
		files[fmt.Sprintf("dsldiff/c%03d.go", i)] = diffFile("dsldiff", fmt.Sprintf("C%03d", i), c.rule, c.src)
	}
	dir := tempModule(t, files)
	_, err := Load(context.Background(), LoadOptions{Dir: dir, Env: testEnv(), Patterns: []string{"./dsldiff"}})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want an ErrorList, got %v", err)
	}
	analysed := map[string][]string{}
	for _, e := range list {
		// The analysis names the node's other place (" at file:line:col")
		// and labels signature problems; the table's words follow.
		msg := atPos.ReplaceAllString(e.Msg, "")
		msg = strings.Replace(msg, ": unsupported signature: ", ": ", 1)
		analysed[e.File] = append(analysed[e.File], msg)
	}
	for i, c := range cases {
		file := fmt.Sprintf("dsldiff/c%03d.go", i)
		t.Run(c.rule, func(t *testing.T) {
			want := slices.Sorted(slices.Values(c.want))
			if got := slices.Sorted(slices.Values(reflectiveProblems(c.build))); !slices.Equal(got, want) {
				t.Errorf("reflective checker of %s:\n got %q\nwant %q", c.src, got, want)
			}
			if got := slices.Sorted(slices.Values(analysed[file])); !slices.Equal(got, want) {
				t.Errorf("analysis of %s:\n got %q\nwant %q", c.src, got, want)
			}
		})
		delete(analysed, file)
	}
	for file, msgs := range analysed {
		t.Errorf("%s: unexpected errors %q", file, msgs)
	}
}

// diffFile is a file of package pkg declaring the variable name as src.
func diffFile(pkg, name, comment, src string) []byte {
	return fmt.Appendf(nil, "package %s\n\nimport (\n\t\"time\"\n\n\t\"github.com/flujo/flujo\"\n)\n\nvar _ = time.Second\n\n// %s\nvar %s = %s\n", pkg, comment, name, src)
}

// TestDSLFingerprintDifferential proves that the analysis fingerprints a
// step as the reflective engine does: the table's Fingerprint of the
// step's kind, name and types and of each option as flujo.Option.String
// renders it, for every option a Step or Func takes.
func TestDSLFingerprintDifferential(t *testing.T) {
	type fpCase struct {
		src  string
		want string
	}
	var cases []fpCase
	var all []diffOption
	for o := dsl.Retries; int(o) < len(dsl.Rules); o++ {
		valid := validOptions[o]
		for _, k := range []dsl.Kind{dsl.Step, dsl.Func, dsl.StepS} {
			if !o.AppliesTo(k) {
				continue
			}
			_, src := diffNode(k, valid)
			cases = append(cases, fpCase{src, dsl.Fingerprint(k, "n", "string", "string", []string{valid.opt.String()})})
		}
		if o.AppliesTo(dsl.Step) {
			all = append(all, valid)
		}
	}
	var srcs, texts []string
	for _, o := range all {
		srcs, texts = append(srcs, o.src), append(texts, o.opt.String())
	}
	cases = append(cases, fpCase{`flujo.Step("n", diffEdit, ` + strings.Join(srcs, ", ") + `)`, dsl.Fingerprint(dsl.Step, "n", "string", "string", texts)})
	files := map[string][]byte{"dsldiffok/prelude.go": diffPrelude(t, "dsldiffok")}
	for i, c := range cases {
		files[fmt.Sprintf("dsldiffok/f%03d.go", i)] = diffFile("dsldiffok", fmt.Sprintf("F%03d", i), "fingerprint", c.src)
	}
	m, err := Load(context.Background(), LoadOptions{Dir: tempModule(t, files), Env: testEnv(), Patterns: []string{"./dsldiffok"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range m.Packages {
		for _, pl := range p.Pipelines {
			if pl.Root.Step == nil {
				t.Errorf("%s is not a leaf", pl.Var)
				continue
			}
			got[pl.Var] = pl.Root.Step.Fingerprint
		}
	}
	for i, c := range cases {
		if g := got[fmt.Sprintf("F%03d", i)]; g != c.want {
			t.Errorf("fingerprint of %s:\n got %q\nwant %q", c.src, g, c.want)
		}
	}
}
