# ci-services.sh: sourced by .ci/run and scripts/test.sh (make test). Each
# function makes one service the tests need ready and exports the variable
# that points the tests at it, or returns non-zero saying why: CI never runs
# on without a service it was meant to test (a test that skips for want of
# one fails make test anyway, see internal/tools/testskips).
#
# Overrides, for internal/tools/citest and unusual machines:
#   VIGIL_CI_POSTGRES_SCRIPT   prints the export line (scripts/ci-postgres.sh)
#   VIGIL_CI_MOSQUITTO_SCRIPT  installs and checks the broker (scripts/ci-mosquitto.sh)

ci_log() { echo "ci: $*" >&2; }

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

# require_mosquitto runs scripts/ci-mosquitto.sh, which installs the broker
# when missing and checks that it starts (the MQTT tests start their own
# broker from it), and then tells the tests it must be there.
require_mosquitto() {
	local script=${VIGIL_CI_MOSQUITTO_SCRIPT:-scripts/ci-mosquitto.sh}
	if ! "$script" >&2; then
		ci_log "mosquitto is not usable: $script failed"
		return 1
	fi
	export VIGIL_TEST_MOSQUITTO=1
	ci_log "mosquitto ready"
}
