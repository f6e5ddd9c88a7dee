#!/usr/bin/env bash
# test.sh: the body of make test. Every test, in two passes, each read by
# internal/tools/testskips, which prints results for people and fails on a
# failure or on a skip not in internal/tools/testskips/allowlist.txt:
#   1. the race pass: go test -race -short ./...
#   2. the long pass: non-race, non-short, exactly the tests the allowlist
#      names as short (they skipped in pass 1) or long (they run again in
#      full): full-footage acceptance, Ped2, kill -9, 20 s camera outages.
# The services the tests need are started first when not given (see
# scripts/ci-services.sh); without them make test fails rather than skips.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
. scripts/ci-services.sh
[ -n "${VIGIL_TEST_POSTGRES:-}" ] || require_postgres
[ -n "${VIGIL_TEST_MOSQUITTO:-}" ] || require_mosquitto

$GO vet ./...
allow=internal/tools/testskips/allowlist.txt
skips() { $GO run ./internal/tools/testskips -allow "$allow" "$@"; }
longargs=$(skips -long-args)
mapfile -t long <<<"$longargs"

rc=0
echo "== race pass: go test -race -short ./..."
$GO test -json -race -short -timeout 30m ./... 2>&1 | skips || rc=1
echo "== long pass: go test ${long[*]}"
# The long pass's internal/cli package runs its acceptance and process
# tests one after another: about 15 min idle, over 30 with both cores busy
# (it hit a 30 min timeout under stress-ng). The timeout only guards
# against a hang, so it sits under CI's 90 min, not near the idle time.
$GO test -json -count=1 -timeout 60m "${long[@]}" 2>&1 | skips -long || rc=1
exit $rc
