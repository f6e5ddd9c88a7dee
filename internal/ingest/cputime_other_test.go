//go:build !linux

package ingest

import "time"

// threadCPU needs a per-thread CPU clock, which this test reads on Linux only.
func threadCPU(f func()) (time.Duration, bool) { return 0, false }
