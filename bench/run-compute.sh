#!/bin/bash
# The compute suite (bench/compute: 30 kernels and an integer benchmark),
# timed as whole processes (start-up, compilation and initialisation
# included) with hyperfine: gcc -O2 native against clang -O2 wasm32-wasi
# under `wasmjail run`, and optionally under Node.
#
#   bench/run-compute.sh [--node] [RUNS] [PROGRAM...]
#
# (after `make bench`, from the top build directory; needs hyperfine and
# python3.) Each program runs RUNS times (default 5) per engine after one
# warm-up run. The table gives the MEDIAN wall time of each in seconds and
# the ratio wasmjail/native (and node/native); then the geometric means of
# the kernels' ratios, over all of them and over the long ones (native median
# >= 0.5 s), and the integer benchmark on its own line.
#
# Before timing, every program runs once per engine and its checksum (a hash
# of the bits of its results) must be the native one: a mismatch is a wrong
# result, reported loudly, and the script exits with status 1 at the end.
#
#   --node         also time node (bench/sightglass-node.mjs runs the program
#                  with Node's WASI), where node is installed
#   PROGRAM        a program's name (gemm, integer, ...); default: all
#   WASMJAIL       the command (default ./wasmjail)
#   WASMJAIL_FLAGS more options for `wasmjail run`, e.g. '--dynamic-memories'
#   NODE_FLAGS     options for node, e.g. '--no-liftoff': V8 has no on-stack
#                  replacement for wasm, so a kernel looping inside main stays
#                  in its baseline code by default
#   COMPUTE_DIR    the built programs (default bench/compute)
#
# The times are only meaningful on an otherwise idle machine.
set -u

usage() {
    echo "usage: $0 [--node] [RUNS] [PROGRAM...]" >&2
    exit 2
}

use_node=
runs=5
programs=()
while [ $# -gt 0 ]; do
    case $1 in
    --node) use_node=1 ;;
    -h | --help) usage ;;
    -*) echo "run-compute: unknown option '$1'" >&2; usage ;;
    *[!0-9]*) programs+=("$1") ;;
    *) runs=$1 ;;
    esac
    shift
done
if [ "$runs" -lt 1 ] 2>/dev/null; then
    echo "run-compute: RUNS must be a positive integer" >&2
    exit 2
fi
for tool in hyperfine python3; do
    command -v $tool >/dev/null || { echo "run-compute: install $tool" >&2; exit 1; }
done
if [ -n "$use_node" ] && ! command -v node >/dev/null; then
    echo "run-compute: node is not installed: wasmjail alone" >&2
    use_node=
fi

here=$(cd "$(dirname "$0")" && pwd)
dir=${COMPUTE_DIR:-bench/compute}
wasmjail=${WASMJAIL:-./wasmjail}
read -ra wj_flags <<<"${WASMJAIL_FLAGS:-}"
read -ra node_flags <<<"${NODE_FLAGS:-}"
if [ ! -x "$wasmjail" ]; then
    echo "run-compute: no wasmjail at '$wasmjail' (run from the top build directory or set WASMJAIL)" >&2
    exit 1
fi
if [ ${#programs[@]} -eq 0 ]; then
    for f in "$dir"/*.native; do
        [ -e "$f" ] && programs+=("$(basename "$f" .native)")
    done
fi
if [ ${#programs[@]} -eq 0 ]; then
    echo "run-compute: no programs in $dir: run 'make bench' first (or set COMPUTE_DIR)" >&2
    exit 1
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/run-compute.XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT
trap 'exit 1' HUP INT TERM

echo "# whole-process wall time, median of $runs runs (hyperfine), seconds"
echo "# native: $dir/X.native (gcc -O2); wasm: $dir/X.wasm (clang -O2)"
echo "# wasmjail: $wasmjail run${WASMJAIL_FLAGS:+ $WASMJAIL_FLAGS} ($("$wasmjail" --version | head -n 1))"
[ -n "$use_node" ] && echo "# node: $(node --version)${NODE_FLAGS:+ $NODE_FLAGS}"
if [ -n "$use_node" ]; then
    printf '%-16s %10s %10s %8s %10s %8s\n' program native_s wasmjail_s ratio node_s ratio
else
    printf '%-16s %10s %10s %8s\n' program native_s wasmjail_s ratio
fi

mismatches=0
for p in "${programs[@]}"; do
    native=$dir/$p.native wasm=$dir/$p.wasm
    if [ ! -x "$native" ] || [ ! -f "$wasm" ]; then
        echo "run-compute: no $native or $wasm: run 'make bench' first" >&2
        exit 1
    fi
    cmds=("$native" "$wasmjail run ${wj_flags[*]} $wasm")
    [ -n "$use_node" ] && cmds+=("node ${node_flags[*]} $here/sightglass-node.mjs $wasm")
    # The checksums first: a fast wrong answer is no result.
    expected=$("$native")
    bad=
    for c in "${cmds[@]:1}"; do
        # shellcheck disable=SC2086 # the command and its options, split
        got=$($c 2>/dev/null)
        if [ "$got" != "$expected" ]; then
            {
                echo "!!! CHECKSUM MISMATCH: $p: '$c' printed"
                echo "!!!   '$got', native printed"
                echo "!!!   '$expected'"
            } >&2
            bad=1
        fi
    done
    if [ -n "$bad" ]; then
        mismatches=$((mismatches + 1))
        printf '%-16s %s\n' "$p" 'WRONG RESULT (see above): not timed'
        continue
    fi
    hyperfine -N --runs "$runs" --warmup 1 --export-json "$out/$p.json" "${cmds[@]}" \
        >/dev/null 2>"$out/err" || { cat "$out/err" >&2; exit 1; }
    python3 - "$p" "$out/$p.json" "$out/ratios" <<'PY'
import json, sys
name, path, ratios = sys.argv[1:]
medians = [r["median"] for r in json.load(open(path))["results"]]
line = "%-16s %10.3f %10.3f %8.2f" % (name, medians[0], medians[1], medians[1] / medians[0])
if len(medians) > 2:
    line += " %10.3f %8.2f" % (medians[2], medians[2] / medians[0])
print(line)
with open(ratios, "a") as f:
    print(name, *medians, file=f)
PY
done

if [ -s "$out/ratios" ]; then
    python3 - "$out/ratios" <<'PY'
import math, sys
rows = [line.split() for line in open(sys.argv[1])]
kernels = [(r[0], [float(x) for x in r[1:]]) for r in rows if r[0] != "integer"]
integer = [[float(x) for x in r[1:]] for r in rows if r[0] == "integer"]
engines = ["wasmjail", "node"][: len(rows[0]) - 2]

def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))

for what, subset in (("all", kernels), ("long", [k for k in kernels if k[1][0] >= 0.5])):
    if subset:
        means = " ".join("%s/native %.3f" % (e, geomean([t[i + 1] / t[0] for _, t in subset]))
                         for i, e in enumerate(engines))
        print("geomean %-5s %s   (%d kernels%s)" % (what, means, len(subset),
              ", native >= 0.5 s" if what == "long" else ""))
for t in integer:
    print("integer       " + " ".join("%s/native %.3f" % (e, t[i + 1] / t[0])
                                      for i, e in enumerate(engines)))
PY
fi
if [ $mismatches -gt 0 ]; then
    echo "run-compute: $mismatches program(s) computed a WRONG RESULT under wasm (see above)" >&2
    exit 1
fi
