#!/bin/sh
# Compute kernels (bench/kernels/kernels.c), timed as whole processes
# (start-up included) with hyperfine; prints the median of each pair and
# their ratio.
#   bench/run-kernels.sh [RUNS]          gcc -O2 native vs clang -O2 wasm32
#   bench/run-kernels.sh --heaps [RUNS]  wasm with static 32-bit memories (no
#                                        checks) vs dynamic ones (every access
#                                        checked): the price of the checks
# (after `make bench`; needs hyperfine)
set -e
here=$(dirname "$0")
heaps=
if [ "$1" = --heaps ]; then heaps=1; shift; fi
runs=${1:-7}
command -v hyperfine >/dev/null || { echo "run-kernels: install hyperfine" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
wasm=$here/kernels/kernels.wasm
if [ -n "$heaps" ]; then
    printf '%-8s %12s %12s %8s\n' kernel static_s dynamic_s ratio
else
    printf '%-8s %12s %12s %8s\n' kernel native_s wasmjail_s ratio
fi
for k in "fib 38" "sieve 20" "matmul 25" "crc32 200" "nbody 20000000" "sort 8"; do
    set -- $k
    if [ -n "$heaps" ]; then
        a="$here/invoke $wasm $1 $2" b="$here/invoke --dynamic-memories $wasm $1 $2"
    else
        a="$here/kernels/kernels-native $1 $2" b="$here/invoke $wasm $1 $2"
    fi
    hyperfine -N --runs "$runs" --warmup 1 --export-json "$out/r.json" "$a" "$b" >/dev/null
    python3 - "$1" "$out/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))["results"]
a, b = r[0]["median"], r[1]["median"]
print("%-8s %12.3f %12.3f %8.2f" % (sys.argv[1], a, b, b / a))
PY
done
