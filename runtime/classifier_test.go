package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestNormalizeErrorMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"connection refused", "connection refused"},
		{"dial tcp 10.0.0.1:8080: connect: connection refused", "dial tcp #: connect: connection refused"},
		{"user 42 not found", "user # not found"},
		{"timeout after 1.5s", "timeout after #s"},
		{"retry in 150ms", "retry in #ms"},
		{"object 0x7ffee3b8c9a0 freed", "object # freed"},
		{"object 0XDEAD freed", "object # freed"},
		{"trace deadbeef12 lost", "trace # lost"},
		{"request 123e4567-e89b-12d3-a456-426614174000 failed", "request # failed"},
		{"request abcdefab-abcd-abcd-abcd-abcdefabcdef failed", "request # failed"},
		{"job g5abcdefab-abcd-abcd-abcd-abcdefabcdef", "job g#"},
		{`unknown field "naem" at line 3`, `unknown field "*" at line #`},
		{`parsing "a\"b": invalid syntax`, `parsing "*": invalid syntax`},
		{`unterminated "quote 7`, `unterminated "quote #`},
		{"http2: stream 7 reset", "http#: stream # reset"},
		{"at 2024-01-02T15:04:05Z", "at #T#Z"},
		{"rows 1-5, 8", "rows #, #"},
		{"decade of facade", "decade of facade"},
		{"٣ items in شارع٤٥", "# items in شارع#"},
		{"bad byte \xff9", "bad byte \xff#"},
		{"step \"s\" panicked: boom\ngoroutine 7 [running]:\nruntime/debug.Stack()\n\t/go/src/debug/stack.go:26 +0x5e\n", `step "*" panicked: boom`},
		{"panicked: boom\n\ngoroutine 12345 [running]:\nmain.f(...)", "panicked: boom"},
		{"goroutine 1 [running]:\nmain.main()", ""},
		{"the goroutine 1 [running] line is not a trace", "the goroutine # [running] line is not a trace"},
		{"leak:\ngoroutine x [running]", "leak:\ngoroutine x [running]"},
	}
	for _, tt := range tests {
		got := NormalizeErrorMessage(tt.in)
		if got != tt.want {
			t.Errorf("NormalizeErrorMessage(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := NormalizeErrorMessage(got); again != got {
			t.Errorf("NormalizeErrorMessage is not idempotent on %q: %q then %q", tt.in, got, again)
		}
	}
}

func TestNewErrorClassifierRejectsInvalidSettings(t *testing.T) {
	tests := []struct {
		capacity, after int
		want            string
	}{
		{0, 3, "capacity = 0"},
		{-1, 3, "capacity = -1"},
		{1<<30 + 1, 3, "capacity = 1073741825"},
		{50, 0, "permanentAfter = 0"},
		{50, -2, "permanentAfter = -2"},
	}
	for _, tt := range tests {
		c, err := NewErrorClassifier(tt.capacity, tt.after)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewErrorClassifier(%d, %d) = %v, %v; want an error naming %q", tt.capacity, tt.after, c, err, tt.want)
		}
	}
}

func TestNewErrorClassifierLargeCapacityCostsNothingUpFront(t *testing.T) {
	// Eager storage for 1<<30 patterns would take tens of gigabytes.
	c := classifierNewTest(t, 1<<30, 1)
	c.Observe(errors.New("boom"))
	if got := c.Counters().Patterns; got != 1 {
		t.Errorf("Patterns = %d, want 1", got)
	}
}

func classifierNewTest(t *testing.T, capacity, after int) *ErrorClassifier {
	t.Helper()
	c, err := NewErrorClassifier(capacity, after)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type classifierPermanentOnly struct{ v bool }

func (e classifierPermanentOnly) Error() string   { return "permanent-only" }
func (e classifierPermanentOnly) Permanent() bool { return e.v }

type classifierRetryableOnly struct{ v bool }

func (e classifierRetryableOnly) Error() string   { return "retryable-only" }
func (e classifierRetryableOnly) Retryable() bool { return e.v }

type classifierBadInput struct{ v bool }

func (e classifierBadInput) Error() string  { return "bad-input" }
func (e classifierBadInput) BadInput() bool { return e.v }

type classifierBoth struct{ permanent, retryable bool }

func (e classifierBoth) Error() string   { return "both" }
func (e classifierBoth) Permanent() bool { return e.permanent }
func (e classifierBoth) Retryable() bool { return e.retryable }

func TestErrorClassifierRules(t *testing.T) {
	plain := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", plain, true},
		{"canceled", context.Canceled, false},
		{"wrapped canceled", fmt.Errorf("step: %w", context.Canceled), false},
		{"deadline exceeded", fmt.Errorf("step: %w", context.DeadlineExceeded), true},
		{"permanent", fmt.Errorf("wrapped: %w", classifierPermanentOnly{true}), false},
		{"not permanent is no verdict", classifierPermanentOnly{false}, true},
		{"bad input", fmt.Errorf("wrapped: %w", classifierBadInput{true}), false},
		{"not bad input is no verdict", classifierBadInput{false}, true},
		{"retryable true", classifierRetryableOnly{true}, true},
		{"retryable false", fmt.Errorf("wrapped: %w", classifierRetryableOnly{false}), false},
		{"permanent beats retryable on one error", classifierBoth{true, true}, false},
		{"outermost declaration wins", fmt.Errorf("%w: %w", classifierRetryableOnly{true}, classifierPermanentOnly{true}), true},
		{"declaration inside a join", errors.Join(plain, classifierPermanentOnly{true}), false},
		{"canceled beats a retryable declaration", errors.Join(classifierRetryableOnly{true}, context.Canceled), false},
		{"declaration beats deadline", fmt.Errorf("%w: %w", classifierPermanentOnly{true}, context.DeadlineExceeded), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := classifierNewTest(t, 8, 1)
			if got := c.Retryable(tt.err); got != tt.want {
				t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorClassifierRetryableIn(t *testing.T) {
	c := classifierNewTest(t, 8, 1)
	timeout := fmt.Errorf("attempt: %w", context.DeadlineExceeded)
	if !c.RetryableIn(context.Background(), timeout) {
		t.Error("a per-attempt timeout under a live parent is not retryable")
	}
	parent, cancel := context.WithCancel(context.Background())
	cancel()
	if c.RetryableIn(parent, timeout) || c.RetryableIn(parent, errors.New("boom")) {
		t.Error("an error under a cancelled parent is retryable")
	}
}

func TestErrorClassifierLearnsPermanentPatterns(t *testing.T) {
	const after = 3
	c := classifierNewTest(t, 8, after)
	fail := func(id int) error { return fmt.Errorf("fetch user %d: status 404", id) }
	for i := range after {
		if !c.Retryable(fail(i)) {
			t.Fatalf("pattern refused after %d failed retries, want %d", i, after)
		}
		c.Observe(fail(i))
		c.ObserveRecovery(fail(i), false)
	}
	// Another id, same pattern: now permanent. Every (after+1)-th query is
	// a probe.
	var verdicts []bool
	for i := range 2 * (after + 1) {
		verdicts = append(verdicts, c.Retryable(fail(100+i)))
	}
	want := []bool{false, false, false, true, false, false, false, true}
	if fmt.Sprint(verdicts) != fmt.Sprint(want) {
		t.Errorf("verdicts for a permanent pattern = %v, want %v", verdicts, want)
	}
	if got := c.Counters(); got.SkippedRetries != 6 || got.PermanentPatterns != 1 || got.Patterns != 1 {
		t.Errorf("Counters() = %+v, want 6 skipped, 1 pattern, permanent", got)
	}
	// Another type with the same text is another pattern.
	if !c.Retryable(classifierTestTyped{"fetch user 5: status 404"}) {
		t.Error("an error of another type shares the permanent pattern")
	}
	// A probe that recovers makes the pattern retryable for good.
	c.ObserveRecovery(fail(7), true)
	for i := range 10 {
		if !c.Retryable(fail(i)) {
			t.Fatalf("pattern refused after it recovered once (query %d)", i)
		}
	}
	p := c.Patterns()
	if len(p) != 1 || p[0].Type != "*errors.errorString" || p[0].Message != "fetch user #: status #" ||
		p[0].Seen != after || p[0].Retries != after+1 || p[0].Recoveries != 1 || p[0].Permanent {
		t.Errorf("Patterns() = %+v", p)
	}
}

type classifierTestTyped struct{ msg string }

func (e classifierTestTyped) Error() string { return e.msg }

func TestErrorClassifierPatternTypeIsInnermost(t *testing.T) {
	c := classifierNewTest(t, 8, 1)
	inner := classifierTestTyped{"disk full"}
	c.Observe(fmt.Errorf("write block 9: %w", inner))
	c.Observe(fmt.Errorf("write block 12: %w", inner))
	p := c.Patterns()
	if len(p) != 1 || p[0].Type != "runtime.classifierTestTyped" || p[0].Message != "write block #: disk full" || p[0].Seen != 2 {
		t.Errorf("Patterns() = %+v, want one runtime.classifierTestTyped pattern seen twice", p)
	}
}

func TestErrorClassifierDoesNotLearnRuledErrors(t *testing.T) {
	c := classifierNewTest(t, 8, 1)
	for _, err := range []error{
		context.Canceled, context.DeadlineExceeded, classifierPermanentOnly{true}, classifierRetryableOnly{false},
	} {
		c.Observe(err)
		c.ObserveRecovery(err, false)
	}
	if got := c.Counters(); got.Patterns != 0 || got.Errors != 4 || got.RecoveryAttempts != 4 {
		t.Errorf("Counters() = %+v, want 4 errors, 4 recovery attempts, no pattern", got)
	}
}

func TestErrorClassifierEvictsLeastRecentlyUsed(t *testing.T) {
	c := classifierNewTest(t, 2, 1)
	a, b, d := errors.New("alpha"), errors.New("beta"), errors.New("delta")
	c.Observe(a)
	c.Observe(b)
	c.Observe(a) // a is now the most recently used
	c.Observe(d) // evicts b
	var msgs []string
	for _, p := range c.Patterns() {
		msgs = append(msgs, p.Message)
	}
	if got := strings.Join(msgs, ","); got != "delta,alpha" {
		t.Errorf("patterns = %s, want delta,alpha", got)
	}
	if got := c.Counters(); got.Evictions != 1 || got.Patterns != 2 {
		t.Errorf("Counters() = %+v, want 1 eviction, 2 patterns", got)
	}
	// b was forgotten: a failed recovery of it starts from scratch.
	c.ObserveRecovery(b, false)
	if c.Retryable(b) {
		t.Error("b is retryable after one failed recovery with permanentAfter 1")
	}
}

func TestErrorClassifierRates(t *testing.T) {
	c := classifierNewTest(t, 8, 5)
	if c.ErrorRate() != 0 || c.RecoverySuccessRate() != 0 {
		t.Fatalf("rates before any call: %v, %v; want 0, 0", c.ErrorRate(), c.RecoverySuccessRate())
	}
	boom := errors.New("boom")
	for i := range 8 {
		if i < 2 {
			c.Observe(boom)
		} else {
			c.Observe(nil)
		}
	}
	c.ObserveRecovery(boom, true)
	c.ObserveRecovery(boom, true)
	c.ObserveRecovery(boom, true)
	c.ObserveRecovery(boom, false)
	if got := c.ErrorRate(); got != 0.25 {
		t.Errorf("ErrorRate() = %v, want 0.25", got)
	}
	if got := c.RecoverySuccessRate(); got != 0.75 {
		t.Errorf("RecoverySuccessRate() = %v, want 0.75", got)
	}
}

func TestErrorClassifierAllocations(t *testing.T) {
	c := classifierNewTest(t, 8, 2)
	if n := testing.AllocsPerRun(1000, func() { c.Observe(nil) }); n != 0 {
		t.Errorf("Observe(nil): %v allocs, want 0", n)
	}
	err := fmt.Errorf("fetch user %d: %w", 42, errors.New("status 503"))
	c.Observe(err)
	if n := testing.AllocsPerRun(1000, func() {
		c.Observe(err)
		c.Retryable(err)
		c.ObserveRecovery(err, false)
	}); n != 0 {
		t.Errorf("error path on a known pattern: %v allocs, want 0", n)
	}
}

func TestErrorClassifierConcurrent(t *testing.T) {
	const (
		workers  = 16
		rounds   = 500
		capacity = 8
	)
	c := classifierNewTest(t, capacity, 2)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				c.Observe(nil)
				err := fmt.Errorf("worker %d: kind %c failed", i, 'a'+rune((w+i)%12))
				c.Observe(err)
				if c.Retryable(err) {
					c.ObserveRecovery(err, i%5 == 0)
				}
				if i%50 == 0 {
					_ = c.Patterns()
					_ = c.Counters()
				}
			}
		}()
	}
	wg.Wait()
	got := c.Counters()
	if got.Calls != 2*workers*rounds || got.Errors != workers*rounds {
		t.Errorf("Counters() = %+v, want %d calls, %d errors", got, 2*workers*rounds, workers*rounds)
	}
	if got.Patterns > capacity || len(c.Patterns()) != got.Patterns || got.Evictions == 0 {
		t.Errorf("Counters() = %+v with %d listed; want at most %d patterns and some evictions", got, len(c.Patterns()), capacity)
	}
	if got.RecoveryAttempts+got.SkippedRetries != workers*rounds {
		t.Errorf("recovery attempts %d + skipped %d != %d errors", got.RecoveryAttempts, got.SkippedRetries, workers*rounds)
	}
}

func BenchmarkErrorClassifierSuccess(b *testing.B) {
	c, err := NewErrorClassifier(50, 3)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Observe(nil)
	}
}

func BenchmarkErrorClassifierSuccessParallel(b *testing.B) {
	c, err := NewErrorClassifier(50, 3)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Observe(nil)
		}
	})
}

func BenchmarkErrorClassifierFailure(b *testing.B) {
	c, err := NewErrorClassifier(50, 3)
	if err != nil {
		b.Fatal(err)
	}
	e := fmt.Errorf("fetch user %d: %w", 42, errors.New("upstream returned status 503"))
	b.ReportAllocs()
	for b.Loop() {
		c.Observe(e)
		if c.Retryable(e) {
			c.ObserveRecovery(e, true)
		}
	}
}

func BenchmarkNormalizeErrorMessage(b *testing.B) {
	msg := `dial tcp 10.0.0.1:8080: request 123e4567-e89b-12d3-a456-426614174000 for "alice": connect: connection refused`
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		_ = NormalizeErrorMessage(msg)
	}
}

func TestErrorClassifierPatternIgnoresStack(t *testing.T) {
	c := classifierNewTest(t, 8, 1)
	c.Observe(errors.New("step \"s\" panicked: boom\ngoroutine 7 [running]:\nmain.viaExecute()\n\t/src/core.go:210 +0x5e\n"))
	c.Observe(errors.New("step \"s\" panicked: boom\ngoroutine 31 [running]:\nmain.viaExecuteResult()\n\t/src/result.go:12 +0x1f\n"))
	p := c.Patterns()
	if len(p) != 1 || p[0].Message != `step "*" panicked: boom` || p[0].Seen != 2 {
		t.Errorf("Patterns() = %+v, want one pattern without the stack, seen twice", p)
	}
}
