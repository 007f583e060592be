package runtime

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzNormalizeErrorMessage checks the normaliser's promises on any input:
// it does not panic, leaves no digit, and is idempotent.
func FuzzNormalizeErrorMessage(f *testing.F) {
	for _, seed := range []string{
		"",
		"dial tcp 10.0.0.1:8080: connect: connection refused",
		"request 123e4567-e89b-12d3-a456-426614174000 failed after 1.5s",
		`parsing "a\"b" at 0x7ffee3b8c9a0: invalid syntax`,
		"job g5abcdefab-abcd-abcd-abcd-abcdefabcdef",
		"٣ items in شارع٤٥ \xff9",
		`unterminated "quote 7 \`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		got := NormalizeErrorMessage(msg)
		if i := strings.IndexFunc(got, unicode.IsDigit); i >= 0 {
			t.Errorf("NormalizeErrorMessage(%q) = %q keeps a digit at %d", msg, got, i)
		}
		if again := NormalizeErrorMessage(got); again != got {
			t.Errorf("not idempotent on %q: %q then %q", msg, got, again)
		}
	})
}

// TestNormalizeErrorMessageProperties checks the same promises on inputs
// assembled from the pieces the rules react to, which blind fuzzing rarely
// puts together (UUIDs next to digits, quotes with escapes).
func TestNormalizeErrorMessageProperties(t *testing.T) {
	pieces := []string{
		"abcdefab-abcd-abcd-abcd-abcdefabcdef", "123e4567-e89b-12d3-a456-426614174000", "abcdefab", "-abcd",
		"0x", "0X1f", "7", "42", "٣", "g", "e", "x", "deadbeef", "-", ".", ":", "/", ",", "_", "#", `"`, `\`, " ", "\xff", "é",
	}
	rnd := NewRetryRand(7)
	var b strings.Builder
	for range 20000 {
		b.Reset()
		for n := rnd.Uint64() % 12; n > 0; n-- {
			b.WriteString(pieces[rnd.Uint64()%uint64(len(pieces))])
		}
		msg := b.String()
		got := NormalizeErrorMessage(msg)
		if i := strings.IndexFunc(got, unicode.IsDigit); i >= 0 {
			t.Fatalf("NormalizeErrorMessage(%q) = %q keeps a digit at %d", msg, got, i)
		}
		if again := NormalizeErrorMessage(got); again != got {
			t.Fatalf("not idempotent on %q: %q then %q", msg, got, again)
		}
	}
}
