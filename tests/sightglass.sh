#!/bin/sh
# make check: `wasmjail run` on the real Sightglass programs ($SIGHTGLASS, see
# its README.md). Each scalar program is run from its own folder, preopened as
# ".", as Sightglass runs it:
#     wasmjail run $SIGHTGLASS_EXTRA_FLAGS --bench=TIME --dir . X.wasm
# and must exit with 0, print exactly X.stdout.expected and X.stderr.expected
# (default.*.expected where those are the files present; a missing expected
# file is not checked) and write one integer line (the measured region, ns)
# to TIME.
#
#   WASMJAIL                 the command (default: ./wasmjail, the top build
#                            directory being the current one under make check)
#   SIGHTGLASS               the programs (default: ../shared/sightglass beside
#                            the source tree); missing: skipped (exit 77)
#   SIGHTGLASS_EXTRA_FLAGS   more options after `run`, e.g. --dynamic-memories
#   SIGHTGLASS_TIMEOUT       seconds before one program is killed (default 300)
# By hand, the arguments select programs by folder or folder/name:
#   sh tests/sightglass.sh noop shootout/shootout-fib2
# Prints a line per failure and a final summary, also to fd 9 (the console);
# the log also gets a line per passing program with its measured time.

# Run by hand, fd 9 may be closed: use stderr.
{ true >&9; } 2>/dev/null || exec 9>&2

say() {
    printf '%s\n' "$*"
    printf '%s\n' "$*" >&9
}

# show FILE: its first lines, indented, to both.
show() {
    sed 's/^/    /' "$1" | head -n 20 >"$tmp/shown"
    cat "$tmp/shown"
    cat "$tmp/shown" >&9
}

# make check runs tests from the top build directory. The programs are run
# from their own folders, so a command given by a relative path is made
# absolute (a bare name is looked up in PATH).
wasmjail=${WASMJAIL:-$(pwd)/wasmjail}
case $wasmjail in
/*) ;;
*/*) wasmjail=$(pwd)/${wasmjail#./} ;;
*) wasmjail=$(command -v "$wasmjail") || wasmjail=$WASMJAIL ;;
esac
if [ ! -f "$wasmjail" ]; then
    say "sightglass.sh: $wasmjail has not been built"
    exit 1
fi

srctop=${top_srcdir:-$(dirname "$0")/..}
sightglass=${SIGHTGLASS:-$srctop/../shared/sightglass}
if [ ! -d "$sightglass" ]; then
    say "sightglass.sh: SKIP: no Sightglass programs at '$sightglass' (configure --with-sightglass=DIR)"
    exit 77
fi
sightglass=$(cd "$sightglass" && pwd) || exit 1

limit=${SIGHTGLASS_TIMEOUT:-300}
if command -v timeout >/dev/null 2>&1; then
    timeout="timeout $limit"
else
    timeout=
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sightglass-sh.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# selected NAME: whether the command line selects program NAME (folder/stem).
selected() {
    [ $nargs -eq 0 ] && return 0
    for a in $args; do
        case $a in
        "$1" | "${1%%/*}" | "${1%%/*}/") return 0 ;;
        esac
    done
    return 1
}
nargs=$#
args=$*

passed=0
failed=0

# check DIR FILE: runs DIR/FILE.wasm from DIR and checks what it did.
check() {
    dir=$1 base=$2
    stem=${base%.wasm}
    name=${dir#"$sightglass"/}/$stem
    # The expected files are X.* for X.wasm, else default.* (gcc-loops).
    exp=$stem
    if [ ! -f "$dir/$stem.stdout.expected" ] && [ ! -f "$dir/$stem.stderr.expected" ]; then
        exp=default
    fi
    rm -f "$tmp/time"
    # shellcheck disable=SC2086 # $timeout and the extra flags are word lists
    (cd "$dir" && exec $timeout "$wasmjail" run $SIGHTGLASS_EXTRA_FLAGS \
        --bench="$tmp/time" --dir . "$base") \
        </dev/null >"$tmp/stdout" 2>"$tmp/stderr"
    status=$?

    ok=1
    if [ $status -ne 0 ]; then
        if [ -n "$timeout" ] && [ $status -eq 124 ]; then
            say "FAIL $name: killed after $limit s (exit status 124); stderr:"
        else
            say "FAIL $name: exit status $status, expected 0; stderr:"
        fi
        show "$tmp/stderr"
        ok=
    fi
    # A failed run's stderr was shown above: compare only its stdout.
    streams=stdout
    [ $status -eq 0 ] && streams="stdout stderr"
    for stream in $streams; do
        expected=$dir/$exp.$stream.expected
        [ -f "$expected" ] || continue
        if ! cmp -s "$expected" "$tmp/$stream"; then
            say "FAIL $name: $stream differs from $exp.$stream.expected (exit status $status); diff -u expected actual:"
            diff -u "$expected" "$tmp/$stream" | sed 1,2d >"$tmp/diff"
            show "$tmp/diff"
            ok=
        fi
    done
    if [ $status -eq 0 ]; then
        if [ ! -f "$tmp/time" ]; then
            say "FAIL $name: --bench wrote no file"
            ok=
        elif [ "$(wc -l <"$tmp/time")" -ne 1 ] || ! grep -Eqx '[0-9]+' "$tmp/time"; then
            say "FAIL $name: --bench file is not one integer line:"
            show "$tmp/time"
            ok=
        fi
    fi

    if [ -n "$ok" ]; then
        passed=$((passed + 1))
        printf 'PASS %s (measured region %s ns)\n' "$name" "$(cat "$tmp/time")"
    else
        failed=$((failed + 1))
    fi
}

for dir in "$sightglass"/*/; do
    dir=${dir%/}
    folder=${dir##*/}
    for wasm in "$dir"/*.wasm; do
        [ -f "$wasm" ] || continue
        base=${wasm##*/}
        selected "$folder/${base%.wasm}" || continue
        check "$dir" "$base"
    done
done

say "sightglass${SIGHTGLASS_EXTRA_FLAGS:+ ($SIGHTGLASS_EXTRA_FLAGS)}: $passed passed, $failed failed"
if [ $((passed + failed)) -eq 0 ]; then
    say "sightglass.sh: no program ran"
    exit 1
fi
[ $failed -eq 0 ]
