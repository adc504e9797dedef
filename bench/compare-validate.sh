#!/bin/sh
# Decode + validate (with --compile, + compile) time of two builds side by
# side, in alternating rounds so that both see the same machine load: for
# each module, the median over the rounds of each build's per-round median,
# and the fastest run of each. Module paths must not contain spaces.
#   bench/compare-validate.sh [--rounds N] [--compile] OLD_VALIDATE NEW_VALIDATE [FILE.wasm...]
# OLD_VALIDATE and NEW_VALIDATE are bench/validate programs of two builds
# (`make bench` in each); the modules default to the largest Sightglass ones.
set -e
rounds=9
compile=
while :; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --compile) compile=--compile; shift ;;
    *) break ;;
    esac
done
[ $# -ge 2 ] || { echo "usage: $0 [--rounds N] [--compile] OLD NEW [FILE.wasm...]" >&2; exit 2; }
old=$1 new=$2
shift 2
here=$(dirname "$0")
sg=${SIGHTGLASS:-$here/../../shared/sightglass}
[ $# -gt 0 ] || set -- "$sg/rust-compression/benchmark.wasm" "$sg/regex/benchmark.wasm" \
    "$sg/gcc-loops/benchmark.wasm" "$sg/intgemm-simd/benchmark.wasm"
log=$(mktemp)
trap 'rm -f "$log" "$log.run"' EXIT
i=0
while [ $i -lt "$rounds" ]; do
    for build in old new; do
        eval prog=\$$build
        # One line per module: build, module, median ms, min ms.
        "$prog" $compile --runs 5 --min-time 0.05 "$@" >"$log.run"
        awk -v b=$build 'NR > 1 && $1 !~ /^total/ { print b, $1, $4, $5 }' "$log.run" >>"$log"
    done
    i=$((i + 1))
done
printf '%-24s %10s %10s %10s %10s %7s\n' module "old med" "new med" "old min" "new min" change
for f in "$@"; do
    for build in old new; do
        awk -v b=$build -v f="$f" '$1 == b && $2 == f { print $3 }' "$log" | sort -n |
            awk '{ v[NR] = $1 } END { printf "%s ", v[int((NR + 1) / 2)] }'
        awk -v b=$build -v f="$f" '$1 == b && $2 == f { print $4 }' "$log" | sort -n | head -n 1
    done | tr '\n' ' ' | awk -v f="$f" '{ n = split(f, part, "/"); if (n > 1) f = part[n - 1]
        printf "%-24s %10.3f %10.3f %10.3f %10.3f %+6.1f%%\n",
        f, $1, $3, $2, $4, ($3 / $1 - 1) * 100 }'
done
