#!/bin/sh
# make check: runs the WebAssembly spec tests ($SPEC_TESTSUITE) through
# tests/spec/spec-runner, one run per folder with the folder's wast2json flags
# (see the testsuite's README.md). Each run's FAIL lines and final line also go
# to fd 9, which make check shows on the console. Fails if any run fails.

# Run by hand, fd 9 may be closed: use stderr.
{ true >&9; } 2>/dev/null || exec 9>&2

say() {
    printf '%s\n' "$*"
    printf '%s\n' "$*" >&9
}

if [ -z "$SPEC_TESTSUITE" ] || [ ! -d "$SPEC_TESTSUITE/core" ]; then
    say "spec.sh: no spec testsuite at '${SPEC_TESTSUITE}': use ./configure --with-spec-testsuite=DIR"
    exit 1
fi

# make check runs tests from the top build directory.
runner=${SPEC_RUNNER:-tests/spec/spec-runner}
case $runner in /*) ;; *) runner=$(pwd)/$runner ;; esac
if [ ! -x "$runner" ]; then
    say "spec.sh: $runner has not been built"
    exit 1
fi

log=$(mktemp "${TMPDIR:-/tmp}/spec-sh.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
trap 'exit 1' HUP INT TERM

failed=0

# run NAME [RUNNER OPTIONS...] FOLDER; paths are relative to the testsuite so
# that FAIL lines read "core/binary.wast:123: ...".
run() {
    name=$1
    shift
    (cd "$SPEC_TESTSUITE" && exec "$runner" --name "$name" "$@") >"$log" 2>&1
    status=$?
    cat "$log"
    # FAIL lines and the lines indented under them (wast2json's output).
    grep -E '^(FAIL |    )' "$log" >&9
    if [ $status -eq 0 ] || [ $status -eq 1 ]; then
        tail -n 1 "$log" >&9
    else
        # A crash: its FAIL line, above, names the command.
        say "$name: spec-runner ended with status $status, before its final line"
    fi
    [ $status -eq 0 ] || failed=1
}

# Every configuration in each tier: tier 1 alone (baseline, the names
# without a suffix), tier 2 alone (optimized) and tiered execution that
# tiers up at the first call (eager).
for tier in baseline optimized eager; do
    flags="--tier $tier"
    suffix=-$tier
    [ $tier = baseline ] && suffix=
    run core$suffix $flags core
    run core-dynamic$suffix $flags --dynamic-memories core
    run core-metered$suffix $flags --meter core
    run core-no-images$suffix $flags --no-memory-images core
    run core-pooling$suffix $flags --pooling core
    run core/simd$suffix $flags core/simd
    run core/simd-dynamic$suffix $flags --dynamic-memories core/simd
    run core/simd-metered$suffix $flags --meter core/simd
    run core/simd-pooling$suffix $flags --pooling core/simd
    run core/simd-no-images$suffix $flags --no-memory-images core/simd
    run memory64$suffix $flags --features memory64 memory64
    run memory64-pooling$suffix $flags --pooling --features memory64 memory64
    run multi-memory$suffix $flags --features multi-memory multi-memory
    run multi-memory-dynamic$suffix $flags --dynamic-memories --features multi-memory multi-memory
    run multi-memory-pooling$suffix $flags --pooling --features multi-memory multi-memory
    run multi-memory-no-images$suffix $flags --no-memory-images --features multi-memory multi-memory
done

exit $failed
