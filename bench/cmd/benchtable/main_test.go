package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

const sampleOutput = `goos: linux
goarch: amd64
pkg: github.com/flujo/flujo/bench
cpu: AMD EPYC 7B13
BenchmarkBreaker/closed/flujo-2         	100000000	         4.000 ns/op	       0 B/op	       0 allocs/op
BenchmarkBreaker/closed/gobreaker-2     	 5000000	       200.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkBreaker/closed/direct-2        	300000000	         2.000 ns/op	       0 B/op	       0 allocs/op
BenchmarkBreaker/closed/flujo-2         	100000000	         6.000 ns/op	       0 B/op	       0 allocs/op
BenchmarkBreaker/closed/gobreaker-2     	 5000000	       220.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkBreaker/closed/direct-2        	300000000	         2.000 ns/op	       0 B/op	       0 allocs/op
BenchmarkBreaker/closed/flujo-2         	100000000	         5.000 ns/op	       0 B/op	       0 allocs/op
BenchmarkBreaker/closed/gobreaker-2     	 5000000	       180.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkBreaker/closed/direct-2        	300000000	         2.000 ns/op	       0 B/op	       0 allocs/op
BenchmarkForEach/tiny/errgroup-2
    bench_test.go:10: a log line
BenchmarkForEach/tiny/errgroup-2        	     100	  20000000 ns/op	   200.0 ns/item	  800000 B/op	  100000 allocs/op
BenchmarkForEach/tiny/flujo-2           	    1000	   1000000 ns/op	   10.00 ns/item	     100 B/op	       3 allocs/op
BenchmarkLone-2                         	    1000	      1500 ns/op
--- FAIL: BenchmarkBroken/case-2
PASS
ok  	github.com/flujo/flujo/bench	12.3s
`

func TestParse(t *testing.T) {
	res, err := parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	if res.cpu != "AMD EPYC 7B13" || res.goos != "linux" || res.goarch != "amd64" {
		t.Errorf("header = %q %q %q", res.cpu, res.goos, res.goarch)
	}
	var names []string
	for _, r := range res.rows {
		names = append(names, r.name)
		if r.procs != "2" {
			t.Errorf("%s: procs = %q, want 2", r.name, r.procs)
		}
	}
	want := []string{
		"Breaker/closed/flujo", "Breaker/closed/gobreaker", "Breaker/closed/direct",
		"ForEach/tiny/errgroup", "ForEach/tiny/flujo", "Lone",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("rows = %q, want %q", names, want)
	}
	flujo := res.rows[0]
	if got := flujo.samples[unitNs]; !slices.Equal(got, []float64{4, 6, 5}) {
		t.Errorf("flujo ns/op samples = %v", got)
	}
	if got := res.rows[3].samples["ns/item"]; !slices.Equal(got, []float64{200}) {
		t.Errorf("custom metric samples = %v", got)
	}
	if !slices.Equal(res.rows[3].units, []string{unitNs, "ns/item", unitBytes, unitAllocs}) {
		t.Errorf("units = %q", res.rows[3].units)
	}
	if !slices.Equal(res.failed, []string{"Broken/case"}) {
		t.Errorf("failed = %q", res.failed)
	}
}

func TestParseResultLineRejects(t *testing.T) {
	for _, line := range []string{
		"BenchmarkX-2",
		"BenchmarkX-2 100",
		"BenchmarkX-2 many 3 ns/op",
		"BenchmarkX-2 100 fast ns/op",
		"BenchmarkX-2 100 3 ns/op 4",
	} {
		if _, _, _, ok := parseResultLine(line); ok {
			t.Errorf("parseResultLine(%q) accepted", line)
		}
	}
}

func TestSplitProcs(t *testing.T) {
	for _, tc := range []struct{ in, base, procs string }{
		{"A/b-16", "A/b", "16"},
		{"A/b", "A/b", ""},
		{"A/flujo-noerr", "A/flujo-noerr", ""},
		{"A/flujo-noerr-2", "A/flujo-noerr", "2"},
		{"A/b-", "A/b-", ""},
	} {
		base, procs := splitProcs(tc.in)
		if base != tc.base || procs != tc.procs {
			t.Errorf("splitProcs(%q) = %q, %q; want %q, %q", tc.in, base, procs, tc.base, tc.procs)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got, ok := median(tc.in); !ok || got != tc.want {
			t.Errorf("median(%v) = %v, %v; want %v", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := median(nil); ok {
		t.Error("median(nil) reported a value")
	}
}

func TestTable(t *testing.T) {
	var out, errOut bytes.Buffer
	// The failed benchmark makes the exit code 1, after the table.
	if code := run(strings.NewReader(sampleOutput), &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut.String())
	}
	text := out.String()
	lines := strings.Split(text, "\n")
	var rows []string
	for _, l := range lines {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| benchmark") {
			rows = append(rows, l)
		}
	}
	want := []string{
		// Ours first in its group, medians over the runs, ratios against ours.
		"| Breaker/closed/flujo | 5 | ±20% | 0 | 0 |  | ours |",
		"| Breaker/closed/gobreaker | 200 | ±10% | 16 | 1 |  | 40.0x |",
		"| Breaker/closed/direct | 2 | ±0% | 0 | 0 |  | 0.40x |",
		"| ForEach/tiny/flujo | 1000000 |  | 100 | 3 | 10 ns/item | ours |",
		"| ForEach/tiny/errgroup | 20000000 |  | 800000 | 100000 | 200 ns/item | 20.0x |",
		"| Lone | 1500 |  | - | - |  |  |",
	}
	if !slices.Equal(rows, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(text, "cpu: AMD EPYC 7B13 (linux/amd64)") {
		t.Errorf("no cpu line in:\n%s", text)
	}
	if !strings.Contains(text, "FAILED: Broken/case") || !strings.Contains(errOut.String(), "Broken/case") {
		t.Errorf("failed benchmark not reported in:\n%s\nstderr: %s", text, errOut.String())
	}
}

func TestRatio(t *testing.T) {
	peer := &row{name: "G/peer"}
	for _, tc := range []struct {
		ns   float64
		want string
	}{
		{2, "0.004x"},
		{250, "0.50x"},
		{5000, "10.0x"},
		{250000, "500x"},
	} {
		if got := ratio(peer, tc.ns, true, 500); got != tc.want {
			t.Errorf("ratio(%v over 500) = %q, want %q", tc.ns, got, tc.want)
		}
	}
	if got := ratio(&row{name: "G/flujo"}, 5, true, 5); got != "ours" {
		t.Errorf("ratio of ours = %q", got)
	}
	if got := ratio(peer, 5, true, 0); got != "" {
		t.Errorf("ratio without ours = %q", got)
	}
}

func TestRunWithoutResults(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(strings.NewReader("PASS\nok x 0.1s\n"), &out, &errOut); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errOut.String(), "no benchmark results") {
		t.Errorf("stderr = %q", errOut.String())
	}
}
