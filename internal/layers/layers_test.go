package layers

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/vigil-cctv/vigil/internal/"

// Every internal import goes down the table, never across or up, and
// every package has a level.
func TestImportsGoDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "../...").Output()
	require.NoError(t, err)
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		name := strings.TrimPrefix(p.ImportPath, module)
		level, ok := Levels[name]
		require.True(t, ok, "package %s has no level in layers.Levels", name)
		for _, imp := range p.Imports {
			dep, internal := strings.CutPrefix(imp, module)
			if !internal {
				continue
			}
			dl, ok := Levels[dep]
			require.True(t, ok, "package %s has no level in layers.Levels", dep)
			require.Less(t, dl, level, "%s (level %d) imports %s (level %d): imports must go down", name, level, dep, dl)
		}
	}
}
