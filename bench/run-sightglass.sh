#!/bin/bash
# The Sightglass programs ($SIGHTGLASS, see its README.md) under wasmjail,
# against Node's WASI as a reference:
#
#   bench/run-sightglass.sh [-n RUNS] [--heaps | --meter | --tiers] [--no-node] [PROGRAM...]
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
# region is under 1 ms in any engine or configuration (noop, nestedloop: there
# the region is little more than the two calls, and their ratios say nothing
# about generated code).
#
#   --heaps     instead: wasmjail with static 32-bit memories (guard
#               reservations, the default) vs `--dynamic-memories` (explicit
#               bounds checks), ratio dynamic/static
#   --meter     instead: wasmjail with no metering compiled in, with epoch
#               checks (`--timeout 1h`, at function entries and loop headers)
#               and with fuel (`--fuel 1000000000000000000`), the three
#               alternating, ratios epochs/neither and fuel/neither (neither
#               limit is ever reached: what is measured is the checks' cost)
#   --tiers     instead: wasmjail's baseline compiler vs `--tier optimized`,
#               ratio optimized/baseline
#   --no-node   wasmjail alone, no ratios
#   PROGRAM     a folder (bz2, shootout), folder/name (shootout/shootout-fib2)
#               or a name (shootout-fib2); default: every program
#
# A program built with SIMD whose scalar twin is measured too (blake3-simd
# and blake3-scalar) gets a last line: the ratio of the first
# configuration's medians, simd/scalar.
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
    echo "usage: $0 [-n RUNS] [--heaps | --meter | --tiers] [--no-node] [PROGRAM...]" >&2
    exit 2
}

runs=5
heaps=
meter=
tiers=
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
    --meter) meter=1; shift ;;
    --tiers) tiers=1; shift ;;
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
if [ $(( ${heaps:-0} + ${meter:-0} + ${tiers:-0} )) -gt 1 ]; then
    echo "run-sightglass: --heaps, --meter and --tiers are different comparisons: one at a time" >&2
    exit 2
fi

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

if [ -n "$heaps" ] || [ -n "$meter" ] || [ -n "$tiers" ]; then
    use_node=
elif [ -n "$use_node" ] && ! command -v node >/dev/null 2>&1; then
    echo "run-sightglass: node is not installed: wasmjail alone" >&2
    use_node=
fi

# The programs, as paths relative to $sightglass (folder/file.wasm).
list=()
if [ ${#programs[@]} -eq 0 ]; then
    for w in "$sightglass"/*/*.wasm; do
        list+=("${w#"$sightglass"/}")
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

# measure DIR CHECK_PREFIX CMD...: runs CMD (configuration $conf of program
# $name) in DIR, stdin from /dev/null.
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
        echo "  $name ($conf): exit status $status" >&2
        [ -n "$exp" ] && head -n 5 "$tmp/stderr" | sed 's/^/    /' >&2
        return 1
    fi
    if [ -n "$exp" ]; then
        for s in stdout stderr; do
            if [ -f "$dir/$exp.$s.expected" ] && ! cmp -s "$dir/$exp.$s.expected" "$tmp/$s"; then
                echo "  $name ($conf): $s differs from $exp.$s.expected" >&2
                return 1
            fi
        done
    fi
    if ! grep -Eqx '[0-9]+' "$tmp/time" 2>/dev/null; then
        echo "  $name ($conf): no measured region (bench file missing or not one integer)" >&2
        return 1
    fi
    cat "$tmp/time"
}

# The configurations compared: labels[k] is the column's name and opts[k]
# wasmjail's options for it ("node" for Node). ratios[j] = "NUM DEN NAME":
# the median of configuration NUM over that of DEN.
if [ -n "$heaps" ]; then
    labels=(static dynamic)
    opts=("" "--dynamic-memories")
    ratios=("1 0 dyn/static")
elif [ -n "$tiers" ]; then
    labels=(baseline optimized)
    opts=("" "--tier optimized")
    ratios=("1 0 opt/base")
elif [ -n "$meter" ]; then
    labels=(neither epochs fuel)
    opts=("" "--timeout 1h" "--fuel 1000000000000000000")
    ratios=("1 0 epochs/neither" "2 0 fuel/neither")
elif [ -n "$use_node" ]; then
    labels=(wasmjail node)
    opts=("" node)
    ratios=("0 1 wj/node")
else
    labels=(wasmjail)
    opts=("")
    ratios=()
fi
nconf=${#labels[@]}

echo "# Sightglass measured regions (bench.start -> bench.end), median of $runs runs, ms"
version=$("$wasmjail" --version 2>/dev/null | head -n 1)
echo "# wasmjail: $wasmjail (${version:-no --version})"
[ -n "$use_node" ] && echo "# node: $(command -v node) $(node --version)${NODE_FLAGS:+ $NODE_FLAGS}"
for ((k = 0; k < nconf; k++)); do
    [ -n "${opts[k]}" ] && [ "${opts[k]}" != node ] && echo "# ${labels[k]}: wasmjail run ${opts[k]}"
done
echo "# programs: $sightglass"
echo "# machine: $(uname -srm), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs"
# The table's columns, as one string each for awk: the medians' headers and
# the ratios' NUM DEN NAME.
header=
for ((k = 0; k < nconf; k++)); do header+=" ${labels[k]}_ms"; done
ratio_spec=${ratios[*]:-}
awk -v header="$header" -v spec="$ratio_spec" 'BEGIN {
    printf "%-28s", "program"
    n = split(header, h, " ")
    for (k = 1; k <= n; k++) printf " %12s", h[k]
    m = split(spec, r, " ")
    for (j = 3; j <= m; j += 3) printf " %" (length(r[j]) > 10 ? length(r[j]) : 10) "s", r[j]
    printf "\n"
}'

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

    for ((k = 0; k < nconf; k++)); do : >"$tmp/times$k"; done
    ok=1
    # The configurations alternate, run after run, so that a drift of the
    # machine's speed falls on all of them alike.
    for ((i = 0; i < runs && ok; i++)); do
        check=
        [ $i -eq 0 ] && check=$exp
        for ((k = 0; k < nconf; k++)); do
            if [ "${opts[k]}" = node ]; then
                cmd=(node "${node_flags[@]}" "$node_script" "$base" "$tmp/time")
            else
                read -ra extra <<<"${opts[k]}"
                cmd=("$wasmjail" run "${extra[@]}" --bench="$tmp/time" --dir . "$base")
            fi
            conf=${labels[k]}
            ns=$(measure "$dir" "$check" "${cmd[@]}") || { ok=; break; }
            echo "$ns" >>"$tmp/times$k"
        done
    done
    if [ -z "$ok" ]; then
        printf '%-28s %12s\n' "$name" FAILED
        failures=$((failures + 1))
        continue
    fi

    medians=
    for ((k = 0; k < nconf; k++)); do medians+=" $(median <"$tmp/times$k")"; done
    echo "$name$medians" >>"$tmp/medians"
    # One row of the table; the ratios go to $tmp/ratios for the geometric
    # means ("NAME RATIO... BIG", BIG 1 when every median is >= 1 ms), unless
    # a region of 0 ns leaves one without a ratio.
    awk -v name="$name" -v medians="$medians" -v spec="$ratio_spec" -v out="$tmp/ratios" 'BEGIN {
        n = split(medians, t, " ")
        printf "%-28s", name
        big = 1
        for (k = 1; k <= n; k++) {
            printf " %12.3f", t[k] / 1e6
            if (t[k] < 1e6) big = 0
        }
        m = split(spec, r, " ")
        line = name
        for (j = 1; j <= m; j += 3) {
            num = t[r[j] + 1]; den = t[r[j + 1] + 1]
            if (num > 0 && den > 0) {
                v = sprintf("%.3f", num / den)
                line = line sprintf(" %.17g", num / den)
            } else {
                v = "-"
                line = ""
            }
            printf " %" (length(r[j + 2]) > 10 ? length(r[j + 2]) : 10) "s", v
        }
        printf "\n"
        if (m && line != "") print line, big >>out
    }'
done

if [ ${#ratios[@]} -gt 0 ]; then
    awk -v nconf="$nconf" -v spec="$ratio_spec" '
        { for (j = 2; j < NF; j++) { s[j] += log($j); if ($NF) s1[j] += log($j) } n++; if ($NF) n1++ }
        function row(what, sum, count, note,    j, w) {
            printf "%-28s", what
            for (k = 0; k < nconf; k++) printf " %12s", ""
            for (j = 2; j <= nr + 1; j++) {
                w = length(r[3 * (j - 1)]); if (w < 10) w = 10
                printf " %" w ".3f", exp(sum[j] / count)
            }
            printf "   (%d programs%s)\n", count, note
        }
        END {
            m = split(spec, r, " ")
            nr = m / 3
            what = nr == 1 ? "geomean " r[3] : "geomean"
            if (n) row(what, s, n, "")
            if (n1) row(what, s1, n1, ", regions >= 1 ms")
        }' "$tmp/ratios"
fi
# SIMD programs against their scalar twins (first configuration).
if [ -f "$tmp/medians" ]; then
    awk '{ m[$1] = $2 }
        END {
            for (p in m) {
                if (p !~ /-simd$/) continue
                twin = substr(p, 1, length(p) - 5) "-scalar"
                if ((twin in m) && m[twin] > 0)
                    printf "%-28s %s/%s = %.3f\n", "simd/scalar", p, twin, m[p] / m[twin]
            }
        }' "$tmp/medians"
fi
if [ $failures -gt 0 ]; then
    echo "run-sightglass: $failures program(s) failed (see above)" >&2
    exit 1
fi
