#!/bin/sh
# make check: every program of the compute suite (bench/compute/*.c), built
# natively ($CC -O2) and for wasm32-wasi ($WASI_CC), run at its small size
# (argument "small"): `wasmjail run` must print the same checksum line as the
# native program, a hash of the bits of every result. The full sizes are
# bench/run-compute.sh's.
# Prints a line per failure and a final summary, also to fd 9 (the console).
# Skips (exit 77) when $WASI_CC cannot build wasm32-wasi programs.
#
# By hand, from the top build directory:
#   sh tests/compute.sh
# Environment: WASMJAIL (default ./wasmjail), top_srcdir (default: from $0),
# CC (native compiler, default cc), WASI_CC (default clang), WASI_CFLAGS
# (default --target=wasm32-wasi -O2), WASI_LDFLAGS (default
# --target=wasm32-wasi), COMPUTE_EXTRA_FLAGS (more options for `run`).
set -u

{ true >&9; } 2>/dev/null || exec 9>&2

say() {
    printf '%s\n' "$*"
    printf '%s\n' "$*" >&9
}

wasmjail=${WASMJAIL:-$(pwd)/wasmjail}
case $wasmjail in /*) ;; *) wasmjail=$(pwd)/$wasmjail ;; esac
srcdir=${top_srcdir:-$(dirname "$0")/..}
srcdir=$(cd "$srcdir" && pwd) || exit 1
compute=$srcdir/bench/compute
cc=${CC:-cc}
wasi_cc=${WASI_CC:-clang}
wasi_cflags=${WASI_CFLAGS:---target=wasm32-wasi -O2}
wasi_ldflags=${WASI_LDFLAGS:---target=wasm32-wasi}
if [ ! -f "$wasmjail" ]; then
    say "compute.sh: $wasmjail has not been built"
    exit 1
fi
if [ ! -f "$compute/harness.c" ]; then
    say "compute.sh: no compute kernels in $compute (set top_srcdir)"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/compute-sh.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
cd "$tmp" || exit 1

timeout=
if command -v timeout >/dev/null 2>&1; then
    timeout="timeout -k 5 ${COMPUTE_TIMEOUT:-60}"
fi

# Every source compiled by one compiler driver per target (starting a
# driver per file would cost more than the compiling). Compiling and linking
# the wasm are two steps so that clang does not run wasm-opt (see
# configure.ac).
mkdir native wasm
# shellcheck disable=SC2086 # the flags are lists of options
if ! (cd wasm && $wasi_cc $wasi_cflags -c "$compute"/*.c) >build.log 2>&1; then
    if (cd wasm && $wasi_cc $wasi_cflags -c "$compute/harness.c") >/dev/null 2>&1; then
        say "FAIL: $wasi_cc $wasi_cflags -c $compute/*.c:"
        head -n 20 build.log | sed 's/^/    /' >&9
        exit 1
    fi
    say "compute.sh: SKIP: '$wasi_cc' cannot build wasm32-wasi programs:"
    head -n 5 build.log | sed 's/^/    /' >&9
    exit 77
fi
if ! (cd native && $cc -O2 -c "$compute"/*.c) >build.log 2>&1; then
    say "FAIL: $cc -O2 -c $compute/*.c:"
    head -n 20 build.log | sed 's/^/    /' >&9
    exit 1
fi

passed=0
failed=0
fail() {
    say "FAIL $name: $*"
    failed=$((failed + 1))
}

for src in "$compute"/*.c; do
    name=$(basename "$src" .c)
    [ "$name" = harness ] && continue
    # shellcheck disable=SC2086
    if ! $cc -o "$name" "native/$name.o" native/harness.o -lm >build.log 2>&1 ||
        ! $wasi_cc $wasi_ldflags -o "$name.wasm" "wasm/$name.o" wasm/harness.o >>build.log 2>&1; then
        fail "cannot link it:"
        head -n 10 build.log | sed 's/^/    /' >&9
        continue
    fi
    if ! ./"$name" small >expected 2>err; then
        fail "the native build failed: $(head -n 1 err)"
        continue
    fi
    # A checksum line, or this test would compare nothing.
    if ! grep -Eqx 'checksum [0-9a-f]{16} count [1-9][0-9]* sum .*' expected; then
        fail "the native build printed no checksum: $(head -n 1 expected)"
        continue
    fi
    # shellcheck disable=SC2086 # a list of options
    $timeout "$wasmjail" run ${COMPUTE_EXTRA_FLAGS:-} "$name.wasm" small >out 2>err
    status=$?
    if [ $status -ne 0 ]; then
        fail "wasmjail run exited with $status: $(head -n 1 err)"
    elif ! cmp -s expected out; then
        fail "native printed '$(cat expected)', wasmjail '$(head -n 1 out)'"
    else
        passed=$((passed + 1))
    fi
done

say "compute${COMPUTE_EXTRA_FLAGS:+ ($COMPUTE_EXTRA_FLAGS)}: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
