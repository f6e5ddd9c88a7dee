package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Issue 16 item 2: `vigil scene check` on 10,000 nested brackets took
// 1.35 s and 200 MB; it now fails at once with the line and the limit.
func TestSceneCheckRefusesDeepNesting(t *testing.T) {
	p := filepath.Join(t.TempDir(), "deep.yaml")
	doc := "version: 1\ncamera: a\nimage: {width: 10, height: 10}\nzones: " + strings.Repeat("[", 10000) + "\n"
	require.NoError(t, os.WriteFile(p, []byte(doc), 0o600))
	code, _, stderr := vigil(t, "scene", "check", p)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, p+":4:")
	require.Contains(t, stderr, "lists and mappings nest more than 32 levels deep")
}
