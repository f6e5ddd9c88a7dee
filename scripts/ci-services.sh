# ci-services.sh: sourced by .ci/run and scripts/test.sh (make test). Each
# function makes one service the tests need ready and exports the variable
# that points the tests at it, or returns non-zero saying why: CI never runs
# on without a service it was meant to test (a test that skips for want of
# one fails make test anyway, see internal/tools/testskips).
#
# Overrides, for scripts/ci-selftest and unusual machines:
#   VIGIL_CI_POSTGRES_SCRIPT  the script that prints the export line (scripts/ci-postgres.sh)
#   VIGIL_CI_MOSQUITTO        the broker binary to check (mosquitto)

ci_log() { echo "ci: $*" >&2; }

ci_sudo() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# require_postgres runs scripts/ci-postgres.sh, accepts only its export line,
# and proves the server takes a query with that DSN before exporting it.
require_postgres() {
	local script=${VIGIL_CI_POSTGRES_SCRIPT:-scripts/ci-postgres.sh} out line
	if ! out=$("$script"); then
		ci_log "PostgreSQL could not be made ready: $script failed"
		return 1
	fi
	line=$(printf '%s\n' "$out" | tail -n1)
	case $line in
	"export VIGIL_TEST_POSTGRES='postgres://"*"'") ;;
	*)
		ci_log "PostgreSQL: $script printed no VIGIL_TEST_POSTGRES line (last line: '${line}')"
		return 1
		;;
	esac
	eval "$line"
	local answer
	answer=$(PGCONNECT_TIMEOUT=10 psql "$VIGIL_TEST_POSTGRES" -Atqc 'SELECT 1' 2>&1 || true)
	if [ "$answer" != 1 ]; then
		# Name the server, not the credentials.
		ci_log "PostgreSQL does not answer at ${VIGIL_TEST_POSTGRES#*@}: $(printf '%s\n' "$answer" | head -n1)"
		unset VIGIL_TEST_POSTGRES
		return 1
	fi
	export VIGIL_TEST_POSTGRES
	ci_log "PostgreSQL ready"
}

# require_mosquitto installs the broker when missing and checks that it runs;
# the MQTT tests start their own broker from it.
require_mosquitto() {
	local bin=${VIGIL_CI_MOSQUITTO:-mosquitto} help
	PATH="$PATH:/usr/sbin" # Debian installs the broker there
	if ! command -v "$bin" >/dev/null 2>&1; then
		ci_log "installing mosquitto"
		if ! { ci_sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive ci_sudo apt-get install -y -qq mosquitto >&2; }; then
			ci_log "mosquitto is missing and could not be installed"
			return 1
		fi
	fi
	# mosquitto -h prints its version and usage, then exits 3: judge the text.
	help=$("$bin" -h 2>&1 || true)
	case $help in
	"mosquitto version "*) ;;
	*)
		ci_log "mosquitto does not run: '$bin -h' said: $(printf '%s\n' "$help" | head -n1)"
		return 1
		;;
	esac
	export VIGIL_TEST_MOSQUITTO=1
	ci_log "mosquitto ready ($(printf '%s\n' "$help" | head -n1))"
}
