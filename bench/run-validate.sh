#!/bin/sh
# Decode + validate throughput, then decode + validate + compile throughput,
# over the largest Sightglass programs.
#   bench/run-validate.sh [SIGHTGLASS_DIR]     (after `make bench`)
set -e
here=$(dirname "$0")
sg=${1:-${SIGHTGLASS:-$here/../../shared/sightglass}}
set -- "$sg/gcc-loops/benchmark.wasm" "$sg/rust-compression/benchmark.wasm" \
    "$sg/regex/benchmark.wasm"
echo "== decode + validate"
"$here/validate" "$@"
echo "== decode + validate + compile"
"$here/validate" --compile "$@"
