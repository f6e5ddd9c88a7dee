package citest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// root is the repository root, from this package's directory.
const root = "../../.."

// script writes an executable shell script into dir and returns its path.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	return p
}

// ciRun runs .ci/run with a fake make that records its arguments and the
// service variables it was given, and the extra environment env. It returns
// the exit error, stderr, and what the fake make recorded ("" if it never
// ran).
func ciRun(t *testing.T, env ...string) (error, string, string) {
	t.Helper()
	dir := t.TempDir()
	record := filepath.Join(dir, "make-ran")
	fakeMake := script(t, dir, "make", `echo "args=$* pg=${VIGIL_TEST_POSTGRES:-} mqtt=${VIGIL_TEST_MOSQUITTO:-}" > `+record)
	cmd := exec.Command(filepath.Join(root, ".ci", "run"))
	cmd.Env = append(cleanEnv(), append([]string{"VIGIL_CI_MAKE=" + fakeMake}, env...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	ran, _ := os.ReadFile(record)
	return err, stderr.String(), strings.TrimSpace(string(ran))
}

// cleanEnv is this process's environment without the service variables,
// so that each case starts from nothing.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VIGIL_TEST_") && !strings.HasPrefix(kv, "VIGIL_CI_") {
			out = append(out, kv)
		}
	}
	return out
}

// closedPort is a localhost TCP address nobody listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// realPostgres is the DSN of the PostgreSQL make test uses.
func realPostgres(t *testing.T) string {
	dsn := os.Getenv("VIGIL_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("VIGIL_TEST_POSTGRES not set; make test and .ci/run set it")
	}
	return dsn
}

// printsDSN is a fake ci-postgres.sh that succeeds and prints dsn.
func printsDSN(t *testing.T, dsn string) string {
	return script(t, t.TempDir(), "pg.sh", `echo "starting" >&2; echo "export VIGIL_TEST_POSTGRES='`+dsn+`'"`)
}

func TestCIFailsWhenPostgresScriptFails(t *testing.T) {
	fake := script(t, t.TempDir(), "pg.sh", `echo "E: Unable to locate package postgresql" >&2; exit 100`)
	err, stderr, ran := ciRun(t, "VIGIL_CI_POSTGRES_SCRIPT="+fake)
	require.Error(t, err)
	require.Empty(t, ran, "make test ran without PostgreSQL")
	require.Contains(t, stderr, "PostgreSQL could not be made ready")
}

// The old .ci/run evaluated whatever the script's last line was: an empty
// line left VIGIL_TEST_POSTGRES unset and every PostgreSQL test skipped.
func TestCIFailsWhenPostgresPrintsNoDSN(t *testing.T) {
	for _, body := range []string{`exit 0`, `echo "server ready"`, `echo "export OTHER=1"`} {
		fake := script(t, t.TempDir(), "pg.sh", body)
		err, stderr, ran := ciRun(t, "VIGIL_CI_POSTGRES_SCRIPT="+fake)
		require.Error(t, err, body)
		require.Empty(t, ran, "make test ran without PostgreSQL (%s)", body)
		require.Contains(t, stderr, "printed no VIGIL_TEST_POSTGRES line")
	}
}

func TestCIFailsWhenPostgresDoesNotAnswer(t *testing.T) {
	dsn := "postgres://vigil:n0tl0gged@" + closedPort(t) + "/vigil?sslmode=disable"
	err, stderr, ran := ciRun(t, "VIGIL_CI_POSTGRES_SCRIPT="+printsDSN(t, dsn))
	require.Error(t, err)
	require.Empty(t, ran)
	require.Contains(t, stderr, "PostgreSQL does not answer at 127.0.0.1:")
	require.NotContains(t, stderr, "n0tl0gged", "the password reached the log")
}

func TestCIFailsWhenMosquittoScriptFails(t *testing.T) {
	dsn := realPostgres(t)
	fake := script(t, t.TempDir(), "mq.sh", `echo "E: Could not get lock /var/lib/dpkg/lock" >&2; exit 100`)
	err, stderr, ran := ciRun(t, "VIGIL_CI_POSTGRES_SCRIPT="+printsDSN(t, dsn), "VIGIL_CI_MOSQUITTO_SCRIPT="+fake)
	require.Error(t, err)
	require.Empty(t, ran, "make test ran without mosquitto")
	require.Contains(t, stderr, "mosquitto is not usable")
}

// A broker that is installed but does not start (here a stand-in that dies
// at once) fails the real scripts/ci-mosquitto.sh, and so CI.
func TestCIFailsWhenMosquittoDoesNotStart(t *testing.T) {
	dsn := realPostgres(t)
	bin := t.TempDir()
	script(t, bin, "mosquitto", `echo "error while loading shared libraries: libmosquitto.so.1" >&2; exit 127`)
	err, stderr, ran := ciRun(t, "VIGIL_CI_POSTGRES_SCRIPT="+printsDSN(t, dsn), "PATH="+bin+":"+os.Getenv("PATH"))
	require.Error(t, err)
	require.Empty(t, ran)
	require.Contains(t, stderr, "mosquitto did not start")
	require.Contains(t, stderr, "mosquitto is not usable")
}

func TestCIRunsMakeTestWithBothServices(t *testing.T) {
	dsn := realPostgres(t)
	err, stderr, ran := ciRun(t, "VIGIL_CI_POSTGRES_SCRIPT="+printsDSN(t, dsn))
	require.NoError(t, err, stderr)
	require.Equal(t, "args=test pg="+dsn+" mqtt=1", ran)
}

// TestMakeTestFailsOnUnlistedSkip runs scripts/test.sh with a fake go whose
// test runs report a skip that is not on the allowlist: make test must fail
// and say which test skipped and why, though every test "passed".
func TestMakeTestFailsOnUnlistedSkip(t *testing.T) {
	realGo, err := exec.LookPath("go")
	require.NoError(t, err)
	dir := t.TempDir()
	events := filepath.Join(dir, "events.json")
	const pkg = "github.com/vigil-cctv/vigil/internal/store/postgres"
	require.NoError(t, os.WriteFile(events, []byte(
		`{"Action":"run","Package":"`+pkg+`","Test":"TestConformance"}
{"Action":"output","Package":"`+pkg+`","Test":"TestConformance","Output":"    postgres_test.go:30: VIGIL_TEST_POSTGRES not set\n"}
{"Action":"skip","Package":"`+pkg+`","Test":"TestConformance"}
{"Action":"pass","Package":"`+pkg+`"}
`), 0o644))
	// vet passes, test prints the events, everything else (run) is real.
	fakeGo := script(t, dir, "go", `case "$1" in
vet) exit 0 ;;
test) cat `+events+` ;;
*) exec `+realGo+` "$@" ;;
esac`)
	cmd := exec.Command(filepath.Join(root, "scripts", "test.sh"))
	cmd.Env = append(cleanEnv(), "GO="+fakeGo, "VIGIL_TEST_POSTGRES=unused", "VIGIL_TEST_MOSQUITTO=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "make test passed with a silent skip:\n%s", out)
	require.Contains(t, string(out), "SKIPPED WITHOUT LEAVE")
	require.Contains(t, string(out), "internal/store/postgres TestConformance: not on the allowlist; it said: postgres_test.go:30: VIGIL_TEST_POSTGRES not set")
}
