package schema

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/flujo/flujo/runtime"
)

// The ExecutorCore reads flujo.json with runtime.ParseConfigFile
// (flujo.WithConfigFile), flujogen with Load. Both must accept the same
// files and read the same optimization configuration and step overrides
// from them; only "output", which concerns flujogen alone, is not checked
// by the runtime.

// loadersAgree parses data with both loaders and reports any difference.
func loadersAgree(t *testing.T, l *Loader, name string, data []byte) {
	t.Helper()
	sc, serr := l.Parse(name, data)
	rc, rerr := runtime.ParseConfigFile(name, data)
	switch {
	case serr != nil && rerr != nil:
		return
	case serr != nil:
		if se, ok := serr.(*Error); ok {
			onlyOutput := true
			for _, p := range se.Problems {
				onlyOutput = onlyOutput && strings.HasPrefix(p.Pointer, "/output")
			}
			if onlyOutput {
				return
			}
		}
		t.Errorf("%s: Load rejects it (%v), runtime.ParseConfigFile accepts it", name, serr)
		return
	case rerr != nil:
		t.Errorf("%s: Load accepts it, runtime.ParseConfigFile rejects it: %v", name, rerr)
		return
	}
	if !sc.Optimization.Equal(rc.Optimization) {
		t.Errorf("%s: optimization differs:\nLoad:             %+v\nParseConfigFile: %+v", name, sc.Optimization, rc.Optimization)
	}
	if !reflect.DeepEqual(sc.Steps, rc.Steps) {
		t.Errorf("%s: steps differ:\nLoad:             %+v\nParseConfigFile: %+v", name, sc.Steps, rc.Steps)
	}
	if !reflect.DeepEqual(sc.Distributed, rc.Distributed) {
		t.Errorf("%s: distributed differs:\nLoad:             %#v\nParseConfigFile: %#v", name, sc.Distributed, rc.Distributed)
	}
}

// TestLoadersAgreeOnRepositoryFiles: every flujo.json of the repository,
// the ones inside testscript archives included.
func TestLoadersAgreeOnRepositoryFiles(t *testing.T) {
	l := newTestLoader(t)
	n := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		switch {
		case d.Name() == DefaultFileName:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			loadersAgree(t, l, path, data)
			n++
		case strings.HasSuffix(path, ".txtar"):
			a, err := txtar.ParseFile(path)
			if err != nil {
				return err
			}
			for _, f := range a.Files {
				if filepath.Base(f.Name) == DefaultFileName || strings.HasSuffix(f.Name, ".json") {
					loadersAgree(t, l, path+":"+f.Name, f.Data)
					n++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d configuration files", n)
	if n < 5 {
		t.Errorf("found %d configuration files, want the examples' and testdata's", n)
	}
}

func TestLoadersAgreeOnCraftedFiles(t *testing.T) {
	l := newTestLoader(t)
	for _, doc := range []string{
		`{}`,
		"\ufeff{}",
		``,
		`[]`,
		`null`,
		`{"optimization": {}}`,
		`{"optimization": null}`,
		`{"optimization": []}`,
		`{"optimization": {"enable_cache_optimization": true, "cache_ttl_seconds": 5}}`,
		`{"optimization": {"cache_ttl_seconds": 0}}`,
		`{"optimization": {"enable_automatic_optimization": true, "enable_performance_monitoring": false}}`,
		`{"optimization": {"telemetry_batch_size": 1.0}}`,
		`{"optimization": {"max_concurrent_executions": null}}`,
		`{"optimization": {"enable_cache": true}}`,
		`{"steps": {}}`,
		`{"steps": null}`,
		`{"steps": {"p.s": {}}}`,
		`{"steps": {"p.s": null}}`,
		`{"steps": {"p.s": {"retries": 3, "timeout": "1s", "cache": true, "cache_ttl_seconds": 60, "circuit_breaker_failure_threshold": 2, "circuit_breaker_recovery_timeout_seconds": 30}}}`,
		`{"steps": {"p.s.t": {"retries": 0}}}`,
		`{"steps": {"p": {"retries": 1}}}`,
		`{"steps": {".s": {"retries": 1}}}`,
		`{"steps": {"p.": {"retries": 1}}}`,
		`{"steps": {"p.a\nb": {"retries": 1}}}`,
		`{"steps": {"p.s": {"retries": -1}}}`,
		`{"steps": {"p.s": {"retries": 1000}}}`,
		`{"steps": {"p.s": {"retries": 1001}}}`,
		`{"steps": {"p.s": {"retries": 1.5}}}`,
		`{"steps": {"p.s": {"retries": null}}}`,
		`{"steps": {"p.s": {"retries": "3"}}}`,
		`{"steps": {"p.s": {"timeout": "0s"}}}`,
		`{"steps": {"p.s": {"timeout": "-1s"}}}`,
		`{"steps": {"p.s": {"timeout": "24h"}}}`,
		`{"steps": {"p.s": {"timeout": "24h0m1s"}}}`,
		`{"steps": {"p.s": {"timeout": "soon"}}}`,
		`{"steps": {"p.s": {"timeout": 5}}}`,
		`{"steps": {"p.s": {"cache": "yes"}}}`,
		`{"steps": {"p.s": {"cache_ttl_seconds": 0}}}`,
		`{"steps": {"p.s": {"circuit_breaker_failure_threshold": 0}}}`,
		`{"steps": {"p.s": {"circuit_breaker_recovery_timeout_seconds": 0}}}`,
		`{"steps": {"p.s": {"retry": 3}}}`,
		`{"steps": {"p.s": {"retries": 1, "retries": 2}}}`,
		`{"steps": {"p.s": {"retries": 1}, "p.s": {"retries": 2}}}`,
		`{"output": "gen.go"}`,
		`{"output": 3}`,
		`{"$schema": "https://example.com/s.json"}`,
		`{"$schema": 3}`,
		`{"optimisation": {}}`,
		`{"distributed": {"address": "127.0.0.1:6379"}}`,
		`{"distributed": {"address_env": "REDIS_URL", "key_prefix": "shop:", "command_timeout_ms": 20, "cache": false}}`,
		`{"distributed": {"cache": false, "breaker": false, "budgets": false}}`,
		`{"distributed": {}}`,
		`{"distributed": null}`,
		`{"distributed": []}`,
		`{"distributed": {"address": "h:1", "address_env": "X"}}`,
		`{"distributed": {"address": 1}}`,
		`{"distributed": {"address": "h:1", "command_timeout_ms": 0}}`,
		`{"distributed": {"address": "h:1", "reconcile_interval_ms": 60001}}`,
		`{"distributed": {"address": "h:1", "cache": "true"}}`,
		`{"distributed": {"address": "h:1", "adress": "h:2"}}`,
		`{"distributed": {"address": "h:99999"}}`,
		`{"distributed": {"address": "h:1"}, "distributed": {"address": "h:2"}}`,
		`{"optimization": {}} {}`,
		`{"optimization": {`,
	} {
		loadersAgree(t, l, "flujo.json", []byte(doc))
	}
}
