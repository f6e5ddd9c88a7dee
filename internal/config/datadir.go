package config

import (
	"fmt"
	"os"
)

// EnsureDataDir creates the data folder with mode 0700, or narrows an
// existing one to 0700: it holds the database, the secret key and the
// alert spool, none of which other users should read. It returns a note
// for the log when it narrowed an existing folder.
func EnsureDataDir(dir string) (note string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("data dir: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("data dir: %w", err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("data dir %s is not a folder", dir)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", fmt.Errorf("data dir %s has mode %v and cannot be made private: %w", dir, perm, err)
		}
		return fmt.Sprintf("data dir %s had mode %v; narrowed to 0700", dir, perm), nil
	}
	return "", nil
}
