package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

const secret = "s3cr3t-pa55"

func TestDistributedDefaults(t *testing.T) {
	d, err := ParseDistributedConfig([]byte(`{"address": "127.0.0.1:6379"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultDistributedConfig()
	want.Address = "127.0.0.1:6379"
	if d != want {
		t.Errorf("got %#v, want %#v", d, want)
	}
	if d.KeyPrefix != "flujo:" || d.DialTimeout() != time.Second || d.CommandTimeout() != 50*time.Millisecond ||
		d.ReconcileInterval() != 500*time.Millisecond || !d.Cache || !d.Breaker || !d.Budgets {
		t.Errorf("defaults: %v", d)
	}
	if !d.Enabled() {
		t.Error("a section with every part on is not enabled")
	}
	var none *DistributedConfig
	if none.Enabled() {
		t.Error("a missing section is enabled")
	}
	off := DistributedConfig{}
	if off.Enabled() {
		t.Error("a section with every part off is enabled")
	}
	// Every member of the table is a JSON member of the struct, in order.
	b, err := json.Marshal(DefaultDistributedConfig())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, f := range DistributedFields() {
		if _, ok := m[f.Name]; !ok && f.Default != nil {
			t.Errorf("%s has a default but is not marshalled", f.Name)
		}
		if f.Default != nil && fmt.Sprint(m[f.Name]) != fmt.Sprint(f.Default) {
			t.Errorf("%s: marshalled default %v, table %v", f.Name, m[f.Name], f.Default)
		}
	}
}

func TestParseDistributedConfig(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want []string // "field: message fragment", in order; nil: accepted
	}{
		{`{"address": "127.0.0.1:6379"}`, nil},
		{`{"address": "redis://user:pw@cache.internal:6379/0"}`, nil},
		{`{"address": "rediss://:pw@cache.internal"}`, nil},
		{`{"address": "valkey://h:1"}`, nil},
		{`{"address": "valkeys://[::1]:6380"}`, nil},
		{`{"address": "[::1]:6379"}`, nil},
		{`{"address_env": "REDIS_URL", "key_prefix": "shop:prod:", "dial_timeout_ms": 60000, "command_timeout_ms": 1, "reconcile_interval_ms": 10}`, nil},
		{`{"cache": false, "breaker": false, "budgets": false}`, nil},
		{`{"command_timeout_ms": 1.0, "address": "h:1"}`, nil},
		{`{}`, []string{"address: missing: set address"}},
		{`{"cache": false, "breaker": false}`, []string{"address: missing"}},
		{`{"address": "h:1", "address_env": "X"}`, []string{"address: address and address_env are both set"}},
		{`{"address": "h:1", "command_timeout_ms": 0}`, []string{"command_timeout_ms: must be an integer from 1 to 60000, got 0"}},
		{`{"address": "h:1", "dial_timeout_ms": 60001}`, []string{"dial_timeout_ms: must be an integer from 1 to 60000, got 60001"}},
		{`{"address": "h:1", "reconcile_interval_ms": 9}`, []string{"reconcile_interval_ms: must be an integer from 10 to 60000, got 9"}},
		{`{"address": "h:1", "command_timeout_ms": 1.5}`, []string{"command_timeout_ms: must be an integer, got 1.5"}},
		{`{"address": "h:1", "command_timeout_ms": 9223372036854775808}`, []string{"command_timeout_ms: must be an integer from 1 to 60000"}},
		{`{"address": "h:1", "command_timeout_ms": "50"}`, []string{`command_timeout_ms: must be an integer from 1 to 60000, got string "50"`}},
		{`{"address": "h:1", "cache": "yes"}`, []string{`cache: must be true or false, got string "yes"`}},
		{`{"address": "h:1", "cache": null}`, []string{"cache: must be true or false, got null"}},
		{`{"address": 6379}`, []string{"address: must be \"host:port\""}},
		{`{"address": ""}`, []string{"address: must be", "(empty)"}},
		{`{"address": "localhost"}`, []string{"(no port)"}},
		{`{"address": "h:0"}`, []string{"(the port must be from 1 to 65535)"}},
		{`{"address": "h:65536"}`, []string{"(the port must be from 1 to 65535)"}},
		{`{"address": "http://h:1"}`, []string{"(the scheme must be redis, rediss, valkey or valkeys)"}},
		{`{"address": "redis://h:99999"}`, []string{"(the port must be from 1 to 65535)"}},
		{`{"address": "redis://:pw@"}`, []string{"(no host)"}},
		{`{"address": "h :1"}`, []string{"percent-encode"}},
		{`{"address": "u:pw@h:1"}`, []string{"needs a URL"}},
		{`{"address_env": "1X"}`, []string{`address_env: must be the name of an environment variable`}},
		{`{"address_env": ""}`, []string{`address_env: must be the name`}},
		{`{"address": "h:1", "key_prefix": ""}`, []string{`key_prefix: must be printable ASCII`}},
		{`{"address": "h:1", "key_prefix": "a b"}`, []string{`key_prefix: must be printable ASCII`}},
		{`{"address": "h:1", "key_prefix": "é"}`, []string{`key_prefix: must be printable ASCII`}},
		{`{"address": "h:1", "key_prefix": "` + strings.Repeat("k", 129) + `"}`, []string{`key_prefix: must be at most 128 characters, got 129`}},
		{`{"address": "h:1", "key_prefx": "p:"}`, []string{`key_prefx: unknown field (did you mean key_prefix?)`}},
		{`[]`, []string{": must be an object, got an array"}},
		{`null`, []string{": must be an object, got null"}},
	} {
		d, err := ParseDistributedConfig([]byte(tc.doc))
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.doc, err)
			} else if verr := d.Validate(); verr != nil {
				t.Errorf("%s: parsed, but Validate says %v", tc.doc, verr)
			}
			continue
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: error %v, want a *ValidationError", tc.doc, err)
			continue
		}
		if ve.Section != "distributed" || !strings.HasPrefix(err.Error(), "invalid distributed config: ") {
			t.Errorf("%s: %q does not name the distributed section", tc.doc, err)
		}
		var got []string
		for _, p := range ve.Problems {
			got = append(got, p.Field+": "+p.Message)
		}
		all := strings.Join(got, "\n")
		for _, w := range tc.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: problems\n%s\nwant one containing %q", tc.doc, all, w)
			}
		}
	}
}

// TestDistributedValidate: the struct's own check, as a program builds it.
func TestDistributedValidate(t *testing.T) {
	c := DistributedConfig{Address: "redis://u:" + secret + "@h:70000", AddressEnv: "X", KeyPrefix: " ", CommandTimeoutMs: 0, DialTimeoutMs: 1, ReconcileIntervalMs: 60001, Cache: true}
	err := c.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v", err)
	}
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
		if strings.Contains(fmt.Sprint(p.Value), secret) {
			t.Errorf("problem %s holds the password in its value: %v", p.Field, p.Value)
		}
	}
	if got := strings.Join(fields, ","); got != "address,key_prefix,command_timeout_ms,reconcile_interval_ms,address" {
		t.Errorf("problems of %s, want every field in order then the rule", got)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error holds the password: %v", err)
	}
	if err := DefaultDistributedConfig().Validate(); err == nil {
		t.Error("the defaults name no server yet are valid")
	}
}

func TestRedactAddress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:6379", "127.0.0.1:6379"},
		{"redis://h:6379/0", "redis://h:6379/0"},
		{"redis://user:pw@h:6379/0", "redis://user:xxxxx@h:6379/0"},
		{"rediss://:pw@h", "rediss://:xxxxx@h"},
		{"redis://token@h", "redis://xxxxx@h"},
		{"redis://user:p@ss:w@rd@h:1", "redis://user:xxxxx@h:1"},
		{"redis://user:p/a?ss#@h:1", "redis://user:xxxxx@h:1"},
		{"user:pw@h:1", "user:xxxxx@h:1"},
		{"redis://@h", "redis://@h"},
		{"", ""},
	} {
		if got := RedactAddress(tc.in); got != tc.want {
			t.Errorf("RedactAddress(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDistributedNeverShowsThePassword: every way a program prints,
// logs, exports or reports the configuration.
func TestDistributedNeverShowsThePassword(t *testing.T) {
	for _, addr := range []string{
		"redis://app:" + secret + "@cache.internal:6379/0",
		"rediss://:" + secret + "@cache.internal",
		"redis://" + secret + "@cache.internal:1",
		"redis://app:" + secret + "@cache.internal:99999",         // invalid port
		"redis://app:" + secret + " x@cache.internal:1",           // a space
		"redis://app:" + secret + "%zz@cache.internal:1",          // bad escape: url.Parse fails
		"http://app:" + secret + "@cache.internal:1",              // wrong scheme
		"app:" + secret + "@cache.internal:1",                     // no scheme
		"redis://app:" + secret + "@",                             // no host
		"redis://app:" + strings.Repeat(secret, 10) + "@h:1",      // long
		"redis://app:" + secret + "\u00e9@cache.internal:1",       // not ASCII
		"redis://app:" + secret + "@cache.internal:1/?x=" + "@h2", // an @ later
	} {
		c := DefaultDistributedConfig()
		c.Address = addr
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "%v %+v %#v %s\n", c, c, c, c)
		fmt.Fprintf(&buf, "%v %+v %#v %s\n", &c, &c, &c, &c)
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		b, _ = json.Marshal(struct{ D *DistributedConfig }{&c})
		buf.Write(b)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "distributed", c)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "distributed", &c)
		if err := c.Validate(); err != nil {
			buf.WriteString(err.Error())
			var ve *ValidationError
			errors.As(err, &ve)
			for _, p := range ve.Problems {
				fmt.Fprintf(&buf, "%v", p.Value)
			}
		}
		if _, err := c.ResolveAddress(); err != nil {
			buf.WriteString(err.Error())
		}
		doc, _ := json.Marshal(map[string]any{"address": addr, "key_prefix": 3})
		if _, err := ParseDistributedConfig(doc); err != nil {
			buf.WriteString(err.Error())
		}
		// The section written as a string, in a file.
		file, _ := json.Marshal(map[string]any{"distributed": addr})
		if _, err := ParseConfigFile("flujo.json", file); err != nil {
			buf.WriteString(err.Error())
		}
		file, _ = json.Marshal(map[string]any{"distributed": map[string]any{"address": addr, "address_env": "X"}})
		if _, err := ParseConfigFile("flujo.json", file); err != nil {
			buf.WriteString(err.Error())
		}
		if strings.Contains(buf.String(), secret) || strings.Contains(buf.String(), "s3cr3t") {
			t.Errorf("%s: the password shows in\n%s", addr, buf.String())
		}
	}
}

func TestDistributedResolveAddress(t *testing.T) {
	c := DefaultDistributedConfig()
	c.AddressEnv = "FLUJO_TEST_REDIS_ADDRESS"
	if _, err := c.ResolveAddress(); err == nil || !strings.Contains(err.Error(), "environment variable FLUJO_TEST_REDIS_ADDRESS is not set") {
		t.Errorf("unset: %v", err)
	}
	t.Setenv("FLUJO_TEST_REDIS_ADDRESS", "")
	if _, err := c.ResolveAddress(); err == nil || !strings.Contains(err.Error(), "environment variable FLUJO_TEST_REDIS_ADDRESS is empty") {
		t.Errorf("empty: %v", err)
	}
	t.Setenv("FLUJO_TEST_REDIS_ADDRESS", "redis://:"+secret+"@h:0")
	_, err := c.ResolveAddress()
	if err == nil || !strings.Contains(err.Error(), "FLUJO_TEST_REDIS_ADDRESS") || strings.Contains(err.Error(), secret) {
		t.Errorf("invalid value: %v", err)
	}
	addr := "redis://:" + secret + "@h:6379"
	t.Setenv("FLUJO_TEST_REDIS_ADDRESS", addr)
	got, err := c.ResolveAddress()
	if err != nil || got != addr {
		t.Errorf("ResolveAddress = %q, %v; want the variable's value", got, err)
	}
	// The value is read when resolving, never stored.
	if strings.Contains(fmt.Sprintf("%#v", c), secret) || c.Address != "" {
		t.Errorf("the configuration holds the variable's value: %#v", c)
	}
	c = DefaultDistributedConfig()
	c.Address = "127.0.0.1:6379"
	if got, err := c.ResolveAddress(); err != nil || got != "127.0.0.1:6379" {
		t.Errorf("ResolveAddress = %q, %v", got, err)
	}
	if _, err := DefaultDistributedConfig().ResolveAddress(); err == nil {
		t.Error("no address resolves")
	}
}

func TestDistributedString(t *testing.T) {
	c := DefaultDistributedConfig()
	c.Address = "redis://app:" + secret + "@h:6379"
	c.Budgets = false
	want := `sharing cache, breaker on address "redis://app:xxxxx@h:6379", key prefix "flujo:", dial timeout 1s, command timeout 50ms, breaker state re-read every 500ms`
	if got := c.String(); got != want {
		t.Errorf("String:\n got %s\nwant %s", got, want)
	}
	c.Address, c.AddressEnv = "", "REDIS_URL"
	if got := c.String(); !strings.Contains(got, "on address from $REDIS_URL") {
		t.Errorf("String: %s", got)
	}
	// A round trip through JSON keeps everything but the password.
	c.Address, c.AddressEnv = "redis://app:"+secret+"@h:6379", ""
	b, _ := json.Marshal(c)
	var back DistributedConfig
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != c.Redacted() {
		t.Errorf("round trip: %#v, want %#v", back, c.Redacted())
	}
}

func TestConfigFileDistributed(t *testing.T) {
	cf, err := ParseConfigFile("f.json", []byte(`{"optimization": {}}`))
	if err != nil || cf.Distributed != nil {
		t.Fatalf("no section: %v, %v", cf, err)
	}
	cf, err = ParseConfigFile("f.json", []byte(`{"distributed": {"address_env": "REDIS_URL", "budgets": false}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultDistributedConfig()
	want.AddressEnv, want.Budgets = "REDIS_URL", false
	if cf.Distributed == nil || *cf.Distributed != want {
		t.Fatalf("Distributed = %#v, want %#v", cf.Distributed, want)
	}
	for _, tc := range []struct{ doc, want string }{
		{`{"distributed": {"address": "h:1", "command_timeout_ms": 0}}`, "f.json: /distributed/command_timeout_ms: must be an integer from 1 to 60000, got 0"},
		{`{"distributed": {"address": "h:1", "comand_timeout_ms": 5}}`, "f.json: /distributed/comand_timeout_ms: unknown field (did you mean command_timeout_ms?)"},
		{`{"distributed": {}}`, "f.json: /distributed/address: missing: set address"},
		{`{"distributed": {"address": "h:1", "address_env": "A"}}`, "f.json: /distributed/address: address and address_env are both set; keep one"},
		{`{"distributed": 3}`, "f.json: /distributed: must be an object, got 3"},
		{`{"distributed": null}`, "f.json: /distributed: must be an object, got null"},
		{`{"distributd": {}}`, "f.json: /distributd: unknown field (did you mean distributed?)"},
	} {
		_, err := ParseConfigFile("f.json", []byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error\n%v\nwant a line %q", tc.doc, err, tc.want)
		}
	}
}
