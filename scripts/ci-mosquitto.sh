#!/usr/bin/env bash
# Installs Debian's mosquitto when missing and checks that it can start,
# for the MQTT end-to-end test (internal/deliver, TestMosquittoEndToEnd),
# which .ci/run runs with VIGIL_TEST_MOSQUITTO=1 so that a missing broker
# fails the test instead of skipping it.
set -euo pipefail

bin=$(command -v mosquitto || true)
[ -z "$bin" ] && [ -x /usr/sbin/mosquitto ] && bin=/usr/sbin/mosquitto
if [ -z "$bin" ]; then
	echo "ci-mosquitto: installing mosquitto"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends mosquitto >/dev/null
	bin=/usr/sbin/mosquitto
fi

# The Debian package may start a system broker on 1883; the tests start
# their own on free ports and do not need it.
dir=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$(( (RANDOM % 20000) + 30000 ))
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n' "$port" >"$dir/m.conf"
"$bin" -c "$dir/m.conf" 2>"$dir/log" &
pid=$!
for _ in $(seq 1 50); do
	if grep -q "listen socket on port $port" "$dir/log" 2>/dev/null; then
		echo "ci-mosquitto: $("$bin" -h | head -1) starts"
		exit 0
	fi
	if ! kill -0 "$pid" 2>/dev/null; then break; fi
	sleep 0.1
done
echo "ci-mosquitto: mosquitto did not start:" >&2
cat "$dir/log" >&2
exit 1
