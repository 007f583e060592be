package redis_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs a replica when the test binary is started as one (see
// replica_test.go), and otherwise the tests, checking that a closed Store
// leaves no goroutine behind.
func TestMain(m *testing.M) {
	if os.Getenv(replicaEnv) != "" {
		os.Exit(replicaMain())
	}
	goleak.VerifyTestMain(m)
}
