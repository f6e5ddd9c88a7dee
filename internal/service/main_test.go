package service

import (
	"time"

	"testing"

	"go.uber.org/goleak"
)

// Every goroutine the service starts is owned and waited for: none may
// outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hangTimeout bounds waits on real work (decoding, inference, encoding).
// It is not a speed requirement: on any machine the work finishes far
// sooner, and only a hang, never a slow or busy machine, reaches it.
const hangTimeout = 10 * time.Minute
