package runtime

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// PermanentError is implemented by errors that can say that retrying them is
// futile. Permanent returning false makes no claim either way.
type PermanentError interface {
	Permanent() bool
}

// BadInputError is implemented by errors that can say the call failed
// because of its input: the caller's fault, which no retry fixes and which
// says nothing about the health of the step's upstream. BadInput returning
// false makes no claim either way. The root package's flujo.BadInput wraps
// any error into one.
type BadInputError interface {
	BadInput() bool
}

// RetryableError is implemented by errors that say whether a retry may
// succeed.
type RetryableError interface {
	Retryable() bool
}

// ErrorClassifier decides whether a failed attempt is worth retrying (the
// "error pattern cache" bounded by error_cache_size). It groups errors into
// patterns and learns, per pattern, whether retries ever recover; a pattern
// whose retries have never recovered after permanentAfter tries is classed
// permanent and its retries are skipped. It also keeps the error rate and
// the recovery success rate. It is safe for concurrent use.
//
// A pattern is the dynamic type of the innermost error along the
// Unwrap() error chain (so that fmt's wrappers add nothing) together with
// the whole error's message passed through NormalizeErrorMessage. The two
// are hashed to 64 bits; the classifier keeps at most capacity patterns and
// evicts the least recently used.
//
// Usage per attempt: Observe(err) with the attempt's outcome (nil on
// success). Before retrying a failed attempt ask RetryableIn(ctx, err), and
// after the retry report ObserveRecovery(err, retrySucceeded) with the error
// that was retried.
type ErrorClassifier struct {
	calls            atomic.Uint64
	errs             atomic.Uint64
	recoveryAttempts atomic.Uint64
	recoveries       atomic.Uint64
	skipped          atomic.Uint64
	evictions        atomic.Uint64

	permanentAfter uint64
	capacity       int

	mu sync.Mutex
	// patterns holds at most capacity entries, linked from most to least
	// recently used; index maps keys to slots.
	patterns   []classifierPattern
	index      map[uint64]int32
	head, tail int32
}

// classifierPattern is what the classifier remembers about one pattern.
type classifierPattern struct {
	key        uint64
	typ, msg   string // for reports
	seen       uint64 // errors observed
	retries    uint64 // retries reported through ObserveRecovery
	recoveries uint64 // of those, retries that succeeded
	skips      uint64 // retries skipped since the last probe
	prev, next int32
}

// permanent reports whether retries of the pattern have never recovered
// after n tries.
func (p *classifierPattern) permanent(n uint64) bool {
	return p.recoveries == 0 && p.retries >= n
}

// ErrorClassifierCounters is a snapshot of an ErrorClassifier's counters.
type ErrorClassifierCounters struct {
	// Calls counts outcomes passed to Observe, errors or not.
	Calls uint64
	// Errors counts errors passed to Observe.
	Errors uint64
	// RecoveryAttempts counts retries reported to ObserveRecovery.
	RecoveryAttempts uint64
	// Recoveries counts those that succeeded.
	Recoveries uint64
	// SkippedRetries counts retries refused because the error was declared
	// or learned permanent.
	SkippedRetries uint64
	// Patterns is the number of patterns held now.
	Patterns int
	// PermanentPatterns is how many of them are classed permanent.
	PermanentPatterns int
	// Evictions counts patterns dropped to stay within capacity.
	Evictions uint64
}

// ErrorPattern describes one learned pattern, for reports.
type ErrorPattern struct {
	// Key is the pattern's 64-bit hash.
	Key uint64
	// Type is the dynamic type of the innermost error, e.g. "*net.OpError".
	Type string
	// Message is the normalised message (shortened for display).
	Message string
	// Seen counts errors of the pattern; Retries counts its retries and
	// Recoveries those that succeeded.
	Seen, Retries, Recoveries uint64
	// Permanent reports whether retries of the pattern are skipped.
	Permanent bool
}

// classifierMaxMessage bounds the normalised message kept for reports; the
// key covers all of it.
const classifierMaxMessage = 256

// NewErrorClassifier returns a classifier that holds at most capacity
// patterns and classes a pattern permanent once permanentAfter retries of it
// have all failed.
func NewErrorClassifier(capacity, permanentAfter int) (*ErrorClassifier, error) {
	if capacity < 1 || capacity > 1<<30 {
		return nil, fmt.Errorf("runtime: error classifier: capacity = %d, want 1..%d", capacity, 1<<30)
	}
	if permanentAfter < 1 {
		return nil, fmt.Errorf("runtime: error classifier: permanentAfter = %d, want >= 1", permanentAfter)
	}
	// Storage grows with use, so a generous capacity costs nothing up front.
	return &ErrorClassifier{
		permanentAfter: uint64(permanentAfter),
		capacity:       capacity,
		index:          make(map[uint64]int32, min(capacity, 64)),
		head:           -1,
		tail:           -1,
	}, nil
}

// Observe records the outcome of one attempt. A nil error costs one atomic
// add.
func (c *ErrorClassifier) Observe(err error) {
	c.calls.Add(1)
	if err != nil {
		c.observeError(err)
	}
}

func (c *ErrorClassifier) observeError(err error) {
	c.errs.Add(1)
	if !classifierLearnable(err) {
		return
	}
	key := classifierKey(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.upsert(key, err).seen++
}

// ObserveRecovery records the outcome of a retry made after err: whether it
// recovered (succeeded).
func (c *ErrorClassifier) ObserveRecovery(err error, recovered bool) {
	c.recoveryAttempts.Add(1)
	if recovered {
		c.recoveries.Add(1)
	}
	if err == nil || !classifierLearnable(err) {
		return
	}
	key := classifierKey(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.upsert(key, err)
	p.retries++
	if recovered {
		p.recoveries++
	}
}

// Retryable reports whether err is worth retrying. The rules, first match
// wins:
//
//   - nil, and context.Canceled anywhere in the chain: no (the caller gave up).
//   - the outermost error in the chain that declares itself decides:
//     Permanent() true or BadInput() true means no, a RetryableError
//     answers for itself.
//   - context.DeadlineExceeded: yes, as a per-attempt timeout. Whether the
//     caller's own deadline has passed is for RetryableIn to check.
//   - a pattern learned permanent: no, except that every (permanentAfter+1)-th
//     query is let through as a probe, so a pattern that has started to
//     recover can be learned again.
//   - anything else: yes.
func (c *ErrorClassifier) Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if decided, retryable := classifierDeclared(err); decided {
		if !retryable {
			c.skipped.Add(1)
		}
		return retryable
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	key := classifierKey(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[key]
	if !ok {
		return true
	}
	p := &c.patterns[i]
	c.touch(i)
	if !p.permanent(c.permanentAfter) {
		return true
	}
	if p.skips == c.permanentAfter {
		p.skips = 0
		return true
	}
	p.skips++
	c.skipped.Add(1)
	return false
}

// RetryableIn is Retryable for an attempt run under the caller's context
// parent: once parent is done nothing is retryable, whatever the error says.
func (c *ErrorClassifier) RetryableIn(parent context.Context, err error) bool {
	return ContextErr(parent) == nil && c.Retryable(err)
}

// ErrorRate returns errors per observed call, from 0 to 1 (0 before any
// call).
func (c *ErrorClassifier) ErrorRate() float64 {
	return classifierRatio(c.errs.Load(), c.calls.Load())
}

// RecoverySuccessRate returns the share of reported retries that succeeded,
// from 0 to 1 (0 before any retry).
func (c *ErrorClassifier) RecoverySuccessRate() float64 {
	return classifierRatio(c.recoveries.Load(), c.recoveryAttempts.Load())
}

func classifierRatio(n, d uint64) float64 {
	if d == 0 {
		return 0
	}
	return min(float64(n)/float64(d), 1)
}

// Counters returns a snapshot of the counters.
func (c *ErrorClassifier) Counters() ErrorClassifierCounters {
	s := ErrorClassifierCounters{
		Calls:            c.calls.Load(),
		Errors:           c.errs.Load(),
		RecoveryAttempts: c.recoveryAttempts.Load(),
		Recoveries:       c.recoveries.Load(),
		SkippedRetries:   c.skipped.Load(),
		Evictions:        c.evictions.Load(),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s.Patterns = len(c.index)
	for _, i := range c.index {
		if c.patterns[i].permanent(c.permanentAfter) {
			s.PermanentPatterns++
		}
	}
	return s
}

// Patterns returns the patterns held, most recently used first.
func (c *ErrorClassifier) Patterns() []ErrorPattern {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ErrorPattern, 0, len(c.index))
	for i := c.head; i >= 0; i = c.patterns[i].next {
		p := &c.patterns[i]
		out = append(out, ErrorPattern{
			Key: p.key, Type: p.typ, Message: p.msg,
			Seen: p.seen, Retries: p.retries, Recoveries: p.recoveries,
			Permanent: p.permanent(c.permanentAfter),
		})
	}
	return out
}

// upsert returns the pattern for key, made most recently used, creating it
// (and evicting the least recently used one if full) when absent. c.mu must
// be held.
func (c *ErrorClassifier) upsert(key uint64, err error) *classifierPattern {
	if i, ok := c.index[key]; ok {
		c.touch(i)
		return &c.patterns[i]
	}
	var i int32
	if len(c.patterns) < c.capacity {
		i = int32(len(c.patterns))
		c.patterns = append(c.patterns, classifierPattern{})
	} else {
		i = c.tail
		c.unlink(i)
		delete(c.index, c.patterns[i].key)
		c.evictions.Add(1)
	}
	msg := NormalizeErrorMessage(err.Error())
	if len(msg) > classifierMaxMessage {
		msg = strings.ToValidUTF8(msg[:classifierMaxMessage], "") + "..."
	}
	c.patterns[i] = classifierPattern{key: key, typ: classifierTypeName(classifierRoot(err)), msg: msg, prev: -1, next: -1}
	c.index[key] = i
	c.pushFront(i)
	return &c.patterns[i]
}

func (c *ErrorClassifier) touch(i int32) {
	if c.head != i {
		c.unlink(i)
		c.pushFront(i)
	}
}

func (c *ErrorClassifier) unlink(i int32) {
	p := &c.patterns[i]
	if p.prev >= 0 {
		c.patterns[p.prev].next = p.next
	} else {
		c.head = p.next
	}
	if p.next >= 0 {
		c.patterns[p.next].prev = p.prev
	} else {
		c.tail = p.prev
	}
	p.prev, p.next = -1, -1
}

func (c *ErrorClassifier) pushFront(i int32) {
	p := &c.patterns[i]
	p.prev, p.next = -1, c.head
	if c.head >= 0 {
		c.patterns[c.head].prev = i
	}
	c.head = i
	if c.tail < 0 {
		c.tail = i
	}
}

// classifierLearnable reports whether err is left to learning: context
// errors and errors that declare themselves are decided by rule.
func classifierLearnable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	decided, _ := classifierDeclared(err)
	return !decided
}

// classifierDeclared walks the error tree in the order errors.As does and
// returns the verdict of the first error that declares one.
func classifierDeclared(err error) (decided, retryable bool) {
	for err != nil {
		if p, ok := err.(PermanentError); ok && p.Permanent() {
			return true, false
		}
		if p, ok := err.(BadInputError); ok && p.BadInput() {
			return true, false
		}
		if r, ok := err.(RetryableError); ok {
			return true, r.Retryable()
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if decided, retryable = classifierDeclared(e); decided {
					return decided, retryable
				}
			}
			return false, false
		default:
			return false, false
		}
	}
	return false, false
}

// classifierRoot follows the Unwrap() error chain to its end. An error that
// wraps several errors ends the walk.
func classifierRoot(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		next := u.Unwrap()
		if next == nil {
			return err
		}
		err = next
	}
}

func classifierTypeName(err error) string { return reflect.TypeOf(err).String() }

// classifierKey hashes the pattern of err: its root's type name, a zero
// byte, and its normalised message.
func classifierKey(err error) uint64 {
	var stack [256]byte
	buf := append(stack[:0], classifierTypeName(classifierRoot(err))...)
	buf = append(buf, 0)
	buf = classifierAppendNormalized(buf, err.Error())
	return xxhash.Sum64(buf)
}

// NormalizeErrorMessage strips the parts of an error message that vary from
// one occurrence to the next, so that equal failures read alike:
//
//   - a double-quoted string (backslash escapes honoured) becomes "*";
//   - a UUID, a 0x-prefixed hex number, and a word of hex digits with at
//     least one decimal digit among them (numbers, hex ids) become #;
//   - in any other word each run of digits becomes #;
//   - a # that would follow another #, directly or across one of . : - / , _
//     merges into it, so "1.5", "10.0.0.1:80" and "2024-01-02" are all #;
//   - a goroutine stack trace, from a line "goroutine N [" to the end (as
//     a *flujo.PanicError carries), is dropped with the white space before
//     it: its frames differ with the caller (Execute or ExecuteResult, one
//     engine or the other) though the failure is the same.
//
// Words are runs of letters and digits (Unicode digits count). The result
// contains no digits, and normalising it again changes nothing.
func NormalizeErrorMessage(msg string) string {
	return string(classifierAppendNormalized(make([]byte, 0, len(msg)), msg))
}

func classifierAppendNormalized(dst []byte, s string) []byte {
	s = classifierCutStack(s)
	for i := 0; i < len(s); {
		if s[i] == '"' {
			if end := classifierQuoteEnd(s, i); end > 0 {
				dst = append(dst, `"*"`...)
				i = end
				continue
			}
			dst = append(dst, '"')
			i++
			continue
		}
		class, n := classifierASCIIClass(s[i]), 1
		if s[i] >= utf8.RuneSelf {
			class, n = classifierUnicodeClassAt(s, i)
		}
		if class&classifierWord == 0 {
			dst = append(dst, s[i:i+n]...)
			i += n
			continue
		}
		dst, i = classifierAppendWord(dst, s, i)
	}
	return dst
}

// classifierCutStack returns s without a goroutine stack trace (a line that
// starts "goroutine " followed by decimal digits and " [", and all after it)
// and without the white space before it.
func classifierCutStack(s string) string {
	for from := 0; ; {
		i := strings.Index(s[from:], "goroutine ")
		if i < 0 {
			return s
		}
		i += from
		from = i + len("goroutine ")
		if i > 0 && s[i-1] != '\n' {
			continue
		}
		j := from
		for j < len(s) && s[j]-'0' < 10 {
			j++
		}
		if j == from || !strings.HasPrefix(s[j:], " [") {
			continue
		}
		return strings.TrimRight(s[:i], " \t\r\n")
	}
}

// classifierQuoteEnd returns the index after the quote that closes the one
// at s[i], or -1 if none does.
func classifierQuoteEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// classifierAppendWord normalises the word starting at s[i] and returns the
// index after what it consumed (a UUID may run past the word's end).
func classifierAppendWord(dst []byte, s string, i int) ([]byte, int) {
	if classifierUUIDAt(s, i) {
		return classifierPlaceholder(dst), i + 36
	}
	end, all := i, classifierWord|classifierHex
	var any uint8
	for end < len(s) {
		class, n := classifierASCIIClass(s[end]), 1
		if s[end] >= utf8.RuneSelf {
			class, n = classifierUnicodeClassAt(s, end)
		}
		if class&classifierWord == 0 {
			break
		}
		all &= class
		any |= class
		end += n
	}
	word := s[i:end]
	switch {
	case any&classifierDigit == 0:
		return append(dst, word...), end
	case all&classifierHex != 0:
		return classifierPlaceholder(dst), end
	case len(word) > 2 && word[0] == '0' && word[1]|0x20 == 'x' && classifierAllHex(word[2:]):
		return classifierPlaceholder(dst), end
	}
	// A mixed word such as "v2" or "user42": keep the letters. A position
	// just after a digit run starts a word once the run reads #, so a UUID
	// there is stripped now, or normalising twice would strip it later.
	for j := i; j < end; {
		class, n := classifierASCIIClass(s[j]), 1
		if s[j] >= utf8.RuneSelf {
			class, n = classifierUnicodeClassAt(s, j)
		}
		if class&classifierDigit == 0 {
			dst = append(dst, s[j:j+n]...)
			j += n
			continue
		}
		for j < end {
			if class, n = classifierASCIIClass(s[j]), 1; s[j] >= utf8.RuneSelf {
				class, n = classifierUnicodeClassAt(s, j)
			}
			if class&classifierDigit == 0 {
				break
			}
			j += n
		}
		dst = classifierPlaceholder(dst)
		if classifierUUIDAt(s, j) {
			return dst, j + 36
		}
	}
	return dst, end
}

// classifierPlaceholder appends #, merged into a # just before it, alone or
// followed by one separator.
func classifierPlaceholder(dst []byte) []byte {
	n := len(dst)
	if n > 0 && dst[n-1] == '#' {
		return dst
	}
	if n > 1 && dst[n-2] == '#' && strings.IndexByte(".:-/,_", dst[n-1]) >= 0 {
		return dst[:n-1]
	}
	return append(dst, '#')
}

// classifierUUIDAt reports whether s holds a UUID (8-4-4-4-12 hex digits) at
// i. What follows does not matter, so that the match is the same however the
// text after it was normalised.
func classifierUUIDAt(s string, i int) bool {
	if len(s)-i < 36 {
		return false
	}
	for k := range 36 {
		c := s[i+k]
		if k == 8 || k == 13 || k == 18 || k == 23 {
			if c != '-' {
				return false
			}
		} else if !classifierIsHex(c) {
			return false
		}
	}
	return true
}

// Character classes of the normaliser. Words are runs of letters and
// digits; hex covers ASCII hex digits only.
const (
	classifierWord uint8 = 1 << iota
	classifierDigit
	classifierHex
)

// classifierASCIIClass returns the class of an ASCII byte (0 for any other
// byte). Callers inline it and call classifierUnicodeClassAt beyond ASCII.
func classifierASCIIClass(c byte) uint8 {
	switch l := c | 0x20; {
	case c-'0' < 10:
		return classifierWord | classifierDigit | classifierHex
	case l-'a' < 6:
		return classifierWord | classifierHex
	case l-'a' < 26:
		return classifierWord
	}
	return 0
}

func classifierUnicodeClassAt(s string, i int) (uint8, int) {
	r, n := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError:
		return 0, n
	case unicode.IsDigit(r):
		return classifierWord | classifierDigit, n
	case unicode.IsLetter(r):
		return classifierWord, n
	}
	return 0, n
}

func classifierIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func classifierAllHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !classifierIsHex(s[i]) {
			return false
		}
	}
	return true
}
