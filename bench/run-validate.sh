#!/bin/sh
# Decode + validate throughput over the largest Sightglass programs.
#   bench/run-validate.sh [SIGHTGLASS_DIR]     (after `make bench`)
set -e
here=$(dirname "$0")
sg=${1:-${SIGHTGLASS:-$here/../../shared/sightglass}}
exec "$here/validate" "$sg/gcc-loops/benchmark.wasm" "$sg/rust-compression/benchmark.wasm" \
    "$sg/regex/benchmark.wasm"
