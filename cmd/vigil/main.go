// Command vigil turns CCTV video into tracked people and vehicles, and
// those into alerts. See `vigil --help`.
package main

import (
	"os"

	"github.com/vigil-cctv/vigil/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
