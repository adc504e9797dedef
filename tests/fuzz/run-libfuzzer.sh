#!/bin/sh
# Runs the libFuzzer harness (tests/fuzz/libfuzzer, built by `make fuzz`)
# for SECONDS, from the top build directory:
#
#   sh tests/fuzz/run-libfuzzer.sh [SECONDS [DIR]]
#
# DIR (default ./fuzz-corpus) keeps the corpus between runs: DIR/seeds, 200
# modules from binaryen's `wasm-opt -ttf` made on the first run (WebAssembly
# 2.0 without SIMD, a quarter with reference types, a quarter memory64);
# DIR/corpus, what libFuzzer found; DIR/crashes, the input of a crash
# (rerun one with `tests/fuzz/libfuzzer FILE`). Other seeds (Sightglass
# programs, the spec tests' modules) can be copied into DIR/seeds; inputs
# over 4 KiB are cut (-max_len). The last lines of libFuzzer's output give
# the number of runs and the coverage (cov: edges, ft: features).
#
# A long run at low priority: nice -n 19 sh tests/fuzz/run-libfuzzer.sh 1800
# A crash ends the run with libFuzzer's non-zero status.

seconds=${1:-60}
dir=${2:-fuzz-corpus}
fuzzer=tests/fuzz/libfuzzer
if [ ! -x "$fuzzer" ]; then
    echo "run-libfuzzer.sh: $fuzzer has not been built: make fuzz" >&2
    exit 1
fi
mkdir -p "$dir/seeds" "$dir/corpus" "$dir/crashes" || exit 1

if [ -z "$(ls "$dir/seeds")" ]; then
    wasm_opt=${WASM_OPT:-wasm-opt}
    if command -v "$wasm_opt" >/dev/null 2>&1; then
        features="--mvp-features --enable-sign-ext --enable-nontrapping-float-to-int
            --enable-bulk-memory --enable-multivalue --enable-mutable-globals"
        i=0
        while [ $i -lt 200 ]; do
            set -- $features
            case $((i % 4)) in
            1) set -- "$@" --enable-reference-types ;;
            2) set -- "$@" --enable-memory64 ;;
            esac
            # 2.5 KB of random input make modules of about that size.
            tests/fuzz/random-bytes 1 $i | head -c 2500 >"$dir/seeds/input" &&
                "$wasm_opt" "$dir/seeds/input" -ttf "$@" -o "$dir/seeds/ttf-$i.wasm" 2>/dev/null
            i=$((i + 1))
        done
        rm -f "$dir/seeds/input"
    else
        echo "run-libfuzzer.sh: no $wasm_opt: starting from an empty corpus" >&2
    fi
fi

exec "$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=30 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$dir/crashes/" "$dir/corpus" "$dir/seeds"
