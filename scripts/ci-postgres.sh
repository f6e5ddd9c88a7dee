#!/usr/bin/env bash
# ci-postgres.sh: make a local PostgreSQL ready for the store tests
# (internal/store/postgres) on a Debian/Ubuntu CI machine, then print the
# line that points the tests at it. Safe to run again: every step checks
# first. Needs root or passwordless sudo.
#
#   eval "$(scripts/ci-postgres.sh | tail -n1)"
#   go test -race ./internal/store/...
#
# PGUSER_NAME, PGPASSWORD_VALUE, PGDB_NAME and PGPORT override the defaults.
set -euo pipefail

user=${PGUSER_NAME:-vigil}
pass=${PGPASSWORD_VALUE:-vigil}
db=${PGDB_NAME:-vigil}
port=${PGPORT:-5432}

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

# Logs go to stderr so stdout ends with the export line alone.
log() { echo "ci-postgres: $*" >&2; }

# 1. Install the server when it is missing.
if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
	log "installing postgresql"
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
fi

# 2. Pick the installed major version and make sure it has a cluster (the
# package creates "main"; minimal images sometimes skip it).
version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
	log "creating cluster $version/main"
	$sudo pg_createcluster "$version" main --port "$port" >&2
fi

# 3. Start it unless it is already online, then wait until it accepts
# connections.
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
	log "starting cluster $version/main"
	$sudo pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
for _ in $(seq 1 30); do
	pg_isready -q -h 127.0.0.1 -p "$port" && break
	sleep 1
done
pg_isready -h 127.0.0.1 -p "$port" >&2

# 4. Create the role and database when missing. SUPERUSER because the tests
# create and drop a schema per test.
as_postgres() {
	if [ -z "$sudo" ]; then su postgres -c "$(printf '%q ' "$@")"; else sudo -u postgres "$@"; fi
}
psql_admin() { as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -tAc "$1"; }
if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != "1" ]; then
	log "creating role $user"
	psql_admin "CREATE ROLE \"$user\" LOGIN SUPERUSER PASSWORD '$pass'" >&2
fi
if [ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
	log "creating database $db"
	as_postgres createdb -p "$port" -O "$user" "$db" >&2
fi

# 5. The line for the tests (eval it, or copy it into the CI environment).
echo "export VIGIL_TEST_POSTGRES='postgres://$user:$pass@127.0.0.1:$port/$db?sslmode=disable'"
