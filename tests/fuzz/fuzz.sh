#!/bin/sh
# make check: a short, deterministic run of the mutation fuzzer
# (tests/fuzz/mutate-fuzz) over the smaller Sightglass programs ($SIGHTGLASS:
# the shootout benchmarks and noop). Crashes are caught by the sanitizers in
# a --enable-sanitizers build; in any build the driver must finish and the
# API's contract checks (mutate-fuzz --strict) must hold.
# Skips (exit 77) when $SIGHTGLASS is missing. Summary lines also go to fd 9.
#
# By hand, from the top build directory:
#   SIGHTGLASS=/path/to/sightglass sh tests/fuzz/fuzz.sh
# FUZZ_ITERATIONS and FUZZ_SEED override the defaults (2000 and 1).

# Run by hand, fd 9 may be closed: use stderr.
{ true >&9; } 2>/dev/null || exec 9>&2

say() {
    printf '%s\n' "$*"
    printf '%s\n' "$*" >&9
}

sightglass=${SIGHTGLASS:-/work/shared/sightglass}
if [ ! -d "$sightglass" ]; then
    say "fuzz.sh: SKIP: no Sightglass programs at '$sightglass' (configure --with-sightglass=DIR)"
    exit 77
fi

# make check runs tests from the top build directory.
fuzzer=${MUTATE_FUZZ:-tests/fuzz/mutate-fuzz}
case $fuzzer in /*) ;; *) fuzzer=$(pwd)/$fuzzer ;; esac
if [ ! -x "$fuzzer" ]; then
    say "fuzz.sh: $fuzzer has not been built"
    exit 1
fi

set --
for f in "$sightglass"/shootout/*.wasm "$sightglass"/noop/*.wasm; do
    [ -f "$f" ] && set -- "$@" "$f"
done
if [ $# -eq 0 ]; then
    say "fuzz.sh: SKIP: no shootout/*.wasm or noop/*.wasm under '$sightglass'"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-sh.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# Sanitizer reports with a stack trace (ASan prints one anyway).
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export UBSAN_OPTIONS

# --strict: an anomaly (an error offset past the input, a section past its
# end, a module the defaults accept but all features reject...) fails too.
# --save-dir: after a crash the input is left in $tmp; keep a copy.
"$fuzzer" --seed "${FUZZ_SEED:-1}" --iterations "${FUZZ_ITERATIONS:-2000}" \
    --timeout 30 --inspect --strict --save-dir "$tmp" "$@" >"$tmp/out" 2>&1
status=$?
cat "$tmp/out"
if [ $status -ne 0 ]; then
    for c in "$tmp"/crash-*.wasm; do
        [ -f "$c" ] || continue
        mkdir -p tests/fuzz && cp "$c" tests/fuzz/ &&
            say "fuzz.sh: crashing input kept as $(pwd)/tests/fuzz/$(basename "$c")"
    done
    # The sanitizer report and the driver's note about the iteration.
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|mutate-fuzz:|ANOMALY|  [a-z]|    #[0-9] )' \
        "$tmp/out" | head -n 40 >&9
    say "fuzz.sh: mutate-fuzz ended with status $status"
    exit 1
fi
grep -E '^(ANOMALY|mutate-fuzz: [0-9]+ iterations|  )' "$tmp/out" >&9
exit 0
