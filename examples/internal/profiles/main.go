// Command profiles prints the configuration profiles of make demo in one
// line each: whether the file validates and how it differs from the
// embedded defaults. It reads the files flujogen init wrote into a folder:
//
//	flujogen init -o DIR/defaults.json
//	flujogen init -profile NAME -o DIR/NAME.json   (for every profile)
//	go run ./examples/internal/profiles DIR
//
// Each file is loaded as flujogen loads flujo.json (schema.Load), so "valid"
// is flujogen validate's verdict.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/flujo/flujo/examples/internal/report"
	"github.com/flujo/flujo/runtime"
	"github.com/flujo/flujo/schema"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run prints the summary of the files in the folder args[0]; it returns 1
// when a file is missing or invalid, 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: profiles DIR (DIR holds defaults.json and NAME.json for every profile, written by flujogen init)")
		return 2
	}
	dir := args[0]
	defaults, err := schema.Load(filepath.Join(dir, "defaults.json"))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if !reflect.DeepEqual(defaults.Optimization, runtime.DefaultOptimizationConfig()) {
		fmt.Fprintf(stderr, "%s does not hold the embedded defaults: write it with flujogen init -o %[1]s\n", defaults.Path)
		return 1
	}
	code := 0
	rows := [][]string{{"profile", "valid", "differs from the embedded defaults in"}}
	for _, p := range runtime.Profiles() {
		cfg, err := schema.Load(filepath.Join(dir, p.Name+".json"))
		if err != nil {
			rows = append(rows, []string{p.Name, "no", strings.ReplaceAll(err.Error(), "\n", "; ")})
			code = 1
			continue
		}
		diff := Differences(defaults.Optimization, cfg.Optimization)
		if !reflect.DeepEqual(cfg.Optimization, p.Config()) {
			diff = "does not hold the profile: write it with flujogen init -profile " + p.Name
			code = 1
		}
		rows = append(rows, []string{p.Name, "yes", diff})
	}
	report.Table(stdout, rows)
	return code
}

// Differences lists the fields of b that differ from a as
// "json_name value", in the order of OptimizationConfig, comma-separated.
func Differences(a, b runtime.OptimizationConfig) string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		f := va.Type().Field(i)
		if !f.IsExported() || reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			name = f.Name
		}
		v, err := json.Marshal(vb.Field(i).Interface())
		if err != nil {
			v = []byte(fmt.Sprint(vb.Field(i).Interface()))
		}
		out = append(out, name+" "+string(v))
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}
