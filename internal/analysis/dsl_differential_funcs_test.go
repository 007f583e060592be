package analysis

import (
	"context"
	"strings"
)

// The functions the differential declarations call (see diffFuncsFile).
// Their types are predeclared, so that both checkers write them alike.

func diffEdit(ctx context.Context, s string) (string, error)             { return s, nil }
func diffSize(ctx context.Context, s string) (int, error)                { return len(s), nil }
func diffMarkI(ctx context.Context, s string, n *int) (string, error)    { *n++; return s, nil }
func diffMarkS(ctx context.Context, s string, t *string) (string, error) { *t = s; return s, nil }
func diffUpper(s string) string                                          { return strings.ToUpper(s) }
func diffDone(s string) bool                                             { return true }
func diffPick(s string) string                                           { return "x" }
func diffPair(a, b string) string                                        { return a + b }
func diffCheckInt(n int) error                                           { return nil }
func diffCheck(s string) error                                           { return nil }
func diffCounts(err error) bool                                          { return err != nil }
func diffJoinV(xs ...string) string                                      { return "" }
func diffJoin0(string, string)                                           {}
func diffInc(ctx context.Context, n int) (int, error)                    { return n + 1, nil }
func diffPairSI(a string, n int) string                                  { return a }
