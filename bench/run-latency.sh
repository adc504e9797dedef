#!/bin/sh
# Latency of calls (host -> wasm, wasm -> wasm, wasm -> host), traps,
# instantiation and compilation, measured in-process by bench/latency-bench
# (see bench/latency.c): median and min of RUNS runs, ns per operation.
#   bench/run-latency.sh [RUNS] [SIGHTGLASS_DIR]      (after `make bench`)
# The large-module rows use the largest Sightglass program that wasmjail
# can compile and instantiate (its WASI imports replaced by trapping stubs);
# they are left out, with a note, when there is none.
set -e
here=$(dirname "$0")
runs=${1:-7}
sg=${2:-${SIGHTGLASS:-$here/../../shared/sightglass}}
for f in "$here/latency-bench" "$here/latency/calls.wasm" "$here/kernels/kernels.wasm"; do
    [ -e "$f" ] || { echo "run-latency: $f is missing: run make bench" >&2; exit 1; }
done
# Sightglass programs, largest first; latency-bench takes the first usable.
if [ -d "$sg" ]; then
    # shellcheck disable=SC2046 # one argument per path (they have no spaces)
    set -- $(find "$sg" -name '*.wasm' -type f -exec ls -S {} +)
else
    echo "run-latency: no Sightglass programs at $sg: no large-module rows" >&2
    set --
fi
exec "$here/latency-bench" --runs "$runs" "$here/latency" "$here/kernels/kernels.wasm" "$@"
