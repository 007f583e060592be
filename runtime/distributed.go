package runtime

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DistributedConfig is the "distributed" section of flujo.json: where the
// Redis or Valkey server that the replicas of a service share is, how long
// a call to it may take, the prefix of every key written there, and which
// parts are shared (result cache, breaker state, usage budgets).
//
// The address may hold a password (redis://user:password@host:6379). It
// never leaves the struct in the clear: String, GoString, MarshalJSON,
// LogValue and every error message show it as "xxxxx" (see Redacted).
// AddressEnv names an environment variable instead; its value is read by
// ResolveAddress when connecting and never stored.
//
// The zero value is not the default: start from DefaultDistributedConfig,
// or decode a section with ParseDistributedConfig, which lays it over the
// defaults.
type DistributedConfig struct {
	// Address is the server's address: "host:port" such as
	// "127.0.0.1:6379", or a redis://, rediss://, valkey:// or valkeys://
	// URL, which may carry a user and a password. Exactly one of Address
	// and AddressEnv is set when the section is enabled.
	Address string `json:"address,omitempty"`
	// AddressEnv is the name of an environment variable holding the
	// address, so that a password need not be written in the file.
	AddressEnv string `json:"address_env,omitempty"`
	// KeyPrefix begins every key the executors write ("flujo:" by
	// default): printable ASCII without spaces, at most 128 characters.
	KeyPrefix string `json:"key_prefix"`
	// DialTimeoutMs bounds connecting to the server, in milliseconds.
	DialTimeoutMs int `json:"dial_timeout_ms"`
	// CommandTimeoutMs bounds every call to the server, in milliseconds;
	// a call that takes longer counts as degraded and the executor goes
	// on with its local state.
	CommandTimeoutMs int `json:"command_timeout_ms"`
	// ReconcileIntervalMs is how often the shared breaker state is read
	// back, in milliseconds, so that a lost notification still opens a
	// breaker on every replica.
	ReconcileIntervalMs int `json:"reconcile_interval_ms"`
	// Cache shares step results (a second-level cache behind the local one).
	Cache bool `json:"cache"`
	// Breaker shares circuit-breaker transitions.
	Breaker bool `json:"breaker"`
	// Budgets enforces usage budgets across replicas.
	Budgets bool `json:"budgets"`
}

// DefaultDistributedConfig returns the defaults of the distributed
// section: no address, key prefix "flujo:", a 1 s dial timeout, a 50 ms
// command timeout, breaker state re-read every 500 ms, and every part
// shared.
func DefaultDistributedConfig() DistributedConfig {
	return DistributedConfig{
		KeyPrefix:           "flujo:",
		DialTimeoutMs:       1000,
		CommandTimeoutMs:    50,
		ReconcileIntervalMs: 500,
		Cache:               true,
		Breaker:             true,
		Budgets:             true,
	}
}

// The patterns of the distributed section's strings. The JSON Schema uses
// the same expressions, written so that Go's and ECMAScript's regular
// expressions read them alike (no \s, no Unicode classes).
const (
	// DistributedAddressPattern is the shape of an address: a URL of one
	// of the schemes, or "host:port" without "/" or "@"; the rest (a host,
	// a port from 1 to 65535, a URL that parses) only Go checks.
	DistributedAddressPattern = `^((redis|rediss|valkey|valkeys)://[!-~]+|[!-.0-?A-~]+:[0-9]+)$`
	// DistributedAddressEnvPattern is the name of an environment variable.
	DistributedAddressEnvPattern = `^[A-Za-z_][A-Za-z0-9_]*$`
	// DistributedKeyPrefixPattern is printable ASCII without spaces.
	DistributedKeyPrefixPattern = `^[!-~]+$`
	// DistributedKeyPrefixMaxLength is the longest key prefix, in characters.
	DistributedKeyPrefixMaxLength = 128
)

var (
	addressRE    = regexp.MustCompile(DistributedAddressPattern)
	addressEnvRE = regexp.MustCompile(DistributedAddressEnvPattern)
	keyPrefixRE  = regexp.MustCompile(DistributedKeyPrefixPattern)
)

// distributedURLSchemes are the URL schemes an address may use.
var distributedURLSchemes = []string{"redis", "rediss", "valkey", "valkeys"}

// The bounds of the distributed section's durations, in milliseconds.
const (
	maxDistributedMs     = 60_000
	minReconcileInterval = 10
)

// DistributedField describes one member of the distributed section: its
// JSON name, type, range or pattern, default and documentation. The JSON
// Schema generator and the validator both read this table.
type DistributedField struct {
	Name string
	// Kind is FieldBool, FieldInteger or FieldString.
	Kind ConfigFieldKind
	// Min and Max are the inclusive bounds of an integer.
	Min, Max int
	// Pattern is the regular expression a string matches, MaxLength its
	// longest length in characters (0: no limit).
	Pattern   string
	MaxLength int
	// Default is the value of an absent member; nil when there is none.
	Default     any
	Description string
}

// DistributedFields lists the members of the distributed section in
// declaration order.
func DistributedFields() []DistributedField {
	d := DefaultDistributedConfig()
	return []DistributedField{
		{Name: "address", Kind: FieldString, Pattern: DistributedAddressPattern,
			Description: `Address of the shared Redis or Valkey server: "host:port" such as "127.0.0.1:6379", or a redis://, rediss:// (TLS), valkey:// or valkeys:// (TLS) URL, which may carry a user and password (shown as xxxxx wherever the configuration is printed). Set this or address_env, not both.`},
		{Name: "address_env", Kind: FieldString, Pattern: DistributedAddressEnvPattern,
			Description: "Name of an environment variable holding the address, read when the executor connects; keeps a password out of the file. Set this or address, not both."},
		{Name: "key_prefix", Kind: FieldString, Pattern: DistributedKeyPrefixPattern, MaxLength: DistributedKeyPrefixMaxLength, Default: d.KeyPrefix,
			Description: "Prefix of every key the executors write on the server (printable ASCII without spaces); give each service or environment its own."},
		{Name: "dial_timeout_ms", Kind: FieldInteger, Min: 1, Max: maxDistributedMs, Default: d.DialTimeoutMs,
			Description: "Longest time to connect to the server, in milliseconds."},
		{Name: "command_timeout_ms", Kind: FieldInteger, Min: 1, Max: maxDistributedMs, Default: d.CommandTimeoutMs,
			Description: "Longest time one call to the server may take, in milliseconds; past it the call counts as degraded and the executor uses its local state (local cache, breakers and budgets)."},
		{Name: "reconcile_interval_ms", Kind: FieldInteger, Min: minReconcileInterval, Max: maxDistributedMs, Default: d.ReconcileIntervalMs,
			Description: "How often the shared breaker state is read back from the server, in milliseconds, so that a lost notification still opens a breaker on every replica."},
		{Name: "cache", Kind: FieldBool, Default: d.Cache,
			Description: "Share cached step results between replicas: a second-level cache behind each executor's own."},
		{Name: "breaker", Kind: FieldBool, Default: d.Breaker,
			Description: "Share circuit-breaker transitions: a breaker that opens on one replica opens on every replica."},
		{Name: "budgets", Kind: FieldBool, Default: d.Budgets,
			Description: "Enforce named usage budgets across replicas, atomically on the server."},
	}
}

// DistributedFieldNames returns the JSON names of the distributed
// section's members in declaration order.
func DistributedFieldNames() []string {
	fs := DistributedFields()
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return names
}

// distributedField returns the member of DistributedFields named name.
func distributedField(name string) DistributedField {
	for _, f := range DistributedFields() {
		if f.Name == name {
			return f
		}
	}
	panic("runtime: no distributed field " + name)
}

// Allowed describes the field's values in words, e.g. "an integer from 1 to 60000".
func (f DistributedField) Allowed() string {
	switch f.Kind {
	case FieldBool:
		return "true or false"
	case FieldInteger:
		return fmt.Sprintf("an integer from %d to %d", f.Min, f.Max)
	}
	switch f.Name {
	case "address":
		return `"host:port" (such as "127.0.0.1:6379") or a redis://, rediss://, valkey:// or valkeys:// URL`
	case "address_env":
		return "the name of an environment variable (letters, digits and _, not starting with a digit)"
	case "key_prefix":
		return fmt.Sprintf(`printable ASCII without spaces (such as "flujo:" or "shop:prod:"), at most %d characters`, DistributedKeyPrefixMaxLength)
	}
	return "a string"
}

// The rules between members, in the words both validators use.
const (
	// DistributedBothAddresses: address and address_env are both set.
	DistributedBothAddresses = "address and address_env are both set; keep one"
	// DistributedNoAddress: an enabled section names no server.
	DistributedNoAddress = "missing: set address (or address_env, the name of an environment variable holding it), or turn cache, breaker and budgets off"
)

// Enabled reports whether the section is present (c is not nil) and
// shares at least one part.
func (c *DistributedConfig) Enabled() bool {
	return c != nil && (c.Cache || c.Breaker || c.Budgets)
}

// DialTimeout returns dial_timeout_ms as a duration.
func (c DistributedConfig) DialTimeout() time.Duration {
	return time.Duration(c.DialTimeoutMs) * time.Millisecond
}

// CommandTimeout returns command_timeout_ms as a duration: the bound of
// every call to the server.
func (c DistributedConfig) CommandTimeout() time.Duration {
	return time.Duration(c.CommandTimeoutMs) * time.Millisecond
}

// ReconcileInterval returns reconcile_interval_ms as a duration.
func (c DistributedConfig) ReconcileInterval() time.Duration {
	return time.Duration(c.ReconcileIntervalMs) * time.Millisecond
}

// Validate checks every member and the rules between them and returns a
// *ValidationError (Section "distributed") listing every problem, or nil.
// No message holds the address's password.
func (c DistributedConfig) Validate() error {
	var problems []*FieldError
	add := func(field string, value any, msg string) {
		problems = append(problems, &FieldError{Field: field, Value: value, Message: msg})
	}
	for _, f := range DistributedFields() {
		switch f.Name {
		case "address":
			if c.Address != "" {
				if msg := checkAddress(c.Address); msg != "" {
					add(f.Name, RedactAddress(c.Address), msg)
				}
			}
		case "address_env":
			if c.AddressEnv != "" && !addressEnvRE.MatchString(c.AddressEnv) {
				add(f.Name, c.AddressEnv, "must be "+f.Allowed()+", got "+describeString(c.AddressEnv))
			}
		case "key_prefix":
			if msg := checkKeyPrefix(c.KeyPrefix); msg != "" {
				add(f.Name, c.KeyPrefix, msg)
			}
		default:
			if f.Kind != FieldInteger {
				continue
			}
			v := c.intField(f.Name)
			if v < f.Min || v > f.Max {
				add(f.Name, v, rangeMessage(f, strconv.Itoa(v)))
			}
		}
	}
	switch {
	case c.Address != "" && c.AddressEnv != "":
		add("address", nil, DistributedBothAddresses)
	case c.Address == "" && c.AddressEnv == "" && c.Enabled():
		add("address", nil, DistributedNoAddress)
	}
	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{Section: "distributed", Problems: problems}
}

func (c *DistributedConfig) intField(name string) int {
	switch name {
	case "dial_timeout_ms":
		return c.DialTimeoutMs
	case "command_timeout_ms":
		return c.CommandTimeoutMs
	case "reconcile_interval_ms":
		return c.ReconcileIntervalMs
	}
	return 0
}

func (c *DistributedConfig) setInt(name string, v int) {
	switch name {
	case "dial_timeout_ms":
		c.DialTimeoutMs = v
	case "command_timeout_ms":
		c.CommandTimeoutMs = v
	case "reconcile_interval_ms":
		c.ReconcileIntervalMs = v
	}
}

func (c *DistributedConfig) setBool(name string, v bool) {
	switch name {
	case "cache":
		c.Cache = v
	case "breaker":
		c.Breaker = v
	case "budgets":
		c.Budgets = v
	}
}

func (c *DistributedConfig) setString(name, v string) {
	switch name {
	case "address":
		c.Address = v
	case "address_env":
		c.AddressEnv = v
	case "key_prefix":
		c.KeyPrefix = v
	}
}

func rangeMessage(f DistributedField, got string) string {
	return fmt.Sprintf("must be %s, got %s", f.Allowed(), got)
}

func checkKeyPrefix(s string) string {
	f := distributedField("key_prefix")
	switch {
	case !keyPrefixRE.MatchString(s):
		return "must be " + f.Allowed() + ", got " + describeString(s)
	case len(s) > DistributedKeyPrefixMaxLength: // ASCII: bytes are characters
		return fmt.Sprintf("must be at most %d characters, got %d", DistributedKeyPrefixMaxLength, len(s))
	}
	return ""
}

// checkAddress returns what is wrong with addr, or "". The message shows
// addr with its password redacted.
func checkAddress(addr string) string {
	bad := func(why string) string {
		f := distributedField("address")
		return "must be " + f.Allowed() + ", got " + describeString(addr) + " (" + why + ")"
	}
	if !addressRE.MatchString(addr) {
		printable := strings.IndexFunc(addr, func(r rune) bool { return r <= ' ' || r > '~' }) < 0
		switch {
		case addr == "":
			return bad("empty")
		case !printable:
			return bad("printable ASCII without spaces; percent-encode other characters")
		case strings.Contains(addr, "://"):
			return bad("the scheme must be redis, rediss, valkey or valkeys")
		case strings.Contains(addr, "@"):
			return bad("a user or password needs a URL such as redis://user:password@host:6379")
		case strings.Contains(addr, "/"):
			return bad(`no "/" outside a URL`)
		}
		return bad("no port")
	}
	host, port := "", ""
	if scheme, _, ok := strings.Cut(addr, "://"); ok {
		if !slices.Contains(distributedURLSchemes, scheme) {
			return bad("the scheme must be redis, rediss, valkey or valkeys")
		}
		// url.Parse's errors quote the URL, password included: never
		// pass them on.
		u, err := url.Parse(addr)
		if err != nil {
			return bad("not a valid URL; percent-encode special characters of the password")
		}
		host, port = u.Hostname(), u.Port()
		if host == "" {
			return bad("no host")
		}
		if port == "" {
			return ""
		}
	} else {
		var err error
		if host, port, err = net.SplitHostPort(addr); err != nil || host == "" {
			return bad("no host")
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return bad("the port must be from 1 to 65535")
	}
	return ""
}

// describeString describes s as messages describe a JSON string, cut to
// one short line, redacted with RedactAddress: a password written in the
// wrong member is hidden too.
func describeString(s string) string {
	q := strconv.Quote(RedactAddress(s))
	const limit = 80
	if len(q) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(q[cut]) {
			cut--
		}
		q = q[:cut] + "..."
	}
	return "string " + q
}

// RedactedPassword replaces a password wherever a configuration is shown.
const RedactedPassword = "xxxxx"

// RedactAddress returns addr with the password of its user information
// replaced by RedactedPassword: "redis://user:secret@host:6379" becomes
// "redis://user:xxxxx@host:6379" and "redis://:secret@host" becomes
// "redis://:xxxxx@host". User information without a colon
// ("redis://token@host") is redacted whole, since some clients read it as
// a password. It works on malformed addresses too, erring on the side of
// hiding more: everything before the last "@" is user information.
func RedactAddress(addr string) string {
	start := 0
	if i := strings.Index(addr, "://"); i >= 0 {
		start = i + len("://")
	}
	at := strings.LastIndexByte(addr[start:], '@')
	if at <= 0 {
		return addr
	}
	at += start
	user := addr[start:at]
	if c := strings.IndexByte(user, ':'); c >= 0 {
		return addr[:start] + user[:c+1] + RedactedPassword + addr[at:]
	}
	return addr[:start] + RedactedPassword + addr[at:]
}

// Redacted returns a copy of c whose address shows RedactedPassword in
// place of a password. It is what String, MarshalJSON and LogValue show;
// use c itself, not the copy, to connect.
func (c DistributedConfig) Redacted() DistributedConfig {
	c.Address = RedactAddress(c.Address)
	return c
}

// String describes the configuration on one line, the password redacted.
func (c DistributedConfig) String() string {
	r := c.Redacted()
	where := "address " + strconv.Quote(r.Address)
	switch {
	case r.Address == "" && r.AddressEnv == "":
		where = "no address"
	case r.Address == "":
		where = "address from $" + r.AddressEnv
	}
	var parts []string
	for _, p := range []struct {
		name string
		on   bool
	}{{"cache", r.Cache}, {"breaker", r.Breaker}, {"budgets", r.Budgets}} {
		if p.on {
			parts = append(parts, p.name)
		}
	}
	shared := "nothing"
	if len(parts) > 0 {
		shared = strings.Join(parts, ", ")
	}
	return fmt.Sprintf("sharing %s on %s, key prefix %q, dial timeout %v, command timeout %v, breaker state re-read every %v",
		shared, where, r.KeyPrefix, r.DialTimeout(), r.CommandTimeout(), r.ReconcileInterval())
}

// GoString is String's counterpart for %#v: the fields, password redacted.
func (c DistributedConfig) GoString() string {
	type plain DistributedConfig
	return fmt.Sprintf("runtime.DistributedConfig%+v", plain(c.Redacted()))
}

// LogValue logs the configuration as a group, password redacted.
func (c DistributedConfig) LogValue() slog.Value {
	r := c.Redacted()
	return slog.GroupValue(
		slog.String("address", r.Address),
		slog.String("address_env", r.AddressEnv),
		slog.String("key_prefix", r.KeyPrefix),
		slog.Int("dial_timeout_ms", r.DialTimeoutMs),
		slog.Int("command_timeout_ms", r.CommandTimeoutMs),
		slog.Int("reconcile_interval_ms", r.ReconcileIntervalMs),
		slog.Bool("cache", r.Cache),
		slog.Bool("breaker", r.Breaker),
		slog.Bool("budgets", r.Budgets),
	)
}

// MarshalJSON encodes every member, the password redacted: an exported
// section is for reading, and connecting with it fails to authenticate.
func (c DistributedConfig) MarshalJSON() ([]byte, error) {
	type plain DistributedConfig
	return json.Marshal(plain(c.Redacted()))
}

// UnmarshalJSON decodes a distributed section as ParseDistributedConfig
// does: strictly, over the defaults, validated.
func (c *DistributedConfig) UnmarshalJSON(data []byte) error {
	out, err := ParseDistributedConfig(data)
	if err != nil {
		return err
	}
	*c = out
	return nil
}

// ParseDistributedConfig decodes data, a distributed section (a JSON
// object), laid over DefaultDistributedConfig. Decoding is strict: unknown
// members (with a suggestion), wrong types and null are errors. The result
// is validated with Validate. Every problem is reported in one
// *ValidationError whose FieldError.Field names the member; no message
// holds the address's password.
func ParseDistributedConfig(data []byte) (DistributedConfig, error) {
	trimmed := bytes.TrimSpace(data)
	if !isObject(trimmed) {
		return DistributedConfig{}, &ValidationError{Section: "distributed", Problems: []*FieldError{{
			Message: "must be an object, got " + describeSecretJSON(string(trimmed)),
		}}}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return DistributedConfig{}, fmt.Errorf("invalid distributed config: malformed JSON: %w", err)
	}
	out := DefaultDistributedConfig()
	var problems []*FieldError
	byName := map[string]DistributedField{}
	for _, f := range DistributedFields() {
		byName[f.Name] = f
	}
	keys := slices.SortedFunc(maps.Keys(raw), func(a, b string) int {
		return cmp.Or(cmp.Compare(distributedOrder(a), distributedOrder(b)), strings.Compare(a, b))
	})
	for _, k := range keys {
		f, ok := byName[k]
		if !ok {
			problems = append(problems, UnknownFieldError(k, DistributedFieldNames()))
			continue
		}
		if p := decodeDistributedField(&out, f, raw[k]); p != nil {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return DistributedConfig{}, &ValidationError{Section: "distributed", Problems: problems}
	}
	if err := out.Validate(); err != nil {
		return DistributedConfig{}, err
	}
	return out, nil
}

func distributedOrder(name string) int {
	if i := slices.Index(DistributedFieldNames(), name); i >= 0 {
		return i
	}
	return len(DistributedFields())
}

// decodeDistributedField decodes one member's raw JSON value into c.
func decodeDistributedField(c *DistributedConfig, f DistributedField, raw json.RawMessage) *FieldError {
	text := string(bytes.TrimSpace(raw))
	typeErr := func() *FieldError {
		return &FieldError{Field: f.Name, Message: "must be " + f.Allowed() + ", got " + describeSecretJSON(text)}
	}
	switch f.Kind {
	case FieldBool:
		switch text {
		case "true":
			c.setBool(f.Name, true)
		case "false":
			c.setBool(f.Name, false)
		default:
			return typeErr()
		}
	case FieldString:
		var s string
		if !strings.HasPrefix(text, `"`) || json.Unmarshal(raw, &s) != nil {
			return typeErr()
		}
		var msg string
		switch f.Name {
		case "address":
			msg = checkAddress(s)
		case "address_env":
			if !addressEnvRE.MatchString(s) {
				msg = "must be " + f.Allowed() + ", got " + describeString(s)
			}
		case "key_prefix":
			msg = checkKeyPrefix(s)
		}
		if msg != "" {
			return &FieldError{Field: f.Name, Message: msg}
		}
		c.setString(f.Name, s)
	case FieldInteger:
		var num json.Number
		if strings.HasPrefix(text, `"`) || json.Unmarshal(raw, &num) != nil {
			return typeErr()
		}
		r, ok := new(big.Rat).SetString(num.String())
		if !ok {
			return typeErr()
		}
		if !r.IsInt() {
			return &FieldError{Field: f.Name, Value: text, Message: "must be an integer, got " + text}
		}
		// Range-check exactly before converting, so huge values never wrap.
		if r.Cmp(big.NewRat(int64(f.Min), 1)) < 0 || r.Cmp(big.NewRat(int64(f.Max), 1)) > 0 {
			return &FieldError{Field: f.Name, Value: text, Message: rangeMessage(f, text)}
		}
		c.setInt(f.Name, int(r.Num().Int64()))
	}
	return nil
}

// describeSecretJSON describes raw JSON text as messages do, a string's
// password redacted.
func describeSecretJSON(text string) string {
	var s string
	if strings.HasPrefix(text, `"`) && json.Unmarshal([]byte(text), &s) == nil {
		return describeString(s)
	}
	if strings.HasPrefix(text, `"`) {
		return "a string"
	}
	return describeJSON(text)
}

// ResolveAddress returns the address to connect to: Address, or the value
// of the environment variable AddressEnv names. An unset or empty
// variable, or a value that is no address, is an error that names the
// variable; no error holds the password.
func (c DistributedConfig) ResolveAddress() (string, error) {
	if c.Address != "" {
		if msg := checkAddress(c.Address); msg != "" {
			return "", fmt.Errorf("distributed: address: %s", msg)
		}
		return c.Address, nil
	}
	if c.AddressEnv == "" {
		return "", errors.New("distributed: no address: set address, or address_env to the name of an environment variable holding it")
	}
	v, ok := os.LookupEnv(c.AddressEnv)
	switch {
	case !ok:
		return "", fmt.Errorf("distributed: address_env: environment variable %s is not set; set it to the server's address, such as 127.0.0.1:6379 or redis://:password@host:6379", c.AddressEnv)
	case v == "":
		return "", fmt.Errorf("distributed: address_env: environment variable %s is empty; set it to the server's address, such as 127.0.0.1:6379 or redis://:password@host:6379", c.AddressEnv)
	}
	if msg := checkAddress(v); msg != "" {
		return "", fmt.Errorf("distributed: address_env: environment variable %s %s", c.AddressEnv, msg)
	}
	return v, nil
}
