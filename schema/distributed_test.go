package schema

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flujo/flujo/runtime"
)

// The distributed section: the schema (what editors check), the runtime's
// parser (what the ExecutorCore and contrib/redis read) and Load must
// agree on every document, but for what only Go checks: a port from 1 to
// 65535 and a URL that parses, which the schema's pattern lets through
// and both loaders refuse.

type distributedDoc struct {
	doc    string
	accept bool // by the runtime and Load
	goOnly bool // the schema alone accepts it
}

func distributedDocs() []distributedDoc {
	return []distributedDoc{
		{doc: `{"address": "127.0.0.1:6379"}`, accept: true},
		{doc: `{"address": "redis://app:pw@cache.internal:6379/0"}`, accept: true},
		{doc: `{"address": "rediss://:pw@cache.internal"}`, accept: true},
		{doc: `{"address": "valkey://h:1"}`, accept: true},
		{doc: `{"address": "valkeys://[::1]:6380"}`, accept: true},
		{doc: `{"address": "[::1]:6379"}`, accept: true},
		{doc: `{"address_env": "REDIS_URL"}`, accept: true},
		{doc: `{"address_env": "_x9"}`, accept: true},
		{doc: `{"address": "h:1", "key_prefix": "shop:prod:", "dial_timeout_ms": 60000, "command_timeout_ms": 1, "reconcile_interval_ms": 10, "cache": true, "breaker": false, "budgets": true}`, accept: true},
		{doc: `{"address": "h:1", "command_timeout_ms": 1.0}`, accept: true},
		{doc: `{"address": "h:1", "command_timeout_ms": 5E1}`, accept: true},
		{doc: `{"cache": false, "breaker": false, "budgets": false}`, accept: true},
		{doc: `{"cache": false, "breaker": false, "budgets": false, "key_prefix": "p:"}`, accept: true},
		// Neither address nor address_env.
		{doc: `{}`},
		{doc: `{"cache": false, "breaker": false}`},
		{doc: `{"cache": false, "breaker": false, "budgets": true}`},
		{doc: `{"key_prefix": "p:"}`},
		// Both.
		{doc: `{"address": "h:1", "address_env": "X"}`},
		{doc: `{"address": "h:1", "address_env": "X", "cache": false, "breaker": false, "budgets": false}`},
		// Wrong types.
		{doc: `{"address": 6379}`},
		{doc: `{"address": null}`},
		{doc: `{"address": ["h:1"]}`},
		{doc: `{"address_env": 1}`},
		{doc: `{"address": "h:1", "key_prefix": 1}`},
		{doc: `{"address": "h:1", "command_timeout_ms": "50"}`},
		{doc: `{"address": "h:1", "command_timeout_ms": null}`},
		{doc: `{"address": "h:1", "command_timeout_ms": true}`},
		{doc: `{"address": "h:1", "cache": "yes"}`},
		{doc: `{"address": "h:1", "cache": 1}`},
		{doc: `{"address": "h:1", "budgets": null}`},
		{doc: `{"cache": false, "breaker": false, "budgets": "false"}`},
		// Out of range.
		{doc: `{"address": "h:1", "command_timeout_ms": 0}`},
		{doc: `{"address": "h:1", "command_timeout_ms": -1}`},
		{doc: `{"address": "h:1", "command_timeout_ms": 60001}`},
		{doc: `{"address": "h:1", "command_timeout_ms": 1.5}`},
		{doc: `{"address": "h:1", "command_timeout_ms": 9223372036854775808}`},
		{doc: `{"address": "h:1", "command_timeout_ms": 1e400}`},
		{doc: `{"address": "h:1", "dial_timeout_ms": 0}`},
		{doc: `{"address": "h:1", "dial_timeout_ms": 60001}`},
		{doc: `{"address": "h:1", "reconcile_interval_ms": 9}`},
		{doc: `{"address": "h:1", "reconcile_interval_ms": 60001}`},
		// Patterns.
		{doc: `{"address": ""}`},
		{doc: `{"address": "localhost"}`},
		{doc: `{"address": "h :1"}`},
		{doc: `{"address": " h:1"}`},
		{doc: `{"address": "h:1\n"}`},
		{doc: `{"address": "http://h:1"}`},
		{doc: `{"address": "REDIS://h:1"}`},
		{doc: `{"address": "redis://"}`},
		{doc: `{"address": "redis://hé:1"}`},
		{doc: `{"address": "h:x"}`},
		{doc: `{"address_env": ""}`},
		{doc: `{"address_env": "1X"}`},
		{doc: `{"address_env": "A-B"}`},
		{doc: `{"address_env": "$REDIS_URL"}`},
		{doc: `{"address": "h:1", "key_prefix": ""}`},
		{doc: `{"address": "h:1", "key_prefix": "a b"}`},
		{doc: `{"address": "h:1", "key_prefix": "p:\u0000"}`},
		{doc: `{"address": "h:1", "key_prefix": "é"}`},
		{doc: `{"address": "h:1", "key_prefix": "` + strings.Repeat("k", 128) + `"}`, accept: true},
		{doc: `{"address": "h:1", "key_prefix": "` + strings.Repeat("k", 129) + `"}`},
		// What only Go checks.
		{doc: `{"address": "h:0"}`, goOnly: true},
		{doc: `{"address": "h:65536"}`, goOnly: true},
		{doc: `{"address": "redis://h:99999"}`, goOnly: true},
		{doc: `{"address": ":6379"}`},
		{doc: `{"address": "u:pw@h:1"}`},
		{doc: `{"address": "h/x:1"}`},
		{doc: `{"address": "redis://:pw@"}`, goOnly: true},
		{doc: `{"address": "redis://u:p%zz@h:1"}`, goOnly: true},
		{doc: `{"address": "a:b:1"}`, goOnly: true},
		// Unknown members.
		{doc: `{"address": "h:1", "key_prefx": "p:"}`},
		{doc: `{"address": "h:1", "password": "pw"}`},
		{doc: `{"address": "h:1", "Cache": true}`},
		// Duplicates: refused by both.
		{doc: `{"address": "h:1", "address": "h:2"}`},
		// Not an object.
		{doc: `[]`},
		{doc: `null`},
		{doc: `"redis://h:1"`},
		{doc: `3`},
	}
}

func distributedSchemaAccepts(t testing.TB, l *Loader, doc []byte) bool {
	x, err := indexJSON(doc)
	if err != nil {
		t.Fatalf("index %q: %v", doc, err)
	}
	if _, dups := runtime.CheckDocument(doc); len(x.badNumbers) > 0 || len(dups) > 0 {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", doc, err)
	}
	return l.distributed.Validate(v) == nil
}

func TestDistributedSchemaAgreesWithRuntime(t *testing.T) {
	l := newTestLoader(t)
	for _, tc := range distributedDocs() {
		doc := []byte(tc.doc)
		bySchema := distributedSchemaAccepts(t, l, doc)
		if want := tc.accept || tc.goOnly; bySchema != want {
			t.Errorf("%s: schema accepts %v, want %v", tc.doc, bySchema, want)
		}
		_, err := runtime.ParseDistributedConfig(doc)
		if _, dups := runtime.CheckDocument(doc); len(dups) > 0 {
			err = dups[0] // the file's rules run before the section's
		}
		if (err == nil) != tc.accept {
			t.Errorf("%s: runtime accepts %v, want %v (%v)", tc.doc, err == nil, tc.accept, err)
		}
	}
}

// TestLoadersAgreeOnDistributed: Load and runtime.ParseConfigFile on
// {"distributed": doc}, the result included.
func TestLoadersAgreeOnDistributed(t *testing.T) {
	l := newTestLoader(t)
	for _, tc := range distributedDocs() {
		file := []byte(`{"distributed": ` + tc.doc + `}`)
		loadersAgree(t, l, tc.doc, file)
		_, err := l.Parse("flujo.json", file)
		if (err == nil) != tc.accept {
			t.Errorf("%s: Load accepts %v, want %v (%v)", tc.doc, err == nil, tc.accept, err)
		}
	}
}

func TestLoadDistributed(t *testing.T) {
	l := newTestLoader(t)
	cfg, err := l.Parse("flujo.json", []byte(`{"distributed": {"address_env": "REDIS_URL", "budgets": false}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := runtime.DefaultDistributedConfig()
	want.AddressEnv, want.Budgets = "REDIS_URL", false
	if cfg.Distributed == nil || *cfg.Distributed != want {
		t.Errorf("Distributed = %#v, want %#v", cfg.Distributed, want)
	}
	if cfg, err := l.Parse("flujo.json", []byte(`{}`)); err != nil || cfg.Distributed != nil {
		t.Errorf("no section: %v, %v", cfg.Distributed, err)
	}
	if Default().Distributed != nil {
		t.Error("the defaults share something")
	}
}

func TestLoadDistributedPositions(t *testing.T) {
	l := newTestLoader(t)
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{
			name: "range, type and typo",
			doc:  "{\n  \"distributed\": {\n    \"address\": \"h:1\",\n    \"command_timeout_ms\": 0,\n    \"cache\": \"yes\",\n    \"key_prefx\": \"p:\"\n  }\n}\n",
			want: []string{
				"flujo.json:4:27: /distributed/command_timeout_ms: must be an integer from 1 to 60000, got 0",
				`flujo.json:5:14: /distributed/cache: must be true or false, got string "yes"`,
				"flujo.json:6:5: /distributed/key_prefx: unknown field (did you mean key_prefix?)",
			},
		},
		{
			name: "both addresses",
			doc:  "{\"distributed\": {\"address\": \"h:1\", \"address_env\": \"X\"}}",
			want: []string{"flujo.json:1:29: /distributed/address: address and address_env are both set; keep one"},
		},
		{
			name: "no address",
			doc:  "{\"distributed\": {\"cache\": false}}",
			want: []string{"flujo.json:1:17: /distributed/address: missing: set address (or address_env, the name of an environment variable holding it), or turn cache, breaker and budgets off"},
		},
		{
			name: "port",
			doc:  "{\"distributed\": {\"address\": \"redis://:pw@h:0\"}}",
			want: []string{`flujo.json:1:29: /distributed/address: must be "host:port" (such as "127.0.0.1:6379") or a redis://, rediss://, valkey:// or valkeys:// URL, got string "redis://:xxxxx@h:0" (the port must be from 1 to 65535)`},
		},
		{
			name: "not an object",
			doc:  "{\"distributed\": true}",
			want: []string{"flujo.json:1:17: /distributed: must be an object, got boolean true"},
		},
		{
			name: "top-level typo",
			doc:  "{\"distribute\": {}}",
			want: []string{"flujo.json:1:2: /distribute: unknown field (did you mean distributed?)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Parse("flujo.json", []byte(tc.doc))
			got := problemLines(t, err)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestLoadNeverShowsThePassword: no problem of a file shows the password
// of its address, whatever else is wrong with it.
func TestLoadNeverShowsThePassword(t *testing.T) {
	const pw = "s3cr3t-pa55"
	l := newTestLoader(t)
	for _, addr := range []string{
		"redis://app:" + pw + "@h:99999",
		"redis://app:" + pw + " @h:1",
		"http://app:" + pw + "@h:1",
		"app:" + pw + "@h:1",
		"redis://:" + pw + "%zz@h:1",
		"redis://" + pw + "@",
		"redis://app:" + pw + "\u00e9@h:1",
	} {
		for _, doc := range []map[string]any{
			{"distributed": map[string]any{"address": addr}},
			{"distributed": map[string]any{"address": addr, "address_env": "X"}},
			{"distributed": map[string]any{"address": addr, "command_timeout_ms": "x"}},
			{"distributed": map[string]any{"address": []string{addr}}},
			{"distributed": map[string]any{"key_prefix": addr}},
			{"distributed": map[string]any{"address_env": addr}},
			{"distributed": addr},
		} {
			data, _ := json.Marshal(doc)
			_, err := l.Parse("flujo.json", data)
			if err == nil {
				t.Errorf("%s: accepted", data)
				continue
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("%s: the password shows in\n%v", data, err)
			}
		}
	}
}

// FuzzDistributedAgrees: on any section, Load and the runtime accept the
// same files and read the same configuration; what the runtime accepts
// the schema accepts (the schema is looser only where Go checks more);
// and no problem shows a password.
func FuzzDistributedAgrees(f *testing.F) {
	for _, tc := range distributedDocs() {
		f.Add([]byte(tc.doc))
	}
	f.Add([]byte(`{"address": "redis://u:pw@h:1", "address_env": "X", "command_timeout_ms": 0}`))
	l := newTestLoader(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 4096 || !json.Valid(doc) || hugeExponent.Match(doc) {
			return
		}
		file := append(append([]byte(`{"distributed": `), doc...), '}')
		loadersAgree(t, l, "fuzz", file)
		_, rerr := runtime.ParseDistributedConfig(doc)
		if _, dups := runtime.CheckDocument(doc); rerr == nil && len(dups) == 0 && !distributedSchemaAccepts(t, l, doc) {
			t.Errorf("%s: the runtime accepts it, the schema does not", doc)
		}
		const pw = "pw"
		if !bytes.Contains(doc, []byte(":"+pw+"@")) {
			return
		}
		// Only values are secret: a member's name shows in its pointer.
		var members map[string]json.RawMessage
		if json.Unmarshal(doc, &members) == nil {
			for k := range members {
				if strings.Contains(k, "@") {
					return
				}
			}
		}
		for _, err := range []error{rerr, func() error { _, err := l.Parse("f.json", file); return err }()} {
			if err != nil && strings.Contains(err.Error(), ":"+pw+"@") {
				t.Errorf("%s: the password shows in %v", doc, err)
			}
		}
	})
}
