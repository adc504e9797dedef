#!/bin/bash
# The Sightglass programs ($SIGHTGLASS, see its README.md) under wasmjail,
# against Node's WASI as a reference:
#
#   bench/run-sightglass.sh [-n RUNS] [--heaps] [--no-node] [PROGRAM...]
#
# What is measured: each program's own measured region, the time between its
# calls of the imports bench.start and bench.end, in nanoseconds. wasmjail
# writes it with `wasmjail run --bench=FILE`; under Node,
# bench/sightglass-node.mjs reads process.hrtime.bigint() in the same two
# imports. Process start-up, compilation and instantiation happen before
# bench.start and are excluded (Node's V8 still compiles lazily and tiers up
# inside the region: it is its normal way of running). Each program runs RUNS
# times (default 5) per engine, the two engines alternating, from its own
# folder preopened as "." (`wasmjail run --bench=FILE --dir . X.wasm`); the
# first run's stdout and stderr are compared with the expected files, the
# other runs' go to /dev/null. The table gives the MEDIAN of the runs in ms
# and the ratio of the medians, wasmjail/node; the geometric mean of the
# ratios ends it, once over every program and once without the programs whose
# region is under 1 ms in either engine (noop, nestedloop: there the region
# is little more than the two calls, and their ratios say nothing about
# generated code).
#
#   --heaps     instead: wasmjail with static 32-bit memories (guard
#               reservations, the default) vs `--dynamic-memories` (explicit
#               bounds checks), ratio dynamic/static
#   --no-node   wasmjail alone, no ratios
#   PROGRAM     a folder (bz2, shootout), folder/name (shootout/shootout-fib2)
#               or a name (shootout-fib2); default: every program outside the
#               *-simd folders
#
#   WASMJAIL    the command (default: ./wasmjail: run it from the top build
#               directory)
#   SIGHTGLASS  the programs (default: ../shared/sightglass beside the source
#               tree)
#   NODE_FLAGS  options for node, e.g. '--no-liftoff --no-wasm-lazy-compilation':
#               every function compiled by the optimizing compiler before
#               _start, like wasmjail. By default V8 starts functions in its
#               baseline compiler and has no on-stack replacement for Wasm, so
#               a kernel that is one long call (shootout-seqhash, -ratelimit,
#               -xblabla20) stays in baseline code and Node looks ~10x slower.
#
# The times are only meaningful on an otherwise idle machine. With the
# default 5 runs, a full comparison with Node takes about five minutes
# (shootout-seqhash alone runs ~20 s per run under Node 20's defaults).
set -u

usage() {
    echo "usage: $0 [-n RUNS] [--heaps] [--no-node] [PROGRAM...]" >&2
    exit 2
}

runs=5
heaps=
use_node=1
programs=()
while [ $# -gt 0 ]; do
    case $1 in
    -n)
        [ $# -ge 2 ] || usage
        runs=$2
        shift 2
        ;;
    -n*) runs=${1#-n}; shift ;;
    --runs=*) runs=${1#--runs=}; shift ;;
    --heaps) heaps=1; shift ;;
    --no-node) use_node=; shift ;;
    -h | --help) usage ;;
    --) shift; programs+=("$@"); break ;;
    -*) echo "run-sightglass: unknown option '$1'" >&2; usage ;;
    *) programs+=("$1"); shift ;;
    esac
done
case $runs in
'' | *[!0-9]* | 0) echo "run-sightglass: RUNS must be a positive integer, not '$runs'" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
read -ra node_flags <<<"${NODE_FLAGS:-}"
node_script=$here/sightglass-node.mjs

wasmjail=${WASMJAIL:-./wasmjail}
case $wasmjail in
/*) ;;
*/*) wasmjail=$(pwd)/${wasmjail#./} ;;
*) wasmjail=$(command -v "$wasmjail") || wasmjail=$WASMJAIL ;;
esac
if [ ! -x "$wasmjail" ]; then
    echo "run-sightglass: no wasmjail at '$wasmjail' (run from the top build directory or set WASMJAIL)" >&2
    exit 1
fi

sightglass=${SIGHTGLASS:-$here/../../shared/sightglass}
if [ ! -d "$sightglass" ]; then
    echo "run-sightglass: no Sightglass programs at '$sightglass' (set SIGHTGLASS)" >&2
    exit 1
fi
sightglass=$(cd "$sightglass" && pwd)

if [ -n "$heaps" ]; then
    use_node=
elif [ -n "$use_node" ] && ! command -v node >/dev/null 2>&1; then
    echo "run-sightglass: node is not installed: wasmjail alone" >&2
    use_node=
fi

# The programs, as paths relative to $sightglass (folder/file.wasm).
list=()
if [ ${#programs[@]} -eq 0 ]; then
    for w in "$sightglass"/*/*.wasm; do
        w=${w#"$sightglass"/}
        case ${w%%/*} in *-simd) continue ;; esac
        list+=("$w")
    done
else
    for p in "${programs[@]}"; do
        p=${p%/}
        p=${p%.wasm}
        found=
        for w in "$sightglass"/*/*.wasm; do
            w=${w#"$sightglass"/}
            folder=${w%%/*} stem=${w##*/}
            stem=${stem%.wasm}
            if [ "$p" = "$folder" ] || [ "$p" = "$folder/$stem" ] || [ "$p" = "$stem" ]; then
                list+=("$w")
                found=1
            fi
        done
        if [ -z "$found" ]; then
            echo "run-sightglass: no program '$p' in $sightglass" >&2
            exit 2
        fi
    done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-sightglass.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# median: the median of the integers on stdin, one per line.
median() {
    sort -n | awk '{ v[NR] = $1 }
        END {
            if (NR == 0) exit 1
            if (NR % 2) print v[(NR + 1) / 2]
            else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
        }'
}

# measure DIR CHECK_PREFIX CMD...: runs CMD in DIR, stdin from /dev/null.
# With CHECK_PREFIX (the expected files' X in X.stdout.expected), compares
# stdout and stderr with the expected files, else discards them. Prints the
# measured region (ns); on failure says why on stderr and returns 1.
measure() {
    local dir=$1 exp=$2 status s
    shift 2
    rm -f "$tmp/time"
    if [ -n "$exp" ]; then
        (cd "$dir" && exec "$@") </dev/null >"$tmp/stdout" 2>"$tmp/stderr"
    else
        (cd "$dir" && exec "$@") </dev/null >/dev/null 2>/dev/null
    fi
    status=$?
    if [ $status -ne 0 ]; then
        echo "  $name ($1): exit status $status" >&2
        [ -n "$exp" ] && head -n 5 "$tmp/stderr" | sed 's/^/    /' >&2
        return 1
    fi
    if [ -n "$exp" ]; then
        for s in stdout stderr; do
            if [ -f "$dir/$exp.$s.expected" ] && ! cmp -s "$dir/$exp.$s.expected" "$tmp/$s"; then
                echo "  $name ($1): $s differs from $exp.$s.expected" >&2
                return 1
            fi
        done
    fi
    if ! grep -Eqx '[0-9]+' "$tmp/time" 2>/dev/null; then
        echo "  $name ($1): no measured region (bench file missing or not one integer)" >&2
        return 1
    fi
    cat "$tmp/time"
}

if [ -n "$heaps" ]; then
    labels=(static dynamic)
    ratio_name=dyn/static
elif [ -n "$use_node" ]; then
    labels=(wasmjail node)
    ratio_name=wj/node
else
    labels=(wasmjail)
fi

echo "# Sightglass measured regions (bench.start -> bench.end), median of $runs runs, ms"
version=$("$wasmjail" --version 2>/dev/null | head -n 1)
echo "# wasmjail: $wasmjail (${version:-no --version})"
[ -n "$use_node" ] && echo "# node: $(command -v node) $(node --version)${NODE_FLAGS:+ $NODE_FLAGS}"
echo "# programs: $sightglass"
echo "# machine: $(uname -srm), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs"
if [ ${#labels[@]} -eq 2 ]; then
    printf '%-28s %12s %12s %10s\n' program "${labels[0]}_ms" "${labels[1]}_ms" "$ratio_name"
else
    printf '%-28s %12s\n' program "${labels[0]}_ms"
fi

: >"$tmp/ratios"
failures=0
for w in "${list[@]}"; do
    dir=$sightglass/${w%/*}
    base=${w##*/}
    stem=${base%.wasm}
    # benchmark.wasm is named by its folder, others (shootout-*) by their own.
    if [ "$stem" = benchmark ]; then name=${w%/*}; else name=$stem; fi
    exp=$stem
    if [ ! -f "$dir/$stem.stdout.expected" ] && [ ! -f "$dir/$stem.stderr.expected" ]; then
        exp=default
    fi

    cmd_a=("$wasmjail" run --bench="$tmp/time" --dir . "$base")
    if [ -n "$heaps" ]; then
        cmd_b=("$wasmjail" run --dynamic-memories --bench="$tmp/time" --dir . "$base")
    else
        cmd_b=(node "${node_flags[@]}" "$node_script" "$base" "$tmp/time")
    fi

    : >"$tmp/a"
    : >"$tmp/b"
    ok=1
    for ((i = 0; i < runs; i++)); do
        check=
        [ $i -eq 0 ] && check=$exp
        ns=$(measure "$dir" "$check" "${cmd_a[@]}") || { ok=; break; }
        echo "$ns" >>"$tmp/a"
        if [ ${#labels[@]} -eq 2 ]; then
            ns=$(measure "$dir" "$check" "${cmd_b[@]}") || { ok=; break; }
            echo "$ns" >>"$tmp/b"
        fi
    done
    if [ -z "$ok" ]; then
        printf '%-28s %12s\n' "$name" FAILED
        failures=$((failures + 1))
        continue
    fi

    a=$(median <"$tmp/a")
    if [ ${#labels[@]} -eq 2 ]; then
        b=$(median <"$tmp/b")
        # wasmjail/node, or dynamic/static: the second over the first for
        # --heaps. A region of 0 ns has no ratio.
        if [ -n "$heaps" ]; then num=$b den=$a; else num=$a den=$b; fi
        awk -v name="$name" -v a="$a" -v b="$b" -v num="$num" -v den="$den" -v out="$tmp/ratios" 'BEGIN {
            if (num > 0 && den > 0) {
                r = sprintf("%.3f", num / den)
                printf "%s %.17g %d\n", name, num / den, (a >= 1e6 && b >= 1e6) >>out
            } else r = "-"
            printf "%-28s %12.3f %12.3f %10s\n", name, a / 1e6, b / 1e6, r
        }'
    else
        awk -v name="$name" -v a="$a" 'BEGIN { printf "%-28s %12.3f\n", name, a / 1e6 }'
    fi
done

if [ ${#labels[@]} -eq 2 ]; then
    awk -v what="$ratio_name" '
        { s += log($2); n++; if ($3) { s1 += log($2); n1++ } }
        END {
            if (n) printf "%-28s %12s %12s %10.3f   (%d programs)\n", "geomean " what, "", "", exp(s / n), n
            if (n1) printf "%-28s %12s %12s %10.3f   (%d programs, regions >= 1 ms)\n", "geomean " what, "", "", exp(s1 / n1), n1
        }' "$tmp/ratios"
fi
if [ $failures -gt 0 ]; then
    echo "run-sightglass: $failures program(s) failed (see above)" >&2
    exit 1
fi
