package statuspage

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/flujo/flujo/runtime"
)

// Source is an executor the page reports on. *flujo.ExecutorCore and the
// executors flujogen generates satisfy it.
type Source interface {
	OptimizationStats() runtime.Stats
	PerformanceRecommendations() []runtime.Recommendation
}

// FormatJSON is the value of the format query parameter that asks for the
// JSON twin of the page.
const FormatJSON = "json"

// Handler returns the status page of src. GET and HEAD return the HTML
// page, or with ?format=json the Status as JSON; every request takes a
// fresh snapshot. Any other method is answered 405. The handler is safe for
// concurrent use.
func Handler(src Source) http.Handler { return handler{src} }

type handler struct{ src Source }

//go:embed status.html.tmpl
var templates embed.FS

var page = template.Must(template.New("status.html.tmpl").Funcs(template.FuncMap{
	"ms":    formatMs,
	"pct":   formatPercent,
	"state": formatState,
	"value": formatValue,
}).ParseFS(templates, "status.html.tmpl"))

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, fmt.Sprintf("status page: method %s not allowed; use GET or HEAD", r.Method), http.StatusMethodNotAllowed)
		return
	}
	var (
		body        bytes.Buffer
		contentType string
	)
	format := r.URL.Query().Get("format")
	switch format {
	case FormatJSON:
		contentType = "application/json"
		enc := json.NewEncoder(&body)
		enc.SetIndent("", "  ")
		if err := enc.Encode(NewStatus(h.src.OptimizationStats(), h.src.PerformanceRecommendations())); err != nil {
			http.Error(w, "status page: encoding the status failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
	case "", "html":
		contentType = "text/html; charset=utf-8"
		if err := page.Execute(&body, NewStatus(h.src.OptimizationStats(), h.src.PerformanceRecommendations())); err != nil {
			http.Error(w, "status page: rendering the page failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
	default:
		http.Error(w, fmt.Sprintf("status page: unknown format %q; use format=json, or no format for HTML", format), http.StatusBadRequest)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Length", strconv.Itoa(body.Len()))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	// The page needs nothing but its inline style.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body.Bytes())
	}
}

// formatMs shows a latency in milliseconds with three significant digits
// or so.
func formatMs(v float64) string {
	switch {
	case v == 0:
		return "0 ms"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	case v < 1000:
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
}

// formatPercent shows a fraction as a percentage with one decimal.
func formatPercent(v float64) string {
	s := strconv.FormatFloat(v*100, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + "%"
}

// formatValue shows a configuration value; nil is an unset one.
func formatValue(v any) string {
	if v == nil {
		return "unset"
	}
	return fmt.Sprint(v)
}

// formatState shows a breaker state as words.
func formatState(s string) string { return strings.ReplaceAll(s, "_", "-") }
