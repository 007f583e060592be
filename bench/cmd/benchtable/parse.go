package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// result is everything parse keeps from a `go test -bench` run.
type result struct {
	// cpu, goos and goarch come from the header lines go test prints.
	cpu, goos, goarch string
	// rows in order of first appearance.
	rows []*row
	// failed names the benchmarks reported as failing.
	failed []string
}

// row gathers the repeated runs of one benchmark.
type row struct {
	// name is the benchmark's name without the "Benchmark" prefix and
	// without the GOMAXPROCS suffix.
	name string
	// procs is the GOMAXPROCS suffix ("" when go test printed none).
	procs string
	// units in order of first appearance, and the samples of each.
	units   []string
	samples map[string][]float64
}

// group returns the part of the name before the last slash ("" for a
// top-level benchmark).
func (r *row) group() string {
	if i := strings.LastIndexByte(r.name, '/'); i >= 0 {
		return r.name[:i]
	}
	return ""
}

// leaf returns the part of the name after the last slash.
func (r *row) leaf() string {
	return r.name[strings.LastIndexByte(r.name, '/')+1:]
}

func (r *row) add(unit string, v float64) {
	if _, ok := r.samples[unit]; !ok {
		r.units = append(r.units, unit)
	}
	r.samples[unit] = append(r.samples[unit], v)
}

// parse reads go test output. Lines that are not benchmark results or known
// header lines are ignored, since go test interleaves test logs, PASS and ok
// lines with the results.
func parse(in io.Reader) (*result, error) {
	res := &result{}
	byKey := map[string]*row{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "cpu: "):
			res.cpu = strings.TrimSpace(strings.TrimPrefix(line, "cpu: "))
		case strings.HasPrefix(line, "goos: "):
			res.goos = strings.TrimSpace(strings.TrimPrefix(line, "goos: "))
		case strings.HasPrefix(line, "goarch: "):
			res.goarch = strings.TrimSpace(strings.TrimPrefix(line, "goarch: "))
		case strings.HasPrefix(line, "--- FAIL: Benchmark"):
			f := strings.Fields(line)
			name, _ := splitProcs(strings.TrimPrefix(f[2], "Benchmark"))
			res.failed = append(res.failed, name)
		case strings.HasPrefix(line, "Benchmark"):
			name, procs, metrics, ok := parseResultLine(line)
			if !ok {
				continue
			}
			key := name + "\x00" + procs
			r := byKey[key]
			if r == nil {
				r = &row{name: name, procs: procs, samples: map[string][]float64{}}
				byKey[key] = r
				res.rows = append(res.rows, r)
			}
			for _, m := range metrics {
				r.add(m.unit, m.value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading input: %w", err)
	}
	return res, nil
}

type metric struct {
	value float64
	unit  string
}

// parseResultLine parses one result line:
//
//	BenchmarkName/sub-8   1000000   12.3 ns/op   0 B/op   0 allocs/op
//
// A line that does not have that shape (a benchmark name that go test printed
// alone before some log output, for one) is reported as not ok.
func parseResultLine(line string) (name, procs string, metrics []metric, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return "", "", nil, false
	}
	if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
		return "", "", nil, false
	}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", "", nil, false
		}
		metrics = append(metrics, metric{value: v, unit: f[i+1]})
	}
	name, procs = splitProcs(strings.TrimPrefix(f[0], "Benchmark"))
	return name, procs, metrics, true
}

// splitProcs splits the "-N" GOMAXPROCS suffix that go test appends to the
// name when N is not 1. Sub-benchmark names must therefore not end in a dash
// and digits of their own.
func splitProcs(name string) (base, procs string) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 {
		return name, ""
	}
	for _, c := range name[i+1:] {
		if c < '0' || c > '9' {
			return name, ""
		}
	}
	return name[:i], name[i+1:]
}
