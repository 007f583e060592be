package schema

import (
	gobuild "go/build"
	"io"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOutputPatternIsGoBuilds checks the output names the schema refuses
// against go/build: a name is refused exactly when it is a test file or
// go/build compiles it for some operating systems or architectures only,
// and the lists of the pattern name every port of the go command.
func TestOutputPatternIsGoBuilds(t *testing.T) {
	partial := regexp.MustCompile(partialBuildPattern)
	// A context of no known system matches every file but those named for
	// one; the content given is not what decides.
	ctx := gobuild.Context{GOOS: "none", GOARCH: "none", Compiler: "gc",
		OpenFile: func(string) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("package p\n")), nil }}
	oses, arches := strings.Split(knownOS, "|"), strings.Split(knownArch, "|")
	names := []string{"flujo_gen.go", "linux.go", "gen.linux.go", "x_linuxy.go", "x_linux_foo.go", "x_foo.go", "x_unix.go", "x-linux.go"}
	for _, o := range oses {
		names = append(names, "x_"+o+".go", "x_y_"+o+".v2.go", "x_"+o+"_test.go", o+".go")
		for _, a := range arches {
			names = append(names, "x_"+o+"_"+a+".go", "x_"+a+"_"+o+".go")
		}
	}
	for _, a := range arches {
		names = append(names, "x_"+a+".go", a+".go")
	}
	for _, name := range names {
		matches, err := ctx.MatchFile(".", name)
		if err != nil {
			t.Fatal(err)
		}
		want := !matches || strings.HasSuffix(name, "_test.go")
		if got := partial.MatchString(name); got != want {
			t.Errorf("%s: refused %v, want %v", name, got, want)
		}
	}
	out, err := exec.Command("go", "tool", "dist", "list").Output()
	if err != nil {
		t.Skipf("go tool dist list: %v", err)
	}
	for _, port := range strings.Fields(string(out)) {
		o, a, _ := strings.Cut(port, "/")
		if !slices.Contains(oses, o) || !slices.Contains(arches, a) {
			t.Errorf("port %s: the pattern's lists miss it", port)
		}
	}
}
