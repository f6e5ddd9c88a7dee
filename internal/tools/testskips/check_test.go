package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const allowText = `
# comment
short  internal/motion  TestEvalPed2Full   # minutes under -race: runs in the long pass
always internal/store/sqlite TestKill9Helper # helper: runs as TestKill9's child
long   internal/ingest TestOutage # 3 s outage under -short, 20 s in the long pass
`

func allow(t *testing.T) Allowlist {
	t.Helper()
	al, err := ParseAllowlist(strings.NewReader(allowText))
	require.NoError(t, err)
	return al
}

// stream builds a go test -json stream; each step is action, package
// (module-relative), test and output.
func stream(steps ...[4]string) string {
	var b strings.Builder
	for _, s := range steps {
		ev := map[string]any{"Action": s[0], "Package": module + "/" + s[1]}
		if s[2] != "" {
			ev["Test"] = s[2]
		}
		if s[3] != "" {
			ev["Output"] = s[3]
		}
		j, _ := json.Marshal(ev)
		b.Write(append(j, '\n'))
	}
	return b.String()
}

func run(t *testing.T, long bool, in string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	c := &Checker{Allow: allow(t), Long: long, Module: module, Out: &out}
	n := c.Run(strings.NewReader(in))
	return n, out.String()
}

func skip(pkg, test, msg string) [][4]string {
	return [][4]string{
		{"run", pkg, test, ""},
		{"output", pkg, test, "=== RUN   " + test + "\n"},
		{"output", pkg, test, "    x_test.go:9: " + msg + "\n"},
		{"output", pkg, test, "--- SKIP: " + test + " (0.00s)\n"},
		{"skip", pkg, test, ""},
	}
}

func join(parts ...[][4]string) [][4]string {
	var out [][4]string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func pkgPass(pkg string) [][4]string { return [][4]string{{"pass", pkg, "", ""}} }

func TestUnlistedSkipFails(t *testing.T) {
	in := stream(join(skip("internal/store/postgres", "TestConformance", "VIGIL_TEST_POSTGRES not set"), pkgPass("internal/store/postgres"))...)
	n, out := run(t, false, in)
	require.Equal(t, 1, n, out)
	require.Contains(t, out, "internal/store/postgres TestConformance: not on the allowlist; it said: x_test.go:9: VIGIL_TEST_POSTGRES not set")
}

func TestAllowlistedSkipPasses(t *testing.T) {
	in := stream(join(
		skip("internal/motion", "TestEvalPed2Full", "-short"),
		skip("internal/store/sqlite", "TestKill9Helper", "helper"),
		[][4]string{{"skip", "internal/empty", "", ""}}, // no test files
		pkgPass("internal/motion"), pkgPass("internal/store/sqlite"),
	)...)
	n, out := run(t, false, in)
	require.Zero(t, n, out)
	require.Contains(t, out, "internal/motion TestEvalPed2Full (minutes under -race: runs in the long pass)")
}

func TestShortSkipFailsInLongPass(t *testing.T) {
	in := stream(join(skip("internal/motion", "TestEvalPed2Full", "-short"), pkgPass("internal/motion"))...)
	n, out := run(t, true, in)
	require.Equal(t, 3, n, out) // the skip, it never passed, nor did TestOutage
	require.Contains(t, out, "allowlisted for -short only")
	require.Contains(t, out, "NEVER RAN")
}

func TestLongPassNeedsEveryShortEntry(t *testing.T) {
	n, out := run(t, true, stream(pkgPass("internal/motion")...))
	require.Equal(t, 2, n, out)
	require.Contains(t, out, "internal/motion TestEvalPed2Full (short entry, line 3) did not pass in the long pass")
	require.Contains(t, out, "internal/ingest TestOutage (long entry, line 5) did not pass in the long pass")

	in := stream(join(
		[][4]string{{"run", "internal/motion", "TestEvalPed2Full", ""}, {"pass", "internal/motion", "TestEvalPed2Full", ""}},
		[][4]string{{"run", "internal/ingest", "TestOutage", ""}, {"pass", "internal/ingest", "TestOutage", ""}},
		pkgPass("internal/motion"), pkgPass("internal/ingest"))...)
	n, out = run(t, true, in)
	require.Zero(t, n, out)

	// A long entry may not skip in either pass.
	n, out = run(t, false, stream(join(skip("internal/ingest", "TestOutage", "x"), pkgPass("internal/ingest"))...))
	require.Equal(t, 1, n, out)
	require.Contains(t, out, "listed to run in both passes, never to skip")
}

func TestFailurePrintsOutput(t *testing.T) {
	in := stream(
		[4]string{"run", "internal/decode", "TestX", ""},
		[4]string{"output", "internal/decode", "TestX", "    x_test.go:3: want 3, got 4\n"},
		[4]string{"output", "internal/decode", "TestY", "noise from a passing test\n"},
		[4]string{"pass", "internal/decode", "TestY", ""},
		[4]string{"fail", "internal/decode", "TestX", ""},
		[4]string{"output", "internal/decode", "", "FAIL\n"},
		[4]string{"fail", "internal/decode", "", ""},
	)
	n, out := run(t, false, in)
	require.Equal(t, 2, n, out) // the test and its package
	require.Contains(t, out, "--- FAIL: internal/decode TestX\n    x_test.go:3: want 3, got 4\n")
	require.NotContains(t, out, "noise from a passing test")
	require.Contains(t, out, "FAIL internal/decode")
}

func TestBuildFailureAndEmptyStream(t *testing.T) {
	in := `{"ImportPath":"` + module + `/internal/x","Action":"build-output","Output":"x.go:1: syntax error\n"}
{"ImportPath":"` + module + `/internal/x","Action":"build-fail"}
go: some message from the go command
`
	n, out := run(t, false, in)
	require.Equal(t, 2, n, out) // the build, and no package result at all
	require.Contains(t, out, "x.go:1: syntax error")
	require.Contains(t, out, "go: some message from the go command")
	require.Contains(t, out, "internal/x (build)")
}

func TestAllowlistNeedsReasons(t *testing.T) {
	for _, bad := range []string{
		"short internal/x TestA",                // no reason
		"short internal/x TestA #",              // empty reason
		"sometimes internal/x TestA # why",      // unknown WHEN
		"short internal/x BenchmarkA # why",     // not a test
		"short internal/x # why",                // missing field
		"short a TestA # x\nalways a TestA # y", // duplicate
	} {
		_, err := ParseAllowlist(strings.NewReader(bad))
		require.Error(t, err, bad)
	}
}

func TestLongArgs(t *testing.T) {
	al, err := ParseAllowlist(strings.NewReader(allowText + "short internal/ingest TestC/long # why\nshort internal/ingest TestB # why\n"))
	require.NoError(t, err)
	run, pkgs := al.LongArgs()
	require.Equal(t, "^(TestB|TestC|TestEvalPed2Full|TestOutage)$", run)
	require.Equal(t, []string{"./internal/ingest", "./internal/motion"}, pkgs)
}

// TestCheckedInAllowlist parses the real allowlist and checks that every
// test it names is declared in its package, so a renamed test or package
// cannot leave a dead entry.
func TestCheckedInAllowlist(t *testing.T) {
	f, err := os.Open("allowlist.txt")
	require.NoError(t, err)
	defer f.Close()
	al, err := ParseAllowlist(f)
	require.NoError(t, err)
	require.NotEmpty(t, al)
	for _, e := range al {
		files, err := filepath.Glob(filepath.Join("../../..", e.Pkg, "*_test.go"))
		require.NoError(t, err)
		top, _, _ := strings.Cut(e.Test, "/")
		found := false
		for _, name := range files {
			b, err := os.ReadFile(name)
			require.NoError(t, err)
			found = found || bytes.Contains(b, []byte("func "+top+"("))
		}
		require.True(t, found, "allowlist line %d: no func %s in %s/*_test.go", e.Line, top, e.Pkg)
	}
}

// A test binary that crashes leaves its running test without a result; its
// output (the crash) must still be shown.
func TestCrashShowsUnfinishedTestOutput(t *testing.T) {
	in := stream(
		[4]string{"run", "internal/service", "TestX", ""},
		[4]string{"output", "internal/service", "TestX", "SIGSEGV: segmentation violation\n"},
		[4]string{"output", "internal/service", "", "FAIL\tinternal/service\n"},
		[4]string{"fail", "internal/service", "", ""},
	)
	n, out := run(t, false, in)
	require.Equal(t, 1, n, out)
	require.Contains(t, out, "--- DID NOT FINISH: internal/service TestX\nSIGSEGV: segmentation violation\n")

	n, out = run(t, false, stream(append(pkgPass("internal/a"), [4]string{"output", "internal/b", "TestY", "half a line"})...))
	require.Equal(t, 1, n, out)
	require.Contains(t, out, "DID NOT FINISH: internal/b TestY\nhalf a line")
}
