#!/bin/sh
# Differential fuzzing: random valid modules from binaryen's `wasm-opt -ttf`,
# run by wasmjail in seven configurations (defaults, dynamic memories, fuel,
# the optimizing tier with static and dynamic memories and with fuel, eager
# tiered execution with fuel:
# tests/fuzz/diff-run, which also compares the fuel left at every call
# between the tiers) and by V8 (node tests/fuzz/diff-node.mjs); every
# logged value, result and trap kind, and the hash of memory after every
# call (binaryen's hashMemory export), must agree.
#
#   sh tests/fuzz/differential.sh [--simd] [COUNT [SEED]]   (from the top build directory)
#
# Module i of a run is made from `random-bytes SEED i`, so a run is
# reproducible from its seed. make check runs 300 modules with seed 1. A long
# run by hand, at low priority, e.g. 10,000 modules with seed 7:
#
#   nice -n 19 sh tests/fuzz/differential.sh 10000 7
#
# The features are those of WebAssembly 2.0 that binaryen 108 generates
# correctly: sign extension, non-trapping conversions, bulk memory,
# multi-value, mutable globals; every fourth module also enables reference
# types, for which binaryen 108 often makes invalid modules (typed function
# references, a funcref where an externref belongs): both engines must then
# reject it ("rejected" below). Every fifth module also enables SIMD (every
# module with --simd); v128 values cannot cross into JavaScript, so both
# sides skip exports with v128 in their type and end a call of log-v128
# alike (diff-run.c says how). No threads, exceptions, tail calls or GC.
# Every third module also goes through a random choice of binaryen's
# optimizations (--fuzz-passes): the same kind of program, other code
# shapes. Then binaryen's --denan turns NaNs into zeros as they are made: a
# NaN's payload is not deterministic (f32.min of a NaN may return any quiet
# NaN), and reinterpreted as an integer it would reach addresses and
# results.
#
# Counts: compared (both ran it and agreed), rejected (by both),
# inconclusive (one side ran out of stack: engines differ in stack depth, so
# the rest of the transcript cannot be compared), skipped (V8 ran it,
# wasmjail does not support one of its SIMD instructions yet), mismatches.
# Mismatches and crashes are kept in $FUZZ_KEEP (default ./fuzz-mismatches)
# with both transcripts, and fail the run. Rerun a kept module with
# `tests/fuzz/diff-run FILE.wasm` and `node tests/fuzz/diff-node.mjs FILE.wasm`
# (which writes FILE.v8); binaryen's wasm-reduce can shrink it.
#
# Skips (exit 77) without wasm-opt or node (Node 18 or later; $WASM_OPT and
# $NODE override them).
# Summary lines also go to fd 9.

{ true >&9; } 2>/dev/null || exec 9>&2

say() {
    printf '%s\n' "$*"
    printf '%s\n' "$*" >&9
}

simd_every=5
if [ "$1" = --simd ]; then
    simd_every=1
    shift
fi
count=${1:-300}
seed=${2:-1}
wasm_opt=${WASM_OPT:-wasm-opt}
node=${NODE:-node}
for tool in "$wasm_opt" "$node"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        say "differential.sh: SKIP: $tool not found"
        exit 77
    fi
done

runner=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)/tests/fuzz/diff-node.mjs
diff_run=$(pwd)/tests/fuzz/diff-run
random_bytes=$(pwd)/tests/fuzz/random-bytes
for prog in "$diff_run" "$random_bytes"; do
    if [ ! -x "$prog" ]; then
        say "differential.sh: $prog has not been built"
        exit 1
    fi
done
keep=${FUZZ_KEEP:-$(pwd)/fuzz-mismatches}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/differential.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# A module that loops or recurses past binaryen's hang limit is a bug: give
# up on it after a minute rather than hang the run.
limit=
command -v timeout >/dev/null 2>&1 && limit="timeout 60"

# binaryen's passes run on several threads, which can make --fuzz-passes
# choose differently from run to run: one thread keeps a seed's modules the same.
BINARYEN_CORES=1
export BINARYEN_CORES
features="--mvp-features --enable-sign-ext --enable-nontrapping-float-to-int
    --enable-bulk-memory --enable-multivalue --enable-mutable-globals"
generated=0 compared=0 rejected=0 inconclusive=0 skipped=0 mismatches=0 failed=0

# Keeps module $1 (a path without .wasm) and its transcripts, for a reason $2.
keep_module() {
    mkdir -p "$keep" || return
    cp "$1.wasm" "$keep/seed$seed-$2.wasm"
    for ext in wj v8 err; do
        [ -f "$1.$ext" ] && cp "$1.$ext" "$keep/seed$seed-$2.$ext"
    done
    say "differential.sh: module $2 of seed $seed: $3 (kept in $keep/seed$seed-$2.*)"
}

# Compares module $1 (its index) in $tmp.
compare() {
    m=$tmp/$1
    $limit "$diff_run" "$m.wasm" >"$m.wj" 2>"$m.err"
    status=$?
    if [ $status -ne 0 ]; then
        failed=$((failed + 1))
        keep_module "$m" "$1" "diff-run exited with status $status"
        head -n 20 "$m.err" >&9
    elif grep -q '^unsupported ' "$m.wj" && [ "$(cat "$m.v8")" = rejected ]; then
        rejected=$((rejected + 1))
    elif grep -q '^unsupported .*SIMD' "$m.wj"; then
        skipped=$((skipped + 1))
    elif cmp -s "$m.wj" "$m.v8"; then
        if [ "$(cat "$m.wj")" = rejected ]; then
            rejected=$((rejected + 1))
        else
            compared=$((compared + 1))
        fi
    elif grep -q 'trap stack-exhausted' "$m.wj" "$m.v8"; then
        inconclusive=$((inconclusive + 1))
    else
        mismatches=$((mismatches + 1))
        keep_module "$m" "$1" "wasmjail and V8 disagree"
        diff "$m.wj" "$m.v8" | head -n 20 >&9
    fi
}

# Batches of 50: one node process runs a whole batch.
i=0
while [ $i -lt "$count" ]; do
    batch=
    while [ $i -lt "$count" ]; do
        set -- $features
        [ $((i % 4)) -eq 3 ] && set -- "$@" --enable-reference-types
        [ $((i % simd_every)) -eq $((simd_every - 1)) ] && set -- "$@" --enable-simd
        passes=
        [ $((i % 3)) -eq 2 ] && passes=--fuzz-passes
        if "$random_bytes" "$seed" $i >"$tmp/in" &&
            "$wasm_opt" "$tmp/in" -ttf "$@" $passes -o "$tmp/ttf.wasm" >/dev/null 2>&1 &&
            "$wasm_opt" "$tmp/ttf.wasm" "$@" --denan -o "$tmp/$i.wasm" >/dev/null 2>&1; then
            generated=$((generated + 1))
            batch="$batch $i"
        else
            echo "differential.sh: wasm-opt could not make module $i of seed $seed"
        fi
        i=$((i + 1))
        [ $((i % 50)) -eq 0 ] && break
    done
    [ -n "$batch" ] || continue
    # One failure here is every module's: stop.
    if ! (cd "$tmp" && "$node" "$runner" $(for j in $batch; do echo $j.wasm; done)) >&9 2>&1; then
        say "differential.sh: node $runner failed on modules$batch of seed $seed"
        exit 1
    fi
    for j in $batch; do compare $j; done
    for j in $batch; do rm -f "$tmp/$j".*; done
done

say "differential.sh: seed $seed: $count modules, $generated generated, $compared compared," \
    "$rejected rejected by both, $inconclusive inconclusive (stack exhausted)," \
    "$skipped skipped (SIMD unsupported), $mismatches mismatches, $failed failures"
[ $mismatches -eq 0 ] && [ $failed -eq 0 ] && [ $generated -gt 0 ]
