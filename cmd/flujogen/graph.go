package main

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/flujo/flujo/internal/analysis"
	"github.com/flujo/flujo/templates"
)

func graphCommand() command {
	return command{
		name:    "graph",
		args:    "[-format mermaid|dot] [PACKAGES]",
		summary: "draw the pipelines as a Mermaid or Graphviz graph",
		help: `Graph loads the PACKAGES (default: .) like explain and prints every pipeline
as a flowchart: Mermaid (the default, rendered by GitHub and most Markdown
viewers) or Graphviz DOT (render with: dot -Tsvg). Composite nodes are boxes
around their children; decisions are diamonds, parallel forks and joins
circles, fallbacks and loop backs dashed edges.

Mistakes in the declarations are listed together, sorted by position, and the
command exits 1.`,
		flags: func(fs *flag.FlagSet) func(*cli, []string) int {
			format := fs.String("format", "mermaid", "output format: mermaid or dot")
			return func(c *cli, args []string) int { return runGraph(c, *format, args) }
		},
	}
}

func runGraph(c *cli, format string, patterns []string) int {
	cmd := graphCommand()
	var render func(templates.Graph) ([]byte, error)
	switch format {
	case "mermaid":
		render = templates.Mermaid
	case "dot":
		render = templates.DOT
	default:
		return c.usageError(cmd, "unknown -format %q: use mermaid or dot", format)
	}
	m, code := c.analyseForReport(cmd, patterns)
	if m == nil {
		return code
	}
	out, err := render(buildGraph(m))
	if err != nil {
		return c.errorf(cmd, "%v", err)
	}
	c.stdout.Write(out)
	return exitOK
}

// graphBuilder lays out the pipelines of a model as clusters and edges.
type graphBuilder struct {
	g      templates.Graph
	prefix string // of the current pipeline's identifiers
}

// buildGraph draws every pipeline of every package, each in a cluster.
func buildGraph(m *analysis.Model) templates.Graph {
	b := &graphBuilder{}
	k := 0
	for _, p := range m.Packages {
		for _, pl := range p.Pipelines {
			b.prefix = "p" + strconv.Itoa(k)
			k++
			c := templates.GraphCluster{ID: b.prefix, Label: fmt.Sprintf("%s.%s: %s", p.Name, pl.Var, pl.Name)}
			if r := pl.Root; r.Kind == analysis.KindPipeline && r.Options.Fallback == nil {
				b.chain(&c, r.Children) // the variable's box is the pipeline's
			} else {
				b.node(&c, r)
			}
			b.g.Clusters = append(b.g.Clusters, c)
		}
	}
	return b.g
}

func (b *graphBuilder) id(n *analysis.Node, suffix string) string {
	return b.prefix + "n" + strconv.Itoa(n.ID) + suffix
}

func (b *graphBuilder) edge(from, to, label string, dashed bool) {
	b.g.Edges = append(b.g.Edges, templates.GraphEdge{From: from, To: to, Label: label, Dashed: dashed})
}

// connect draws edges from every exit to an entry.
func (b *graphBuilder) connect(exits []string, entry, label string) {
	for _, e := range exits {
		b.edge(e, entry, label, false)
	}
}

// chain draws nodes in sequence into c.
func (b *graphBuilder) chain(c *templates.GraphCluster, nodes []*analysis.Node) (entry string, exits []string) {
	for i, ch := range nodes {
		e, x := b.node(c, ch)
		if i == 0 {
			entry = e
		} else {
			b.connect(exits, e, "")
		}
		exits = x
	}
	return entry, exits
}

// node draws n into c and returns the node where it starts and the nodes
// where it ends.
func (b *graphBuilder) node(c *templates.GraphCluster, n *analysis.Node) (string, []string) {
	if n == nil {
		return "", nil
	}
	var entry string
	var exits []string
	switch {
	case n.Kind.Leaf():
		shape := "box"
		if n.Kind == analysis.KindFunc {
			shape = "round"
		}
		label := n.Name + "\n" + funcName(n.Step.Func)
		if n.Options.Cache {
			label += "\ncached"
		}
		entry = b.id(n, "")
		exits = []string{entry}
		c.Nodes = append(c.Nodes, templates.GraphNode{ID: entry, Label: label, Shape: shape})
	case n.Kind == analysis.KindPipeline:
		sub := templates.GraphCluster{ID: b.id(n, ""), Label: "pipeline " + n.Name}
		entry, exits = b.chain(&sub, n.Children)
		c.Clusters = append(c.Clusters, sub)
	case n.Kind == analysis.KindParallel:
		sub := templates.GraphCluster{ID: b.id(n, ""), Label: "parallel " + n.Name + " (" + n.Options.Merge + ")"}
		entry = b.id(n, "_fork")
		join := b.id(n, "_join")
		sub.Nodes = append(sub.Nodes, templates.GraphNode{ID: entry, Label: "fork", Shape: "circle"})
		for _, ch := range n.Children {
			e, x := b.node(&sub, ch)
			b.edge(entry, e, "", false)
			b.connect(x, join, "")
		}
		sub.Nodes = append(sub.Nodes, templates.GraphNode{ID: join, Label: "join\n" + funcName(n.Parallel.Join), Shape: "circle"})
		exits = []string{join}
		c.Clusters = append(c.Clusters, sub)
	case n.Kind == analysis.KindLoop:
		sub := templates.GraphCluster{ID: b.id(n, ""), Label: "loop " + n.Name + " (at most " + strconv.Itoa(n.Options.MaxLoops) + ")"}
		e, x := b.node(&sub, n.Children[0])
		until := b.id(n, "_until")
		sub.Nodes = append(sub.Nodes, templates.GraphNode{ID: until, Label: "until\n" + funcName(n.Loop.Until), Shape: "diamond"})
		b.connect(x, until, "")
		b.edge(until, e, "again", true)
		entry, exits = e, []string{until}
		c.Clusters = append(c.Clusters, sub)
	case n.Kind == analysis.KindBranch:
		sub := templates.GraphCluster{ID: b.id(n, ""), Label: "branch " + n.Name}
		entry = b.id(n, "_choose")
		sub.Nodes = append(sub.Nodes, templates.GraphNode{ID: entry, Label: "choose\n" + funcName(n.Branch.Chooser), Shape: "diamond"})
		for i, ch := range n.Children {
			e, x := b.node(&sub, ch)
			b.edge(entry, e, n.Branch.Keys[i], false)
			exits = append(exits, x...)
		}
		if d := n.Options.Default; d != nil {
			e, x := b.node(&sub, d)
			b.edge(entry, e, "default", false)
			exits = append(exits, x...)
		}
		c.Clusters = append(c.Clusters, sub)
	case n.Kind == analysis.KindMap:
		sub := templates.GraphCluster{ID: b.id(n, ""), Label: "map " + n.Name + " (" + strconv.Itoa(n.Options.Concurrency) + " at once)"}
		entry = b.id(n, "_each")
		gather := b.id(n, "_gather")
		sub.Nodes = append(sub.Nodes, templates.GraphNode{ID: entry, Label: "each element", Shape: "circle"})
		e, x := b.node(&sub, n.Children[0])
		b.edge(entry, e, "", false)
		b.connect(x, gather, "")
		sub.Nodes = append(sub.Nodes, templates.GraphNode{ID: gather, Label: "gather", Shape: "circle"})
		exits = []string{gather}
		c.Clusters = append(c.Clusters, sub)
	}
	if fb := n.Options.Fallback; fb != nil {
		e, x := b.node(c, fb)
		b.edge(entry, e, "fallback", true)
		exits = append(exits, x...)
	}
	return entry, exits
}
