package ingest

import (
	"runtime"
	"syscall"
	"time"
)

// threadCPU runs f on one locked OS thread and returns the CPU time that
// thread spent in it: unlike wall time, it does not grow when other
// processes keep the cores busy.
func threadCPU(f func()) (time.Duration, bool) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var a, b syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_THREAD, &a) != nil {
		return 0, false
	}
	f()
	if syscall.Getrusage(syscall.RUSAGE_THREAD, &b) != nil {
		return 0, false
	}
	cpu := func(r syscall.Rusage) time.Duration {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	return cpu(b) - cpu(a), true
}
