// Command testskips reads `go test -json` on stdin, prints it for people
// (package results, the full output of every failure, each skip with its
// reason) and exits non-zero when a test failed or skipped without leave:
// CI must not turn a missing service or a forgotten test into a silent "ok".
//
// The allowlist (allowlist.txt beside this file) names each test that may
// skip, when, and why. Entries marked "short" skip under -short in the race
// pass; -long-args prints the go test arguments that run exactly those in
// the long pass, and -long then requires each of them to pass there.
//
//	go test -json -race -short ./... 2>&1 | testskips -allow A
//	go test -json $(testskips -allow A -long-args) 2>&1 | testskips -allow A -long
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

const module = "github.com/vigil-cctv/vigil"

func main() {
	allowPath := flag.String("allow", "internal/tools/testskips/allowlist.txt", "allowlist file")
	long := flag.Bool("long", false, "this is the long (non-short) pass: no short skips, and every short entry must pass")
	longArgs := flag.Bool("long-args", false, "print the -run pattern and packages of the long pass, one per line, and exit")
	flag.Parse()
	f, err := os.Open(*allowPath)
	if err != nil {
		fatal(err)
	}
	al, err := ParseAllowlist(f)
	f.Close()
	if err != nil {
		fatal(fmt.Errorf("%s: %w", *allowPath, err))
	}
	if *longArgs {
		run, pkgs := al.LongArgs()
		fmt.Printf("-run=%s\n%s\n", run, strings.Join(pkgs, "\n"))
		return
	}
	c := &Checker{Allow: al, Long: *long, Module: module, Out: os.Stdout}
	if n := c.Run(os.Stdin); n > 0 {
		fmt.Fprintf(os.Stderr, "testskips: %d problem(s)\n", n)
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "testskips:", err)
	os.Exit(2)
}
