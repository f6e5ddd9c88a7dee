package service

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
)

// Every goroutine the service starts is owned and waited for: none may
// outlive the tests (but the embedded NATS servers' own loops, which end
// asynchronously after their shutdown: the cluster tests start them).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m, clustertest.IgnoreLeaks()...) }

// hangTimeout bounds waits on real work (decoding, inference, encoding).
// It is not a speed requirement: on any machine the work finishes far
// sooner, and only a hang, never a slow or busy machine, reaches it.
const hangTimeout = 10 * time.Minute
