#!/bin/sh
# The price of explicit bounds checks: the compute kernels
# (bench/kernels/kernels.c, clang -O2 to wasm32) run with 32-bit memories as
# static reservations (no checks, the default) and as dynamic heaps (every
# access checked), timed as whole processes with hyperfine; prints the median
# of each and the ratio dynamic/static.
#   bench/run-heaps.sh [RUNS]      (after `make bench`; needs hyperfine)
set -e
here=$(dirname "$0")
runs=${1:-7}
command -v hyperfine >/dev/null || { echo "run-heaps: install hyperfine" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
wasm=$here/kernels/kernels.wasm
printf '%-8s %10s %10s %8s\n' kernel static_s dynamic_s ratio
for k in "fib 38" "sieve 20" "matmul 25" "crc32 200" "nbody 20000000" "sort 8"; do
    set -- $k
    hyperfine -N --runs "$runs" --warmup 1 --export-json "$out/r.json" \
        "$here/invoke $wasm $1 $2" "$here/invoke --dynamic-memories $wasm $1 $2" >/dev/null
    python3 - "$1" "$out/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))["results"]
s, d = r[0]["median"], r[1]["median"]
print("%-8s %10.3f %10.3f %8.2f" % (sys.argv[1], s, d, d / s))
PY
done
