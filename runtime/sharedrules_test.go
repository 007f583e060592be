package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

type fpA struct {
	Name string `json:"name"`
	Next *fpA
}

type fpB struct {
	Name string `json:"title"`
	Next *fpB
}

func TestTypeFingerprint(t *testing.T) {
	str, ints := reflect.TypeFor[string](), reflect.TypeFor[[]int]()
	a := TypeFingerprint(reflect.TypeFor[fpA](), str)
	if len(a) != 16 || a != TypeFingerprint(reflect.TypeFor[fpA](), str) {
		t.Fatalf("fingerprint %q is not 16 stable hex digits", a)
	}
	for _, other := range []string{
		TypeFingerprint(reflect.TypeFor[fpB](), str),  // a tag changed
		TypeFingerprint(reflect.TypeFor[fpA](), ints), // the output changed
		TypeFingerprint(str, reflect.TypeFor[fpA]()),  // swapped
		TypeFingerprint(reflect.TypeFor[*fpA](), str), // a pointer
	} {
		if other == a {
			t.Errorf("a different type has the fingerprint %q", a)
		}
	}
	if k := SharedCacheKey(SharedCacheKeyPrefix("p", "s", a), []byte(`"x"`)); len(k) != len("c:p/s:")+16+1+16 {
		t.Errorf("key %q", k)
	}
}

type (
	jsonAll struct {
		Name         string            `json:"name,omitempty"`
		At           time.Time         // encodes itself
		Tags         map[string][]int  `json:"tags"`
		Next         *jsonAll          // recursive
		Raw          []byte            // base64
		Pair         [2]float64        `json:",string"`
		Inner        struct{ N uint8 } // anonymous struct type
		jsonEmbedded                   // its exported fields are promoted
	}
	jsonEmbedded struct{ E string }
	jsonHidden   struct{ Q, tenant string }
	jsonDash     struct {
		Q     string
		Token string `json:"-"`
	}
	jsonDeepIface struct{ Meta map[string][]any }
	jsonPtrMethod struct{ n int }
	jsonText      struct{ secret string }
	jsonHashable  struct{ id int }
)

func (h jsonHashable) Hash64() uint64 { return uint64(h.id) }

func (*jsonPtrMethod) MarshalJSON() ([]byte, error) { return []byte(`0`), nil }
func (jsonText) MarshalText() ([]byte, error)       { return []byte(`t`), nil }

func TestCheckSharedCacheTypes(t *testing.T) {
	str := reflect.TypeFor[string]()
	for _, c := range []struct {
		in, out reflect.Type
		want    string // in the error; "" for none
	}{
		{str, str, ""},
		{reflect.TypeFor[jsonAll](), reflect.TypeFor[*jsonAll](), ""},
		{reflect.TypeFor[jsonText](), reflect.TypeFor[jsonDeepIface](), ""}, // an output's interfaces decode as JSON values
		{reflect.TypeFor[*jsonPtrMethod](), str, ""},
		{reflect.TypeFor[jsonHashable](), str, ""}, // says what tells its values apart
		{reflect.TypeFor[jsonHidden](), str, "input.tenant is unexported"},
		{reflect.TypeFor[[]*jsonHidden](), str, "input[i][i].tenant is unexported"},
		{reflect.TypeFor[jsonDash](), str, `input.Token is tagged json:"-"`},
		{reflect.TypeFor[jsonDeepIface](), str, "input.Meta[k][i] is an interface"},
		{reflect.TypeFor[any](), str, "input is an interface"},
		{reflect.TypeFor[jsonPtrMethod](), str, "input.n is unexported"}, // *T's method does not encode a T
		{nil, str, "input has no type"},
		{str, reflect.TypeFor[fmt.Stringer](), "output type fmt.Stringer is an interface"},
		{str, reflect.TypeFor[*any](), "is an interface"},
	} {
		err := CheckSharedCacheTypes(c.in, c.out)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v -> %v: %v; want shared", c.in, c.out, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v -> %v: %v; want an error with %q", c.in, c.out, err, c.want)
		}
	}
}

func TestCheckCodecType(t *testing.T) {
	for _, c := range []struct {
		t    reflect.Type
		want string // in the error; "" for none
	}{
		{reflect.TypeFor[string](), ""},
		{reflect.TypeFor[*jsonAll](), ""},
		{reflect.TypeFor[jsonText](), ""}, // encodes itself
		{reflect.TypeFor[[]jsonHidden](), "output[i].tenant is unexported"},
		{reflect.TypeFor[jsonDash](), `output.Token is tagged json:"-"`},
		{reflect.TypeFor[jsonDeepIface](), "output.Meta[k][i] is an interface"},
		{reflect.TypeFor[any](), "output is an interface"},
		{reflect.TypeFor[fmt.Stringer](), "output is an interface"},
		{reflect.TypeFor[jsonHashable](), "output.id is unexported"}, // hashing itself says nothing of decoding
	} {
		err := CheckCodecType(c.t)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v; want JSON to carry it", c.t, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: %v; want an error with %q", c.t, err, c.want)
		}
	}
}

func TestSharedCacheInputAmbiguous(t *testing.T) {
	for _, c := range []struct {
		in   any
		want bool
	}{
		{"a\xff", true},
		{map[string]int{"k\xfe": 1}, true},
		{"a\ufffd", false}, // a valid U+FFFD
		{`a\ufffd`, true},  // a backslash: not ambiguous, but taken as such
		{"plain", false},
	} {
		enc, err := json.Marshal(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := SharedCacheInputAmbiguous(enc); got != c.want {
			t.Errorf("%q (encoded %s): ambiguous %v, want %v", c.in, enc, got, c.want)
		}
	}
}

func TestBreakerTripRemote(t *testing.T) {
	clock := NewFakeClock(0)
	b, err := NewBreaker("s", BreakerSettings{FailureThreshold: 1, RecoveryTimeout: time.Minute, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var seen []BreakerState
	b.SetObserver(func(to BreakerState, until time.Time) {
		seen = append(seen, to)
		if to == BreakerOpen && time.Until(until) < 50*time.Second {
			t.Errorf("open until %v; want a minute from now", until)
		}
	})
	if !b.TripRemote(time.Now().Add(30 * time.Second)) {
		t.Fatal("TripRemote did not open the breaker")
	}
	p := b.Allow()
	if p.Admitted() || p.RetryAfter() > 30*time.Second || p.RetryAfter() < 20*time.Second {
		t.Fatalf("permit %v retry after %v; want rejected for about 30s", p.Admitted(), p.RetryAfter())
	}
	if c := b.Counters(); c.Failures != 0 || len(seen) != 0 {
		t.Fatalf("counters %+v, observed %v; a remote open counts no failure and is not observed", c, seen)
	}
	if b.TripRemote(time.Now().Add(time.Second)) {
		t.Fatal("a shorter remote open shortened the open period")
	}
	clock.Advance(31 * time.Second)
	p = b.Allow() // half-open probe
	b.RecordFailure(p)
	if len(seen) != 2 || seen[0] != BreakerHalfOpen || seen[1] != BreakerOpen {
		t.Fatalf("observed %v; want half-open then open", seen)
	}
}

func TestLocalBudgets(t *testing.T) {
	l := NewLocalBudgets()
	b := SharedBudget{Name: "t", Window: time.Hour, CostLimit: 1}
	ctx := context.Background()
	r1, ok, err := l.Reserve(ctx, b, Usage{Cost: 0.6})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, ok, _ := l.Reserve(ctx, b, Usage{Cost: 0.6}); ok {
		t.Fatal("a hold past the limit was reserved")
	}
	if err := r1.Commit(ctx, Usage{Cost: 0.1}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := l.Reserve(ctx, b, Usage{Cost: 0.9}); !ok {
		t.Fatal("the committed spending did not free the rest of the hold")
	}
	if _, ok, _ := l.Reserve(ctx, b, Usage{Cost: 0.01}); ok {
		t.Fatal("the window is spent or held to its limit")
	}
	if _, _, err := l.Reserve(ctx, SharedBudget{Name: "bad"}, Usage{Cost: 1}); err == nil {
		t.Fatal("an invalid budget was accepted")
	}
}
