#!/usr/bin/env bash
# run-memory.sh: the README's `make run` memory figure. Starts
# `vigil serve --config configs/demo.yaml` (the two looping demo cameras),
# samples its /metrics every 15 s for DURATION (default 5m) and prints the
# range of resident memory (process_resident_memory_bytes) and of live heap
# objects (go_memstats_heap_objects), then stops the server.
#
#   make build && scripts/run-memory.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5m}
config=${VIGIL_RUN_CONFIG:-configs/demo.yaml}
addr=$(awk -F'"' '/^listen:/ {print $2}' "$config")
log=$(mktemp)
bin/vigil serve --config "$config" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT

metric() { curl -fsS "http://$addr/metrics" | awk -v m="$1" '$1 == m {printf "%.0f\n", $2}'; }
for _ in $(seq 1 120); do # up to 60 s for the server to listen
	curl -fsS -o /dev/null "http://$addr/healthz" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
	sleep 0.5
done
case $duration in
*m) seconds=$((${duration%m} * 60)) ;;
*s) seconds=${duration%s} ;;
*) echo "duration: want e.g. 5m or 90s, got $duration" >&2; exit 2 ;;
esac
end=$(($(date +%s) + seconds))
rss=() objs=()
while [ "$(date +%s)" -lt "$end" ]; do
	rss+=("$(metric process_resident_memory_bytes)")
	objs+=("$(metric go_memstats_heap_objects)")
	sleep 15
done
range() { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd' '; }
read -r rlo rhi <<<"$(range "${rss[@]}")"
read -r olo ohi <<<"$(range "${objs[@]}")"
echo "make run over $duration (${#rss[@]} samples): resident memory $((rlo >> 20))-$((rhi >> 20)) MiB, heap objects $olo-$ohi"
