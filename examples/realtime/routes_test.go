package realtime

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestMainWithRoutesErrorStops(t *testing.T) {
	var out, errb syncBuffer
	var got Executor
	o := Options{Routes: func(mux *http.ServeMux, exec Executor) error {
		got = exec
		return errors.New("no registry")
	}}
	if code := MainWith(context.Background(), []string{"-addr=127.0.0.1:0", "-latency=0"}, &out, &errb, o); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(errb.String(), "mounting routes: no registry") {
		t.Errorf("stderr %q does not say why", errb.String())
	}
	if got == nil {
		t.Error("Routes got no executor")
	} else if _, ok := got.(CoreExecutor); !ok {
		t.Errorf("Routes got %T, want the CoreExecutor that serves the API", got)
	}
	if out.String() != "" {
		t.Errorf("served before the routes were mounted: %q", out.String())
	}
}
