#!/bin/sh
# Compute kernels (bench/kernels/kernels.c) compiled natively by gcc -O2 and
# to wasm32 by clang -O2, timed as whole processes (start-up included) with
# hyperfine; prints the median of each and the ratio wasm/native.
#   bench/run-kernels.sh [RUNS]      (after `make bench`; needs hyperfine)
set -e
here=$(dirname "$0")
runs=${1:-7}
command -v hyperfine >/dev/null || { echo "run-kernels: install hyperfine" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-8s %12s %12s %8s\n' kernel native_s wasmjail_s ratio
for k in "fib 38" "sieve 20" "matmul 25" "crc32 200" "nbody 20000000" "sort 8"; do
    set -- $k
    hyperfine -N --runs "$runs" --warmup 1 --export-json "$out/r.json" \
        "$here/kernels/kernels-native $1 $2" "$here/invoke $here/kernels/kernels.wasm $1 $2" \
        >/dev/null
    python3 - "$1" "$out/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))["results"]
n, w = r[0]["median"], r[1]["median"]
print("%-8s %12.3f %12.3f %8.2f" % (sys.argv[1], n, w, w / n))
PY
done
