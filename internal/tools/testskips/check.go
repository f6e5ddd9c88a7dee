package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// event is one line of go test -json (cmd/test2json) output.
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail events
	Test       string
	Output     string
	Elapsed    float64
}

// Checker reads a go test -json stream, prints it for people (package
// results, skips with their reason, the whole output of each failure) and
// judges it against the allowlist.
type Checker struct {
	Allow  Allowlist
	Long   bool   // the long pass: Short entries may not skip and must pass
	Module string // module path, stripped from package names
	Out    io.Writer

	output  map[string][]string // test key → output lines so far
	skipped map[string]string   // test key → its skip message
	passed  map[string]bool
	failed  []string
	bad     []string // problems that are not test failures
	pkgs    int      // packages that reported a result
}

func (c *Checker) rel(pkg string) string {
	return strings.TrimPrefix(strings.TrimPrefix(pkg, c.Module), "/")
}

// Run consumes the stream and returns the number of problems found.
func (c *Checker) Run(r io.Reader) int {
	c.output, c.skipped, c.passed = map[string][]string{}, map[string]string{}, map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			// Not an event: the go command's own messages. Show them.
			fmt.Fprintln(c.Out, string(line))
			continue
		}
		c.handle(ev)
	}
	if err := sc.Err(); err != nil {
		c.bad = append(c.bad, fmt.Sprintf("reading the test stream: %v", err))
	}
	if c.pkgs == 0 {
		c.bad = append(c.bad, "no package reported a result: did go test run?")
	}
	if len(c.output) > 0 { // the stream ended mid-test
		c.unfinished("")
		c.bad = append(c.bad, "the test stream ended before every test reported a result")
	}
	return c.summary()
}

func (c *Checker) handle(ev event) {
	pkg := c.rel(ev.Package)
	key := pkg + " " + ev.Test
	switch ev.Action {
	case "build-output":
		fmt.Fprint(c.Out, ev.Output)
	case "build-fail":
		c.failed = append(c.failed, c.rel(ev.ImportPath)+" (build)")
	case "output":
		c.output[key] = append(c.output[key], ev.Output)
	case "pass":
		if ev.Test == "" {
			c.pkgs++
			fmt.Fprintf(c.Out, "ok   %s %.1fs\n", pkg, ev.Elapsed)
		} else {
			c.passed[key] = true
		}
		delete(c.output, key)
	case "skip":
		if ev.Test != "" { // a package skip means "no test files"
			c.skipped[key] = skipReason(c.output[key])
		}
		delete(c.output, key)
	case "fail":
		name := key
		if ev.Test == "" {
			c.pkgs++
			name = pkg + " (package)"
			fmt.Fprintf(c.Out, "FAIL %s %.1fs\n", pkg, ev.Elapsed)
		}
		fmt.Fprintf(c.Out, "--- FAIL: %s\n%s", name, strings.Join(c.output[key], ""))
		c.failed = append(c.failed, name)
		delete(c.output, key)
		if ev.Test == "" {
			c.unfinished(pkg + " ")
		}
	}
}

// unfinished prints the output of tests under prefix that never reported a
// result: a crash or a timeout kills the test binary mid-test, and their
// output is where the reason is.
func (c *Checker) unfinished(prefix string) {
	var keys []string
	for k := range c.output {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(c.Out, "--- DID NOT FINISH: %s\n%s", k, strings.Join(c.output[k], ""))
		delete(c.output, k)
	}
}

// skipReason picks the t.Skip message out of a skipped test's output.
func skipReason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		msg = append(msg, t)
	}
	return strings.Join(msg, " ")
}

// summary judges skips and missing long-pass runs, prints the verdict and
// returns the number of problems.
func (c *Checker) summary() int {
	var allowed, notAllowed []string
	for _, key := range sortedKeys(boolKeys(c.skipped)) {
		e, ok := c.Allow[key]
		switch {
		case ok && (e.When == Always || (e.When == Short && !c.Long)):
			allowed = append(allowed, fmt.Sprintf("  %s (%s)", key, e.Reason))
		default:
			why := "not on the allowlist"
			switch {
			case ok && e.When == Short:
				why = "allowlisted for -short only, and this pass is not -short"
			case ok && e.When == Long:
				why = "listed to run in both passes, never to skip"
			}
			notAllowed = append(notAllowed, fmt.Sprintf("  %s: %s; it said: %s", key, why, c.skipped[key]))
		}
	}
	var missing []string
	if c.Long {
		for key, e := range c.Allow {
			if e.InLongPass() && !c.passed[key] {
				missing = append(missing, fmt.Sprintf("  %s (%s entry, line %d) did not pass in the long pass", key, e.When, e.Line))
			}
		}
		sort.Strings(missing)
	}
	if len(allowed) > 0 {
		fmt.Fprintf(c.Out, "\nskipped, allowlisted (%d):\n%s\n", len(allowed), strings.Join(allowed, "\n"))
	}
	problems := len(c.failed) + len(notAllowed) + len(missing) + len(c.bad)
	if len(notAllowed) > 0 {
		fmt.Fprintf(c.Out, "\nSKIPPED WITHOUT LEAVE (%d): fix the cause (a missing service fails CI) or add an allowlist entry with its reason:\n%s\n",
			len(notAllowed), strings.Join(notAllowed, "\n"))
	}
	if len(missing) > 0 {
		fmt.Fprintf(c.Out, "\nNEVER RAN (%d):\n%s\n", len(missing), strings.Join(missing, "\n"))
	}
	for _, b := range c.bad {
		fmt.Fprintf(c.Out, "\n%s\n", b)
	}
	if len(c.failed) > 0 {
		fmt.Fprintf(c.Out, "\nFAILED (%d):\n  %s\n", len(c.failed), strings.Join(c.failed, "\n  "))
	}
	if problems == 0 {
		fmt.Fprintf(c.Out, "\nall tests passed; %d passed, %d skipped (all allowlisted)\n", len(c.passed), len(allowed))
	}
	return problems
}

func boolKeys[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
