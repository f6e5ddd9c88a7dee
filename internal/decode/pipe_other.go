//go:build !linux

package decode

import "os"

// growPipe is Linux-only (F_SETPIPE_SZ); elsewhere pipes keep their size.
func growPipe(*os.File, int) {}

func pipeSize(*os.File) int { return 0 }
