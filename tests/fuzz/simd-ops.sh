#!/bin/sh
# Per-instruction differential test of the SIMD instructions against V8.
#
#   sh tests/fuzz/simd-ops.sh [SEED [SEEDS [VECTORS]]]   (from the top build directory)
#
# tests/fuzz/simd-ops-gen.mjs writes, from a seed, a module with one export
# per SIMD instruction (and per lane, shift count, shuffle pattern, memory
# offset, operand order, constant operand): each runs its instruction over
# VECTORS (default 64) edge-heavy 16-byte input vectors, every ordered pair
# of them for binary ones, or at every byte address for loads and stores,
# and returns an i64 hash of all the results. Float results have their NaN
# lanes canonicalized first, except where the spec fixes a NaN's bits (abs,
# neg, pmin, pmax, lane moves, loads, stores, bitwise ops). wat2wasm
# assembles it; tests/fuzz/diff-run (wasmjail, in three configurations) and
# node tests/fuzz/diff-node.mjs (V8) call every export; each hash must agree.
# Every SIMD instruction in src/wasm/opcodes.def must have an export.
#
# Runs seeds SEED (default 1) to SEED+SEEDS-1 (SEEDS default 1); make check
# runs seed 1. A long run by hand, 50 seeds of 256 vectors:
#
#   nice -n 19 sh tests/fuzz/simd-ops.sh 1 50 256
#
# A mismatch names the export (the instruction, then #variant) and keeps the
# module and both transcripts in $FUZZ_KEEP (default ./fuzz-mismatches).
# Skips (exit 77) without node or wat2wasm ($NODE and $WAT2WASM override them).

LC_ALL=C
export LC_ALL
first=${1:-1}
seeds=${2:-1}
vectors=${3:-64}
node=${NODE:-node}
wat2wasm=${WAT2WASM:-wat2wasm}
for tool in "$node" "$wat2wasm"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "simd-ops.sh: SKIP: $tool not found"
        exit 77
    fi
done

top=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
srcdir=$top/tests/fuzz
diff_run=$(pwd)/tests/fuzz/diff-run
if [ ! -x "$diff_run" ]; then
    echo "simd-ops.sh: $diff_run has not been built"
    exit 1
fi
keep=${FUZZ_KEEP:-$(pwd)/fuzz-mismatches}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/simd-ops.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# Every SIMD instruction wasmjail decodes (src/wasm/opcodes.def) must have
# an export: a new one fails here until simd-ops-gen.mjs tests it.
"$node" "$srcdir/simd-ops-gen.mjs" 1 8 | sed -n 's/^(func (export "\([^"#]*\).*/\1/p' | sort -u >"$tmp/tested"
sed -n 's/^X([A-Z0-9_]*, *0xfd[0-9a-f]*, *"\([^"]*\)".*/\1/p' "$top/src/wasm/opcodes.def" |
    sort -u >"$tmp/decoded"
untested=$(comm -23 "$tmp/decoded" "$tmp/tested")
if [ ! -s "$tmp/decoded" ] || [ -n "$untested" ]; then
    echo "simd-ops.sh: SIMD instructions without an export in simd-ops-gen.mjs:" $untested
    exit 1
fi

failed=0
seed=$first
while [ "$seed" -lt $((first + seeds)) ]; do
    m=$tmp/simd-ops-$seed
    if ! "$node" "$srcdir/simd-ops-gen.mjs" "$seed" "$vectors" >"$m.wat" ||
        ! "$wat2wasm" "$m.wat" -o "$m.wasm" ||
        ! "$node" "$srcdir/diff-node.mjs" "$m.wasm"; then
        echo "simd-ops.sh: seed $seed: could not make or run the module in V8"
        exit 1
    fi
    "$diff_run" "$m.wasm" >"$m.wj" 2>"$m.err"
    status=$?
    exports=$(grep -c '^call ' "$m.v8")
    # The exports whose transcripts differ, with both results.
    mismatches=
    [ $status -eq 0 ] && mismatches=$(paste -d '\n' "$m.wj" "$m.v8" | awk '
        /^call / { if (name == "") name = $2; next }
        { line[++n] = $0 }
        n == 2 { if (line[1] != line[2]) print name ": wasmjail " line[1] ", V8 " line[2]; n = 0; name = "" }')
    if [ $status -ne 0 ] || [ "$exports" -eq 0 ] || [ -n "$mismatches" ] ||
        [ "$(grep -c '^result i64 ' "$m.wj")" -ne "$exports" ]; then
        failed=$((failed + 1))
        # Status 0 with no mismatch: an export trapped on both sides.
        echo "simd-ops.sh: seed $seed ($vectors vectors): FAIL (diff-run exit status $status;" \
            "each export must return a hash, the same as V8's)"
        [ -n "$mismatches" ] && printf '%s\n' "$mismatches" | head -n 40
        head -n 20 "$m.err"
        mkdir -p "$keep" && cp "$m".wat "$m".wasm "$m".wj "$m".v8 "$m".err "$keep/" &&
            echo "simd-ops.sh: kept in $keep/simd-ops-$seed.*"
    else
        echo "simd-ops.sh: seed $seed ($vectors vectors): $exports exports agree"
    fi
    seed=$((seed + 1))
done
[ $failed -eq 0 ]
