package httpapi

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine running (the
// fuzz targets' shared account store is closed first).
func TestMain(m *testing.M) {
	code := m.Run()
	closeSharedTestAuth()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
