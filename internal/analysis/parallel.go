package analysis

import (
	"slices"
	"strings"

	"github.com/flujo/flujo/internal/dsl"
)

// branchWrites is the union of the state writes of every StepS a branch
// may run, fallbacks and defaults included.
func (a *analyzer) branchWrites(br *nodeBuild) BranchWrites {
	bw := BranchWrites{Fields: []string{}}
	if br == nil {
		return bw
	}
	bw.Branch = br.name
	fields := map[string]bool{}
	br.walk(func(n *nodeBuild) {
		if n.kind != KindStepS {
			return
		}
		bw.ReadsState = true
		if n.fn == nil || n.fn.bad || n.fn.isNil {
			return
		}
		r := a.stateWrites(n.fn)
		if r.all {
			bw.All = true
		}
		for _, f := range r.fields(n.state) {
			fields[f] = true
		}
		bw.Writes = append(bw.Writes, r.writes...)
	})
	for f := range fields {
		bw.Fields = append(bw.Fields, f)
	}
	slices.Sort(bw.Fields)
	slices.SortStableFunc(bw.Writes, func(x, y StateWrite) int { return comparePos(x.Pos, y.Pos) })
	bw.Writes = slices.CompactFunc(bw.Writes, func(x, y StateWrite) bool { return x == y })
	return bw
}

// firstWrite returns the position of the branch's first write of field:
// its first write of the field, or its first write of everything.
func firstWrite(bw BranchWrites, field string) string { return firstWriteOf(bw, field).Pos }

// firstWriteOf returns the branch's first write of field, or of everything.
func firstWriteOf(bw BranchWrites, field string) StateWrite {
	for _, w := range bw.Writes {
		if w.Field == field {
			return w
		}
	}
	for _, w := range bw.Writes {
		if w.Kind == WriteAll {
			return w
		}
	}
	return StateWrite{}
}

// mergeAnalysis finds the fields several branches write and says what the
// merge strategy does with each written field.
func mergeAnalysis(bws []BranchWrites, strategy string) ([]Conflict, []FieldMerge) {
	writers := map[string][]int{}
	for i, bw := range bws {
		for _, f := range bw.Fields {
			writers[f] = append(writers[f], i)
		}
	}
	fields := make([]string, 0, len(writers))
	for f := range writers {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	var conflicts []Conflict
	var merges []FieldMerge
	for _, f := range fields {
		ws := writers[f]
		if len(ws) > 1 {
			c := Conflict{Field: f, Branches: ws}
			for _, i := range ws {
				c.Positions = append(c.Positions, firstWrite(bws[i], f))
			}
			switch strategy {
			case ErrorOnConflict:
				c.Resolution = "error"
			case KeepFirst:
				c.Resolution = "first"
			case NoMerge:
				c.Resolution = "discard"
			default:
				c.Resolution = "last"
			}
			conflicts = append(conflicts, c)
		}
		switch strategy {
		case NoMerge:
		case KeepFirst:
			merges = append(merges, FieldMerge{Field: f, From: ws[:1]})
		default:
			merges = append(merges, FieldMerge{Field: f, From: ws})
		}
	}
	return conflicts, merges
}

// conflicts notes, under ErrorOnConflict, every pair of branches that may
// write one state field, at the later branch. It is not an error: both
// engines compare each successful branch's copy with the original at run
// time and fail the Parallel only when two branches did change the field.
// The note quotes why each branch counts as writing it.
func (c *checker) conflicts(n *nodeBuild) {
	if dsl.MergeName(n.optN(dsl.Merge, 0)) != ErrorOnConflict {
		return
	}
	bws := make([]BranchWrites, len(n.children))
	for i, br := range n.children {
		bws[i] = c.a.branchWrites(br)
	}
	for j := range bws {
		for i := range j {
			var common []string
			for _, f := range bws[j].Fields {
				if slices.Contains(bws[i].Fields, f) {
					common = append(common, f)
				}
			}
			if len(common) == 0 {
				continue
			}
			bj, bi := n.children[j], n.children[i]
			what := "field " + common[0]
			if len(common) > 1 {
				what = "fields " + strings.Join(common, ", ")
			}
			c.a.notef(bj.use, "%s: may write state %s, which %s (branch %d of %s) may write too (%s; %s); %s merges with ErrorOnConflict, so a run in which both change it fails with *flujo.MergeConflictError, in both engines",
				bj.describe(), what, bi.describe(), i+1, n.describe(),
				writeCause(bi.describe(), bws[i], common[0]), writeCause(bj.describe(), bws[j], common[0]), n.describe())
		}
	}
}

// writeCause says why a branch counts as writing field: the position of
// its first write of it, and the analysis' reason when the write is
// assumed (a WriteAll).
func writeCause(who string, bw BranchWrites, field string) string {
	for _, w := range bw.Writes {
		if w.Field == field {
			if w.Reason != "" {
				// An assumed write, or one in another function: say why.
				return who + " may write it at " + w.Pos + ": " + w.Reason
			}
			return who + " writes it at " + w.Pos
		}
	}
	for _, w := range bw.Writes {
		if w.Kind == WriteAll {
			if w.Reason != "" {
				return who + " may write every field at " + w.Pos + ": " + w.Reason
			}
			return who + " may write every field at " + w.Pos
		}
	}
	return who + " may write it"
}

// optN returns the value of the node's last option of a kind, or def.
func (n *nodeBuild) optN(fn dsl.Option, def int64) int64 {
	if o := n.lastOpt(fn); o != nil && !o.bad {
		return o.n
	}
	return def
}
