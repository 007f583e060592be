package gen

import (
	"hash/fnv"
	"strconv"
	"strings"
	"unicode"

	"github.com/flujo/flujo/internal/analysis"
)

// Generated identifiers derive from names, never from counters or node
// IDs, so that a change to one step changes only the code of that step:
// a node's methods and fields are named after its step name, a type's
// helper functions after the type.
//
// A node's stem is its name in upper camel case ("classify-cheap" ->
// ClassifyCheap). Every identifier built from it has a lower-case prefix
// (runClassifyCheap, stepClassifyCheap, brkClassifyCheap...), so a stem
// never stands alone and Go keywords cannot clash. Stems that clash within
// a pipeline, because names repeat or camel-case alike, are qualified by
// the stems of their ancestors, nearest first, until they differ; nodes
// that still tie (same-named siblings under same-named ancestors) take
// their rank among the tied nodes, from 2. A clash therefore renames only
// the nodes that share the clashing name: adding or removing any other
// node renames nothing.

// nodeNames returns the stem of every node of the tree under root.
func nodeNames(root *analysis.Node) map[*analysis.Node]string {
	var order []*analysis.Node
	parent := map[*analysis.Node]*analysis.Node{}
	var walk func(n, p *analysis.Node)
	walk = func(n, p *analysis.Node) {
		if n == nil {
			return
		}
		order = append(order, n)
		parent[n] = p
		for _, ch := range n.Children {
			walk(ch, n)
		}
		walk(n.Options.Fallback, n)
		walk(n.Options.Default, n)
	}
	walk(root, nil)

	stem := make(map[*analysis.Node]string, len(order))
	up := make(map[*analysis.Node]*analysis.Node, len(order)) // next ancestor to qualify with
	for _, n := range order {
		s := upperCamel(n.Name)
		if s == "" {
			s = upperCamel(string(n.Kind))
		}
		if reservedStems[s] {
			s += upperCamel(string(n.Kind))
		}
		stem[n], up[n] = s, parent[n]
	}
	label := func(a *analysis.Node) string {
		if s := upperCamel(a.Name); s != "" {
			return s
		}
		return upperCamel(string(a.Kind))
	}
	// chain is the rest of n's ancestry, nearest first: what qualifying can
	// still add.
	chain := func(n *analysis.Node) string {
		var b strings.Builder
		for a := up[n]; a != nil; a = parent[a] {
			b.WriteString(label(a) + "/")
		}
		return b.String()
	}
	for {
		groups := map[string][]*analysis.Node{}
		for _, n := range order {
			groups[stem[n]] = append(groups[stem[n]], n)
		}
		var qualify []*analysis.Node
		for _, n := range order {
			g := groups[stem[n]]
			if len(g) < 2 || up[n] == nil {
				continue
			}
			// Qualify only when ancestry tells the clashing nodes apart.
			for _, o := range g {
				if chain(o) != chain(n) {
					qualify = append(qualify, n)
					break
				}
			}
		}
		if len(qualify) == 0 {
			break
		}
		for _, n := range qualify {
			a := up[n]
			stem[n], up[n] = label(a)+stem[n], parent[a]
		}
	}
	// Nodes tied up to the root: rank them in tree order.
	seen := map[string]int{}
	for _, n := range order {
		seen[stem[n]]++
		if k := seen[stem[n]]; k > 1 {
			stem[n] += strconv.Itoa(k)
		}
	}
	return stem
}

// reservedStems are stems that would make a node's identifier one the
// generator emits for itself (runLatency, the run latency histogram).
var reservedStems = map[string]bool{"Latency": true}

// upperCamel turns a step name into an identifier fragment: its runs of
// letters and digits, each starting with an upper-case letter ("a-b",
// "a_b" and "a b" all give AB; "2fa" gives N2fa). Other characters are
// dropped.
func upperCamel(name string) string {
	var b strings.Builder
	start := true
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			start = true
			continue
		}
		if b.Len() == 0 && unicode.IsDigit(r) {
			b.WriteByte('N')
		}
		if start {
			r = unicode.ToUpper(r)
			start = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// name returns the stem of n in its pipeline.
func (pg *pipelineGen) name(n *analysis.Node) string {
	if pg.names == nil {
		pg.names = nodeNames(pg.p.Root)
	}
	if s, ok := pg.names[n]; ok {
		return s
	}
	return upperCamel(n.Name) // not in the tree: never the case for generated code
}

// The identifiers of a node, all built from its stem.

// runName is the method that runs n, fallback included.
func (pg *pipelineGen) runName(n *analysis.Node) string { return "run" + pg.name(n) }

// call returns the call that runs n, fallback included, on in with the
// context ctx and the run r (a *Run) into the result res: a leaf without a
// fallback is a call of its kernel step, the rest a call of runName.
func (pg *pipelineGen) call(n *analysis.Node, ctx, in, r, res string) string {
	if n.Kind.Leaf() && n.Options.Fallback == nil {
		return pg.stepCall(n, ctx, in, r, res)
	}
	return "e." + pg.runName(n) + "(" + ctx + ", " + in + ", " + r + ", " + res + ")"
}

// stepCall returns the call of the leaf n's kernel step; see call.
func (pg *pipelineGen) stepCall(n *analysis.Node, ctx, in, r, res string) string {
	env, frame := "&"+r+".Eng.Env", r+".Frame()"
	if strings.HasPrefix(r, "&") { // the address of a Run value
		env, frame = r+".Eng.Env", r[1:]+".Frame()"
	}
	return "e." + pg.kstepName(n) + ".Run(" + ctx + ", " + env + ", " + in + ", " + frame + ", " + res + ")"
}

// stepName is the method that runs n without its fallback.
func (pg *pipelineGen) stepName(n *analysis.Node) string { return "primary" + pg.name(n) }

// bodyName is the method that runs a composite's composition.
func (pg *pipelineGen) bodyName(n *analysis.Node) string { return "body" + pg.name(n) }

// kstepName is the field holding a leaf's kernel step.
func (pg *pipelineGen) kstepName(n *analysis.Node) string { return "step" + pg.name(n) }

// brkName, cacheName and cntName are a leaf's breaker, cache and
// counters fields.
func (pg *pipelineGen) brkName(n *analysis.Node) string   { return "brk" + pg.name(n) }
func (pg *pipelineGen) cacheName(n *analysis.Node) string { return "cache" + pg.name(n) }
func (pg *pipelineGen) cntName(n *analysis.Node) string   { return "cnt" + pg.name(n) }

// conflictsName is the method that checks a Parallel's merge for
// conflicts.
func (pg *pipelineGen) conflictsName(n *analysis.Node) string { return "conflicts" + pg.name(n) }

// scratchName is the type of a Parallel's working space; package-level,
// so it carries the executor's name.
func (pg *pipelineGen) scratchName(n *analysis.Node) string {
	return "scratch" + pg.X + pg.name(n)
}

// partName is a Parallel's field in the pooled working space.
func (pg *pipelineGen) partName(n *analysis.Node) string { return "par" + pg.name(n) }

// typeIdent returns an identifier fragment naming the type key:
// TriageState, SliceString, MapStringInt, PtrTicket. A named type whose
// name another type of the model shares is qualified by its package's
// name (MainState); a key that still clashes, or that the model does not
// describe, carries a hash of the key. Neither depends on the order in
// which types are met.
func (g *generator) typeIdent(key string) string {
	if g.typeIdents == nil {
		plain, qual := map[string]int{}, map[string]int{}
		for k := range g.model.Types {
			plain[g.plainTypeIdent(k, false)]++
			qual[g.plainTypeIdent(k, true)]++
		}
		g.typeIdents = map[string]string{}
		for k := range g.model.Types {
			id := g.plainTypeIdent(k, false)
			if plain[id] > 1 {
				id = g.plainTypeIdent(k, true)
				if qual[id] > 1 {
					id += keyHash(k)
				}
			}
			g.typeIdents[k] = id
		}
	}
	if id, ok := g.typeIdents[key]; ok {
		return id
	}
	return upperCamel(key) + keyHash(key)
}

// keyHash is a short hash of a type key, to tell clashing names apart.
func keyHash(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return "_" + strconv.FormatUint(uint64(h.Sum32()), 36)
}

// plainTypeIdent spells the type key from its model description; with
// qualify, named types carry their package's name.
func (g *generator) plainTypeIdent(key string, qualify bool) string {
	return g.spellType(key, qualify, 0)
}

func (g *generator) spellType(key string, qualify bool, depth int) string {
	t, ok := g.model.Types[key]
	if !ok || depth > 8 {
		return upperCamel(key)
	}
	if t.Name != "" {
		id := upperCamel(t.Name)
		if qualify && t.PkgPath != "" {
			id = upperCamel(t.PkgPath[strings.LastIndex(t.PkgPath, "/")+1:]) + id
		}
		for _, a := range t.TypeArgs {
			id += g.spellType(a, qualify, depth+1)
		}
		return id
	}
	switch t.Kind {
	case analysis.TypePointer:
		return "Ptr" + g.spellType(t.Elem, qualify, depth+1)
	case analysis.TypeSlice:
		return "Slice" + g.spellType(t.Elem, qualify, depth+1)
	case analysis.TypeArray:
		return "Array" + strconv.FormatInt(t.Len, 10) + g.spellType(t.Elem, qualify, depth+1)
	case analysis.TypeMap:
		return "Map" + g.spellType(t.MapKey, qualify, depth+1) + g.spellType(t.Elem, qualify, depth+1)
	}
	return upperCamel(key)
}
