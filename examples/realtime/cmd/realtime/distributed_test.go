package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary serve as a replica: the distributed demo
// starts replicas by running its own executable with -shared.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-shared" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestDemoDistributed runs the distributed demo against a real
// redis-server: replica A, whose upstream fails, answers from the result
// replica B cached, and B rejects once A's breaker opened.
func TestDemoDistributed(t *testing.T) {
	if _, err := redisBinary(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (CI must have redis-server: .ci/run installs it)", err)
		}
		t.Skip(err)
	}
	var out bytes.Buffer
	if err := demoDistributed(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"A answers from the shared cache",
		"A stats: shared cache hits 1",
		"B, upstream healthy: 503 Service Unavailable",
		"applied 1",
		"generate's breaker open",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out.String())
		}
	}
}
