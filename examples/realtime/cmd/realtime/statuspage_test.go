package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flujo/flujo"
	"github.com/flujo/flujo/examples/realtime"
	"github.com/flujo/flujo/statuspage"
)

// browserNames are the commands tried, in order, when $CHROME is not set.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findBrowser returns the path of a Chromium or Chrome: $CHROME, else the
// first of browserNames on PATH. Without one it skips t, unless $CI is
// set: CI must have it (.ci/run installs Debian's chromium).
func findBrowser(t *testing.T) string {
	t.Helper()
	names := browserNames
	if c := os.Getenv("CHROME"); c != "" {
		names = []string{c}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("no headless browser: none of %s found on PATH; install Chromium (Debian: apt-get install chromium) or set CHROME to its path", strings.Join(names, ", "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI must have it")
	}
	t.Skip(msg)
	return ""
}

// row is one step's row of the page as the browser shows it.
type row struct {
	Step  string   `json:"step"`
	Cells []string `json:"cells"`
}

// rowsJS reads the steps table: each row's step name and its cells'
// rendered text, header cell first.
const rowsJS = `Array.from(document.querySelectorAll("#steps tbody tr[data-step]")).map(tr => ({
	step: tr.dataset.step,
	cells: Array.from(tr.cells).map(c => c.innerText.trim()),
}))`

// The columns of the steps table.
const (
	colStep = iota
	colExecutions
	colFailures
	colSuccess
	colP50
	colP95
	colP99
	colCache
	colBreaker
	columns
)

// percent is how the page shows a rate.
func percent(rate float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(rate*100, 'f', 1, 64), ".0") + "%"
}

// TestStatusPageInBrowser serves the API, sends it a success, a bad
// request, and upstream failures until generate's breaker opens, then
// opens /debug/flujo in headless Chromium and checks what a person sees
// against the JSON twin.
func TestStatusPageInBrowser(t *testing.T) {
	browser := findBrowser(t)

	cfg, err := realtime.Config()
	if err != nil {
		t.Fatal(err)
	}
	core, err := flujo.NewExecutorCore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close(context.Background())
	upstream, err := realtime.NewUpstream(0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := realtime.NewHandler(core, upstream)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	ask := func(question string) int {
		t.Helper()
		resp, err := http.Post(srv.URL+"/v1/answer", "application/json", strings.NewReader(`{"question":`+strconv.Quote(question)+`}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := ask("How long does a cached result live?"); code != http.StatusOK {
		t.Fatalf("a question: status %d, want 200", code)
	}
	if code := ask("   "); code != http.StatusBadRequest {
		t.Fatalf("an empty question: status %d, want 400", code)
	}
	upstream.SetMode(realtime.Failing)
	opened := false
	for i := 0; i <= cfg.CircuitBreakerFailureThreshold && !opened; i++ {
		switch code := ask("When does a circuit breaker open?"); code {
		case http.StatusServiceUnavailable:
			opened = true
		case http.StatusBadGateway:
		default:
			t.Fatalf("upstream failing, request %d: status %d, want 502 then 503", i+1, code)
		}
	}
	if !opened {
		t.Fatalf("generate's breaker did not open after %d failures", cfg.CircuitBreakerFailureThreshold)
	}

	resp, err := http.Get(srv.URL + realtime.StatusPagePath + "?format=json")
	if err != nil {
		t.Fatal(err)
	}
	var want statuspage.Status
	err = json.NewDecoder(resp.Body).Decode(&want)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("JSON twin: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var browserLog lockedBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox, // root in a container has no sandbox to offer
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.CombinedOutput(&browserLog),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	defer func() {
		if t.Failed() {
			t.Logf("browser %s output:\n%s", browser, browserLog.String())
		}
	}()

	err = chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+realtime.StatusPagePath),
		chromedp.WaitVisible(chromedp.CSS("#steps")),
	)
	if err != nil {
		t.Fatalf("opening %s in %s: %v", realtime.StatusPagePath, browser, err)
	}
	title, err := chromedp.Run(bctx, chromedp.Title())
	if err != nil || title != "flujo status" {
		t.Errorf("title %q (%v), want flujo status", title, err)
	}
	heading, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || heading != "flujo status" {
		t.Errorf("heading %q (%v), want flujo status", heading, err)
	}

	rows, err := chromedp.Run(bctx, chromedp.Evaluate[[]row](rowsJS))
	if err != nil {
		t.Fatalf("reading the steps table: %v", err)
	}
	if len(rows) != len(want.Steps) {
		t.Fatalf("the page shows %d steps %+v, the JSON twin %d", len(rows), rows, len(want.Steps))
	}
	var names []string
	for i, r := range rows {
		names = append(names, r.Step)
		w := want.Steps[i]
		if len(r.Cells) != columns || r.Step != w.Name || r.Cells[colStep] != w.Name {
			t.Errorf("row %d %+v, want step %s in %d columns", i, r, w.Name, columns)
			continue
		}
		if got := r.Cells[colExecutions]; got != strconv.FormatUint(w.Executions, 10) {
			t.Errorf("%s executions %q, JSON %d", w.Name, got, w.Executions)
		}
		if got := r.Cells[colFailures]; got != strconv.FormatUint(w.Failures, 10) {
			t.Errorf("%s failures %q, JSON %d", w.Name, got, w.Failures)
		}
		if got, want := r.Cells[colSuccess], percent(w.SuccessRate); got != want {
			t.Errorf("%s success %q, JSON %q", w.Name, got, want)
		}
		for _, c := range []int{colP50, colP95, colP99} {
			if got := r.Cells[c]; !strings.HasSuffix(got, " ms") {
				t.Errorf("%s latency column %d %q, want milliseconds", w.Name, c, got)
			}
		}
		if got, want := r.Cells[colBreaker], strings.ReplaceAll(w.Breaker.State, "_", "-"); got != want {
			t.Errorf("%s breaker %q, want %q", w.Name, got, want)
		}
	}
	if got := strings.Join(names, " "); got != "generate parse retrieve" {
		t.Errorf("steps %q, want generate parse retrieve", got)
	}
	// What the requests did: the empty question failed parse, a bad
	// request that opens nothing; the upstream's failures opened
	// generate's breaker.
	for _, r := range rows {
		if len(r.Cells) != columns {
			continue
		}
		breaker, failures := r.Cells[colBreaker], r.Cells[colFailures]
		var ok bool
		switch r.Step {
		case "generate":
			ok = breaker == "open" && failures != "0"
		case "parse":
			ok = breaker == "closed" && failures == "1"
		case "retrieve":
			ok = breaker == "closed" && failures == "0"
		}
		if !ok {
			t.Errorf("%s %v: want generate open with failures, parse closed with 1 failure, retrieve closed with none", r.Step, r.Cells)
		}
	}

	recs, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#recommendations")))
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Recommendations) == 0 {
		if !strings.HasPrefix(recs, "None") {
			t.Errorf("recommendations %q, want None: the JSON twin has none", recs)
		}
	} else {
		for _, r := range want.Recommendations {
			if !strings.Contains(recs, r.Description) || !strings.Contains(strings.ToLower(recs), r.Priority) {
				t.Errorf("recommendations %q lack %q with its priority %s", recs, r.Description, r.Priority)
			}
		}
	}
	limiter, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#limiter")))
	if err != nil || !strings.Contains(limiter, fmt.Sprintf("0 / %d", want.Limiter.Limit)) {
		t.Errorf("limiter %q (%v), want 0 in flight of %d", limiter, err, want.Limiter.Limit)
	}
	breakers, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#totals")))
	if err != nil || !strings.Contains(breakers, "1 open") {
		t.Errorf("totals %q (%v), want one open breaker", breakers, err)
	}
}
