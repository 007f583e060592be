package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a strings.Builder safe for the command's goroutine and
// the test's.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// get returns the status and body of GET url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestServesMetricsNextToTheAPI(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	done := make(chan int)
	go func() {
		code := run(ctx, []string{"-addr=127.0.0.1:0", "-latency=0"}, pw, &stderr)
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the address: %v (stderr %q)", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	var addr string
	if _, err := fmt.Sscanf(line, "serving on %s", &addr); err != nil {
		t.Fatalf("first line %q: %v", line, err)
	}

	for _, q := range []string{"How long does a cached result live?", "How long does a cached result live?", "  "} {
		resp, err := http.Post(addr+"/v1/answer", "application/json", strings.NewReader(fmt.Sprintf(`{"question":%q}`, q)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	code, body := get(t, addr+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	for _, want := range []string{
		`flujo_runs_total{outcome="success",pipeline="answer"} 2`,
		`flujo_runs_total{outcome="failure",pipeline="answer"} 1`,
		`# TYPE flujo_step_duration_seconds histogram`,
		`flujo_run_duration_seconds_count{pipeline="answer"} `,
		`flujo_breaker_state{pipeline="answer",state="closed",step="generate"} 1`,
		`flujo_limiter_limit{pipeline="answer"} `,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("GET /metrics:\n%s", body)
	}
	// The API is still served around the new route.
	if code, body := get(t, addr+"/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz: %d %s", code, body)
	}

	http.DefaultClient.CloseIdleConnections()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after cancel: %s", code, stderr.String())
	}
}
