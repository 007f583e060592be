package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite golden files: docs/config.md and the cmp files of the scripts")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"flujogen": main})
}

// TestScripts runs testdata/script/*.txtar. Besides the standard commands
// they may use:
//
//	exit N COMMAND [ARGS...]  run COMMAND and require exit status N
//	mkfile FILE SIZE          write SIZE bytes of spaces to FILE
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("SCHEMA_FILE", filepath.Join(root, "schema", "flujo.schema.json"))
			// Scripts that load packages build a module that replaces
			// github.com/flujo/flujo with this checkout, offline, with the
			// caches of the go command running the tests.
			env.Setenv("FLUJO_ROOT", root)
			for k, v := range goEnv(t) {
				env.Setenv(k, v)
			}
			env.Setenv("GOPROXY", "off")
			env.Setenv("GOFLAGS", "-mod=mod")
			env.Setenv("GOTOOLCHAIN", "local")
			env.Setenv("DOCS_FILE", filepath.Join(root, "docs", "config.md"))
			// A race-enabled flujogen sleeps a second on exit by default,
			// once per command of every script.
			env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exit": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exit N COMMAND [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exit: bad status %q", args[0])
				}
				got := 0
				if err := ts.Exec(args[1], args[2:]...); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("%s: %v", args[1], err)
					}
					got = ee.ExitCode()
				}
				if got != want {
					ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
				}
			},
			"mkfile": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: mkfile FILE SIZE")
				}
				n, err := strconv.Atoi(args[1])
				if err != nil {
					ts.Fatalf("mkfile: bad size %q", args[1])
				}
				f, err := os.Create(ts.MkAbs(args[0]))
				ts.Check(err)
				buf := make([]byte, 64<<10)
				for i := range buf {
					buf[i] = ' '
				}
				for n > 0 {
					k := min(n, len(buf))
					_, err := f.Write(buf[:k])
					ts.Check(err)
					n -= k
				}
				ts.Check(f.Close())
			},
		},
	})
}

// goEnv returns the settings of the go command that scripts running it
// need: its caches and module paths.
func goEnv(t *testing.T) map[string]string {
	names := []string{"GOPATH", "GOMODCACHE", "GOCACHE", "GOROOT"}
	out, err := exec.Command("go", append([]string{"env"}, names...)...).Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	vals := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	env := map[string]string{}
	for i, n := range names {
		if i < len(vals) {
			env[n] = vals[i]
		}
	}
	return env
}
