package decode

import (
	"os"

	"golang.org/x/sys/unix"
)

// growPipe asks for a pipe buffer of size bytes (the kernel rounds up to a
// power of two of pages; 1 MiB is the default limit for unprivileged
// processes). A refusal (the limit, or the user's pipe-memory quota of
// many cameras) keeps the default 64 KiB buffer: slower, not wrong.
// SyscallConn leaves the descriptor non-blocking (Fd would not).
func growPipe(f *os.File, size int) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size) })
}

// pipeSize is a pipe's buffer size in bytes, 0 when unknown.
func pipeSize(f *os.File) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Control(func(fd uintptr) { n, _ = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) })
	return n
}
