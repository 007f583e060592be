package runtime

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// TestPoolAndHashInline proves that the pool's Get and Put and the inline
// hashing primitives inline. Pool is generic, so the compiler reports it only
// for an instantiation: testdata/inlinecheck makes one.
func TestPoolAndHashInline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	out, err := exec.Command(goTool, "build", "-o", os.DevNull, "-gcflags=-m", ".", "./testdata/inlinecheck").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	for _, fn := range []string{
		`\(\*Pool\[[^\n]*\]\)\.Get`,
		`\(\*Pool\[[^\n]*\]\)\.Put`,
		`Hash\.AddString`, `Hash\.AddInt`, `Hash\.AddFloat`, `Hash\.AddBool`, `Hash\.Sum64`,
		`StableHash\.AddString`,
		`\(\*Histogram\)\.Record`,
		`\(\*Limiter\)\.Release`, `\(\*Limiter\)\.TryAcquire`,
		// The closed breaker path, which breaker sharing must not change,
		// and the settling of a run without a shared budget.
		`\(\*Breaker\)\.Allow`, `\(\*Breaker\)\.RecordSuccess`,
		`\(\*Budget\)\.Settle`,
	} {
		if !regexp.MustCompile(`can inline (runtime\.)?` + fn + `\n`).Match(out) {
			t.Errorf("%s is not inlinable any more", fn)
		}
	}
}
