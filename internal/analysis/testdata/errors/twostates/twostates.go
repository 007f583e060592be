package twostates

import (
	"context"

	"github.com/flujo/flujo"
)

type Session struct{ User string }
type Cart struct{ Items []string }

func Login(ctx context.Context, s string, st *Session) (string, error) { st.User = s; return s, nil }
func Add(ctx context.Context, s string, st *Cart) (string, error) {
	st.Items = append(st.Items, s)
	return s, nil
}

// A pipeline has one state type.
var Shop = flujo.Pipeline("shop",
	flujo.StepS("login", Login),
	flujo.StepS("add", Add),
)
