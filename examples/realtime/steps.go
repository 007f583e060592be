package realtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/flujo/flujo/runtime"
)

// MaxQuestionLength bounds a question, in bytes.
const MaxQuestionLength = 500

// maxSources is how many fields the model is shown.
const maxSources = 3

// BadRequestError is a question the service cannot take: the client's
// fault. It declares itself bad input, so it is not retried and does not
// count toward the step's circuit breaker: any number of bad requests
// leave the API up for everyone else.
type BadRequestError struct{ Reason string }

func (e *BadRequestError) Error() string { return "bad request: " + e.Reason }

// BadInput reports that the request, not the service, is at fault (see
// flujo.BadInput and flujo.CountsAsBreakerFailure).
func (e *BadRequestError) BadInput() bool { return true }

// ParseQuestion checks a question and extracts its search words.
func ParseQuestion(_ context.Context, q Question) (Query, error) {
	text := strings.TrimSpace(q.Text)
	switch {
	case text == "":
		return Query{}, &BadRequestError{Reason: "question is empty"}
	case len(text) > MaxQuestionLength:
		return Query{}, &BadRequestError{Reason: fmt.Sprintf("question is %d bytes long, the limit is %d", len(text), MaxQuestionLength)}
	}
	return Query{Text: text, Words: words(text)}, nil
}

// words returns the distinct lower-case words of s worth searching for.
func words(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && r != '_' }) {
		if len(w) < 3 || stopword(w) || slices.Contains(out, w) {
			continue
		}
		out = append(out, w)
	}
	return out
}

func stopword(w string) bool {
	switch w {
	case "the", "and", "for", "are", "how", "what", "when", "which", "does", "can", "with", "this", "that", "from", "should", "many", "much", "long", "there", "set", "use":
		return true
	}
	return false
}

// Retrieve picks the configuration fields whose name and documentation
// share the most words with the query.
func Retrieve(q Query) Prompt {
	type scored struct {
		src   Source
		score int
	}
	defaults := runtime.DefaultOptimizationConfig().ToMap()
	var found []scored
	for _, f := range runtime.ConfigFields() {
		name := strings.ReplaceAll(f.Name, "_", " ")
		doc := strings.ToLower(f.Description)
		score := 0
		for _, w := range q.Words {
			if strings.Contains(name, w) {
				score += 2 // the name says what the field is about
			} else if strings.Contains(doc, w) {
				score++
			}
		}
		if score > 0 {
			def := "unset"
			if v := defaults[f.Name]; v != nil {
				def = fmt.Sprint(v)
			}
			found = append(found, scored{Source{Field: f.Name, Description: f.Description, Allowed: f.Allowed(), Default: def}, score})
		}
	}
	slices.SortStableFunc(found, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	p := Prompt{Question: q.Text}
	for _, s := range found[:min(len(found), maxSources)] {
		if 2*s.score < found[0].score {
			break // too weak a match next to the best one
		}
		p.Sources = append(p.Sources, s.src)
	}
	return p
}

// Generate asks the upstream model to answer the prompt.
func Generate(ctx context.Context, p Prompt) (Reply, error) {
	u, err := UpstreamFrom(ctx)
	if err != nil {
		return Reply{}, err
	}
	return u.Complete(ctx, p)
}

// ErrEmptyReply is a reply without text.
var ErrEmptyReply = errors.New("the answer is empty")

// ValidReply rejects replies without text or with more sources than the
// model was shown.
func ValidReply(a Reply) error {
	if strings.TrimSpace(a.Text) == "" {
		return ErrEmptyReply
	}
	if len(a.Sources) > maxSources {
		return fmt.Errorf("the answer cites %d sources, at most %d were given", len(a.Sources), maxSources)
	}
	return nil
}
