package i18n

import (
	"testing"

	"go.uber.org/goleak"
)

// Every package's tests check for leaked goroutines (issue 7); this one
// starts none, and the check keeps it so.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
