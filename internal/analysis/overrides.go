package analysis

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/flujo/flujo/internal/dsl"
	"github.com/flujo/flujo/schema"
)

// checkOverrides reports step overrides of the package's config that name
// one of the package's pipelines but none of its leaf steps: a misspelt
// key would otherwise change nothing, silently. Keys of pipelines declared
// elsewhere are left alone, since one flujo.json may serve several
// packages.
func (a *analyzer) checkOverrides(p *pkgInfo, decls []*varDecl, roots []*nodeBuild) {
	if p.config == nil || len(p.config.Steps) == 0 {
		return
	}
	// Leaf and composite node names per pipeline name; two variables may
	// declare pipelines of one name.
	leaves, composites := map[string]map[string]bool{}, map[string]map[string]*nodeBuild{}
	decl := map[string]position{} // the first declaration of each pipeline name
	for i, r := range roots {
		if leaves[r.name] == nil {
			leaves[r.name], composites[r.name] = map[string]bool{}, map[string]*nodeBuild{}
			decl[r.name] = a.pos(decls[i].name.Pos())
		}
		r.walk(func(n *nodeBuild) {
			switch n.kind {
			case KindStep, KindStepS, KindFunc:
				leaves[r.name][n.name] = true
			default:
				composites[r.name][n.name] = n
			}
		})
	}
	file := schema.DefaultFileName
	if p.config.Path != "" {
		file = a.display(p.config.Path)
	}
	for _, key := range p.config.StepKeys() {
		var names []string // the pipelines the key may belong to
		found := false
		for pipe := range leaves {
			step, ok := strings.CutPrefix(key, pipe+".")
			if !ok {
				continue
			}
			names = append(names, pipe)
			if leaves[pipe][step] {
				found = true
			}
		}
		if found || len(names) == 0 {
			continue
		}
		pipe := slices.MaxFunc(names, func(x, y string) int { // the longest prefix is the likeliest
			return cmp.Or(len(x)-len(y), strings.Compare(x, y))
		})
		step := strings.TrimPrefix(key, pipe+".")
		// The mistake is in the file: report it at the key when the file
		// says where that is, else at the pipeline's declaration.
		where := decl[pipe]
		entry := file + " (steps." + strconv.Quote(key) + ")"
		if kp, ok := p.config.StepPos[key]; ok && p.config.Path != "" {
			where = position{file: file, line: kp.Line, col: kp.Col}
			entry = "steps." + strconv.Quote(key)
		}
		if n := composites[pipe][step]; n != nil {
			a.errorf(where, "pipeline %q: %s %s", pipe, entry, dsl.OverrideComposite(n.describe()))
			continue
		}
		a.errorf(where, "pipeline %q: %s %s", pipe, entry, dsl.OverrideMissing(step, slices.Sorted(maps.Keys(leaves[pipe]))))
	}
}
