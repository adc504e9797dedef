#!/bin/sh
# make check: the wasmjail command's behaviour: exit statuses, messages,
# escaping of untrusted names, and that every Sightglass program validates.
# Prints a line per failure and a final summary, also to fd 9 (the console).

# Run by hand, fd 9 may be closed: use stderr.
{ true >&9; } 2>/dev/null || exec 9>&2

say() {
    printf '%s\n' "$*"
    printf '%s\n' "$*" >&9
}

# The first lines of the last command's output, indented, to both.
show_output() {
    sed 's/^/    /' "$tmp/out" | head -n 20 >"$tmp/shown"
    cat "$tmp/shown"
    cat "$tmp/shown" >&9
}

# make check runs tests from the top build directory.
wasmjail=${WASMJAIL:-$(pwd)/wasmjail}
hello=$(pwd)/examples/hello.wasm
for f in "$wasmjail" "$hello"; do
    if [ ! -f "$f" ]; then
        say "cli.sh: $f has not been built"
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli-sh.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

passed=0
failed=0

# check NAME STATUS PATTERN -- ARGS...: runs wasmjail ARGS (stdin from
# $stdin, default /dev/null), expects exit STATUS and, if PATTERN is not
# empty, a line of stdout+stderr matching the extended regex PATTERN.
stdin=/dev/null
check() {
    name=$1 want=$2 pattern=$3
    shift 4
    "$wasmjail" "$@" <"$stdin" >"$tmp/out" 2>&1
    status=$?
    if [ $status -ne "$want" ]; then
        say "FAIL $name: exit status $status, expected $want; output:"
        show_output
        failed=$((failed + 1))
    elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$tmp/out"; then
        say "FAIL $name: no line matches /$pattern/; output:"
        show_output
        failed=$((failed + 1))
    else
        passed=$((passed + 1))
    fi
    stdin=/dev/null
}

# The command line.
check version 0 '^wasmjail [0-9]+\.[0-9]+\.[0-9]+$' -- --version
check help 0 '^  validate ' -- --help
check help-short 0 '^  inspect ' -- -h
check help-command 0 '^Usage: wasmjail validate' -- help validate
check help-unknown 2 "unknown command 'frobnicate'" -- help frobnicate
check no-command 2 'missing command' --
check unknown-command 2 "unknown command 'frobnicate'" -- frobnicate
check unknown-option 2 "unrecognized option '--frobnicate'" -- --frobnicate
check validate-unknown-option 2 "validate: unrecognized option '--frobnicate'" -- validate --frobnicate "$hello"
check validate-unknown-short 2 "validate: invalid option '-x'" -- validate -x "$hello"
check validate-no-file 2 'no FILE given' -- validate
check features-missing 2 "option '--features' requires an argument" -- validate --features
check features-unknown 2 "unknown feature 'threads'" -- validate --features simd,threads "$hello"
check features-empty 2 'empty feature name' -- validate --features memory64,,simd "$hello"
check inspect-two-files 2 'takes one FILE' -- inspect "$hello" "$hello"
if "$wasmjail" --help | grep -q '^  run '; then
    say "FAIL help-no-run: --help lists 'run', which does not exist yet"
    failed=$((failed + 1))
fi

# Valid modules.
check validate-quiet 0 '' -- validate "$hello"
[ -s "$tmp/out" ] && { say "FAIL validate-quiet: printed output for a valid module"; failed=$((failed + 1)); }
check validate-verbose 0 'hello\.wasm: valid$' -- validate -v "$hello"
check validate-features 0 'valid$' -- validate --features=memory64,multi-memory,no-simd --features simd -v "$hello"
stdin=$hello
check validate-stdin 0 '^\(standard input\): valid$' -- validate -v -
check inspect-imports 0 '^  wasi_snapshot_preview1\.fd_write: +func +\(i32, i32, i32, i32\) -> \(i32\)$' -- inspect "$hello"
check inspect-exports 0 '^  _start: +func [0-9]+ +\(\) -> \(\)$' -- inspect "$hello"
check inspect-memory 0 '^  memory\[0\]: +[0-9]+ pages min' -- inspect "$hello"
check inspect-sections 0 '^ +10 +code +0x[0-9a-f]+ +[0-9]+$' -- inspect "$hello"
check inspect-names 0 '^Functions: +[0-9]+ \(7 imported, [0-9]+ defined\), [0-9]+ named$' -- inspect "$hello"

# Bad input: unreadable files, broken modules.
check missing-file 1 '^wasmjail: .*/no-such\.wasm: No such file or directory$' -- validate "$tmp/no-such.wasm"
check directory 1 "^wasmjail: $tmp: Is a directory\$" -- validate "$tmp"
: >"$tmp/empty.wasm"
check empty 1 'empty\.wasm: malformed module at offset 0x0 \(0\): ' -- validate "$tmp/empty.wasm"
head -c 1000 "$hello" >"$tmp/truncated.wasm"
check truncated 1 'truncated\.wasm: malformed module at offset 0x[0-9a-f]+ \([0-9]+\): ' -- validate "$tmp/truncated.wasm"
printf '\000asm\002\000\000\000' >"$tmp/version.wasm"
check bad-version 1 'version\.wasm: malformed module at offset 0x4 \(4\): ' -- inspect "$tmp/version.wasm"
# Every file is checked; the status says whether any failed.
check keep-going 1 'hello\.wasm: valid$' -- validate -v "$tmp/truncated.wasm" "$hello"
if "$wasmjail" inspect "$hello" >/dev/full 2>"$tmp/out"; then
    say "FAIL write-error: inspect >/dev/full exited with 0"
    failed=$((failed + 1))
elif ! grep -q 'error writing to standard output: No space left on device' "$tmp/out"; then
    say "FAIL write-error: inspect >/dev/full did not say why it failed"
    failed=$((failed + 1))
else
    passed=$((passed + 1))
fi

# A module's names cannot drive the terminal: an export named ESC[31mred,
# a function with no parameters, no results and an empty body.
printf '\000asm\001\000\000\000\001\004\001\140\000\000\003\002\001\000' >"$tmp/escape.wasm"
printf '\007\014\001\010\033[31mred\000\000\012\004\001\002\000\013' >>"$tmp/escape.wasm"
check escape-valid 0 '' -- validate "$tmp/escape.wasm"
check escape-inspect 0 '^  \\x1b\[31mred: +func 0' -- inspect "$tmp/escape.wasm"
if grep -q "$(printf '\033')" "$tmp/out"; then
    say "FAIL escape-raw: inspect printed a raw ESC from a module's name"
    failed=$((failed + 1))
fi

# Every Sightglass program is a valid module.
if [ -n "$SIGHTGLASS" ] && [ -d "$SIGHTGLASS" ]; then
    find "$SIGHTGLASS" -name '*.wasm' | sort >"$tmp/sightglass"
    if [ -s "$tmp/sightglass" ]; then
        # shellcheck disable=SC2046 # file names from find, without spaces
        check sightglass 0 '' -- validate $(cat "$tmp/sightglass")
    fi
else
    say "cli.sh: no Sightglass programs at '$SIGHTGLASS': skipping them"
fi

say "cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
