package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// When says in which pass of make test an allowlisted test may skip.
type When string

const (
	// Short tests skip under -short in the race pass and must then pass in
	// the long (non-short, non-race) pass, which runs exactly these.
	Short When = "short"
	// Always tests skip in every pass: helper processes that run only as a
	// subprocess of another test, measurements run by their own make target.
	Always When = "always"
	// Long tests never skip: they run under -short in a shorter form (a 3 s
	// camera outage instead of 20 s) and again, in full, in the long pass,
	// where they must pass too. Not a permission to skip.
	Long When = "long"
)

// Entry is one allowlisted test.
type Entry struct {
	When   When
	Pkg    string // module-relative package path, e.g. internal/motion
	Test   string // test name as go test -json reports it (TestX or TestX/sub)
	Reason string
	Line   int
}

// InLongPass says whether the long pass runs the entry and needs it to pass.
func (e Entry) InLongPass() bool { return e.When == Short || e.When == Long }

// Key identifies a test across packages.
func (e Entry) Key() string { return e.Pkg + " " + e.Test }

// Allowlist maps Key to its entry.
type Allowlist map[string]Entry

// testName is what a top-level test, benchmark-free, may be called.
var testName = regexp.MustCompile(`^(Test|Fuzz|Example)[A-Za-z0-9_]*(/[^\s]+)?$`)

// ParseAllowlist reads lines of the form
//
//	WHEN PACKAGE TEST  # why it may skip (or, for long, why it runs twice)
//
// Blank lines and lines starting with # are ignored. Every entry needs a
// reason after #: an allowlist nobody can explain is how skips go unnoticed.
func ParseAllowlist(r io.Reader) (Allowlist, error) {
	al := Allowlist{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		body, reason, _ := strings.Cut(line, "#")
		reason = strings.TrimSpace(reason)
		f := strings.Fields(body)
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want WHEN PACKAGE TEST # reason, got %q", n, line)
		}
		e := Entry{When: When(f[0]), Pkg: f[1], Test: f[2], Reason: reason, Line: n}
		switch {
		case e.When != Short && e.When != Always && e.When != Long:
			return nil, fmt.Errorf("line %d: WHEN is %q, want %q, %q or %q", n, f[0], Short, Always, Long)
		case !testName.MatchString(e.Test):
			return nil, fmt.Errorf("line %d: %q is not a test name", n, e.Test)
		case reason == "":
			return nil, fmt.Errorf("line %d: %s %s has no reason (add one after #)", n, e.Pkg, e.Test)
		}
		if old, dup := al[e.Key()]; dup {
			return nil, fmt.Errorf("line %d: %s %s already listed on line %d", n, e.Pkg, e.Test, old.Line)
		}
		al[e.Key()] = e
	}
	return al, sc.Err()
}

// LongArgs returns the go test arguments of the long pass: a -run pattern
// naming every top-level test of the Short and Long entries, then their
// packages.
// Tests of the same name in other listed packages run too, which costs time
// but hides nothing.
func (al Allowlist) LongArgs() (run string, pkgs []string) {
	names, seen := map[string]bool{}, map[string]bool{}
	for _, e := range al {
		if !e.InLongPass() {
			continue
		}
		top, _, _ := strings.Cut(e.Test, "/")
		names[regexp.QuoteMeta(top)] = true
		if !seen[e.Pkg] {
			seen[e.Pkg] = true
			pkgs = append(pkgs, "./"+e.Pkg)
		}
	}
	sort.Strings(pkgs)
	return "^(" + strings.Join(sortedKeys(names), "|") + ")$", pkgs
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
