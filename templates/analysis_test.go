package templates

import (
	"strings"
	"testing"
)

func sampleGraph() Graph {
	return Graph{
		Clusters: []GraphCluster{{
			ID: "p0", Label: `shop.Triage: "triage" <v2>`,
			Nodes: []GraphNode{
				{ID: "p0n1", Label: "classify\nshop.Classify", Shape: "box"},
				{ID: "p0n2", Label: "choose|route", Shape: "diamond"},
			},
			Clusters: []GraphCluster{{ID: "p0n3", Label: "parallel enrich", Nodes: []GraphNode{
				{ID: "p0n3_fork", Label: "fork", Shape: "circle"},
				{ID: "p0n4", Label: "tidy", Shape: "round"},
			}}},
		}},
		Edges: []GraphEdge{
			{From: "p0n1", To: "p0n2"},
			{From: "p0n2", To: "p0n3_fork", Label: `"urgent"`},
			{From: "p0n4", To: "p0n1", Label: "fallback", Dashed: true},
		},
	}
}

func TestMermaid(t *testing.T) {
	out, err := Mermaid(sampleGraph())
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		"flowchart TD\n",
		`  subgraph p0["shop.Triage: #quot;triage#quot; #lt;v2#gt;"]`,
		`    p0n1["classify<br/>shop.Classify"]`,
		`    p0n2{"choose#124;route"}`,
		`    subgraph p0n3["parallel enrich"]`,
		`      p0n3_fork(("fork"))`,
		`      p0n4("tidy")`,
		"    end\n  end\n",
		"  p0n1 --> p0n2\n",
		`  p0n2 -->|"#quot;urgent#quot;"| p0n3_fork`,
		`  p0n4 -.->|"fallback"| p0n1`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("Mermaid output lacks %q:\n%s", want, s)
		}
	}
}

func TestDOT(t *testing.T) {
	out, err := DOT(sampleGraph())
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		"digraph flujo {\n",
		`  subgraph "cluster_p0" {`,
		`    label="shop.Triage: \"triage\" <v2>";`,
		`    p0n1 [label="classify\nshop.Classify"];`,
		`    p0n2 [label="choose|route", shape=diamond];`,
		`      p0n3_fork [label="fork", shape=circle];`,
		`      p0n4 [label="tidy", style=rounded];`,
		"  p0n1 -> p0n2;\n",
		`  p0n2 -> p0n3_fork [label="\"urgent\""];`,
		`  p0n4 -> p0n1 [label="fallback", style=dashed];`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("DOT output lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "{") != strings.Count(s, "}") {
		t.Errorf("unbalanced braces:\n%s", s)
	}
}

func TestExplain(t *testing.T) {
	d := ExplainData{Packages: []ExplainPackage{
		{Path: "example.com/empty"},
		{Path: "example.com/shop", Pipelines: []ExplainPipeline{{
			Var: "Triage", Name: "triage", Pos: "shop.go:3:5", In: "shop.Ticket", Out: "shop.Routed",
			State: "*shop.State", Steps: 1, UsedBy: []string{"Big"},
			Root: ExplainNode{Kind: "Pipeline", Name: "triage", Pos: "shop.go:3:14", In: "shop.Ticket", Out: "shop.Routed",
				Children: []ExplainNode{{
					Label: `case "urgent"`, Kind: "Step", Name: "page", Var: "Pager", Pos: "shop.go:4:2",
					In: "shop.Ticket", Out: "shop.Routed", Options: []string{"Retries(2)", "Cache()"},
					Details: []string{"calls shop.Page"},
				}},
			},
		}}},
	}}
	out, err := Explain(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `package example.com/empty
  no pipelines

package example.com/shop

pipeline Triage ("triage")  shop.go:3:5
  shop.Ticket -> shop.Routed, state *shop.State, 1 step
  used by Big
  Pipeline "triage"  shop.go:3:14
    shop.Ticket -> shop.Routed
      case "urgent": Step "page" (var Pager)  shop.go:4:2
        shop.Ticket -> shop.Routed
        options: Retries(2), Cache()
        calls shop.Page
`
	if string(out) != want {
		t.Errorf("Explain:\n%s\nwant:\n%s", out, want)
	}
}
