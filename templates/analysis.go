package templates

import (
	"bytes"
	"strings"
	"text/template"
)

// ExplainData is what the explain report shows: the analysis of each
// package, already reduced to text.
type ExplainData struct {
	Packages []ExplainPackage
}

// ExplainPackage is one analysed package.
type ExplainPackage struct {
	Path, Dir string
	Pipelines []ExplainPipeline
	// Skipped are "position: reason" notes on package-level nodes that
	// get no generated executor.
	Skipped []string
	// Notes are "position: message" remarks of the analysis that are not
	// errors (analysis.Package.Notes).
	Notes []string
	// Distributed describes the configuration's distributed section, its
	// password redacted; empty without one.
	Distributed string
}

// ExplainPipeline is one pipeline variable.
type ExplainPipeline struct {
	Var, Name, Pos string
	In, Out, State string // State is empty without StepS
	Steps          int
	UsedBy         []string
	Root           ExplainNode
}

// ExplainNode is one node and what the analysis found about it.
type ExplainNode struct {
	// Label says how the parent runs the node, such as `case "urgent"`,
	// "fallback" or "default"; empty for a plain child.
	Label                         string
	Kind, Name, Pos, Var, In, Out string
	// Options are the options as declared, such as "Retries(2)".
	Options []string
	// Details are "topic: text" lines.
	Details  []string
	Children []ExplainNode
}

// Explain renders the text report of `flujogen explain`.
func Explain(d ExplainData) ([]byte, error) {
	return renderAnalysis("explain.txt.tmpl", d)
}

// Graph is a drawing of pipelines: nested clusters of nodes, and edges.
type Graph struct {
	Clusters []GraphCluster
	Edges    []GraphEdge
}

// GraphCluster is a group of nodes drawn in a box: a pipeline, or a
// composite node within one.
type GraphCluster struct {
	ID, Label string
	Nodes     []GraphNode
	Clusters  []GraphCluster
}

// GraphNode is one box of the drawing. Shape is "box", "round" (a
// function step), "diamond" (a decision) or "circle" (a fork or join).
type GraphNode struct {
	ID, Label, Shape string
}

// GraphEdge connects two nodes; Dashed edges are fallbacks and loop backs.
type GraphEdge struct {
	From, To, Label string
	Dashed          bool
}

// Mermaid renders g as a Mermaid flowchart.
func Mermaid(g Graph) ([]byte, error) {
	return renderAnalysis("graph.mmd.tmpl", g)
}

// DOT renders g as a Graphviz digraph.
func DOT(g Graph) ([]byte, error) {
	return renderAnalysis("graph.dot.tmpl", g)
}

// renderAnalysis executes one of the analysis templates, which recurse
// through nested nodes and clusters.
func renderAnalysis(name string, data any) ([]byte, error) {
	t, err := template.New(name).Funcs(template.FuncMap{
		// nest pairs a value with the indentation of its level.
		"nest": func(v any, indent string) map[string]any {
			return map[string]any{"V": v, "I": indent}
		},
		"join": strings.Join,
		// mermaid quotes a label for a Mermaid node or edge.
		"mermaid": func(s string) string {
			return strings.NewReplacer(`"`, "#quot;", "\n", "<br/>", "<", "#lt;", ">", "#gt;", "|", "#124;").Replace(s)
		},
		// dot quotes a string for Graphviz, quotes included.
		"dot": func(s string) string {
			return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
		},
	}).ParseFS(files, name)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
