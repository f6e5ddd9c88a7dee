package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// prepareFile creates the database file 0600 before SQLite does (SQLite
// would use the umask, usually 0644), or narrows an existing file's mode
// to 0600: it holds camera credentials and alerts. SQLite gives its -wal
// and -shm files the database file's mode. Errors name their cause.
func prepareFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: open sqlite %s: %s", path, explain(path, err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("store: sqlite %s has mode %v and cannot be made private: %w", path, info.Mode().Perm(), err)
		}
	}
	for _, side := range []string{path + "-wal", path + "-shm"} {
		if si, err := os.Stat(side); err == nil && si.Mode().Perm()&0o077 != 0 {
			_ = os.Chmod(side, 0o600) // SQLite recreates them from the main file's mode anyway
		}
	}
	return nil
}

// explain says why path cannot be opened in words a deployer can act on:
// "unable to open database file (14)" names no cause.
func explain(path string, err error) string {
	dir := filepath.Dir(path)
	info, serr := os.Stat(dir)
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		return fmt.Sprintf("the folder %s does not exist (create it, or set data_dir)", dir)
	case serr == nil && !info.IsDir():
		return fmt.Sprintf("%s is not a folder", dir)
	case serr == nil && unix.Access(dir, unix.W_OK|unix.X_OK) != nil:
		return fmt.Sprintf("no permission to create files in %s (%s); vigil runs as uid %d", dir, owner(info), os.Getuid())
	}
	if fi, ferr := os.Stat(path); ferr == nil {
		if fi.IsDir() {
			return fmt.Sprintf("%s is a folder, not a database file", path)
		}
		if unix.Access(path, unix.R_OK|unix.W_OK) != nil {
			return fmt.Sprintf("no permission to read and write %s (%s); vigil runs as uid %d", path, owner(fi), os.Getuid())
		}
	}
	if errors.Is(err, syscall.EROFS) {
		return fmt.Sprintf("the file system holding %s is read-only", dir)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// owner describes a file's mode and owner.
func owner(info fs.FileInfo) string {
	s := fmt.Sprintf("mode %v", info.Mode().Perm())
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		s += fmt.Sprintf(", owner uid %d", st.Uid)
	}
	return s
}
