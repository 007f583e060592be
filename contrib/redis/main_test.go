package redis_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that a closed Store leaves no goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
