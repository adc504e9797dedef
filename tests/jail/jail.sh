#!/bin/sh
# make check: the seccomp jail. A host program that links the library jails
# itself and attempts execve, socket, open and fork (also from a thread
# started before the jail): each must end the process with exit status 159
# and a line naming the call; a trap and a memory.grow inside the jail work,
# also on a thread that first runs wasm inside it;
# paths resolve only beneath the WASI preopens (Landlock).
# Then every plugin test and every Sightglass program runs under
# `wasmjail run --jail`.
set -u
{ true >&9; } 2>/dev/null || exec 9>&2

say() {
    printf '%s\n' "$*"
    printf '%s\n' "$*" >&9
}

host=$(pwd)/tests/jail/jail-host
srcdir=${top_srcdir:-$(dirname "$0")/../..}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jail-sh.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
passed=0
failed=0

# denied ACTION SYSCALL: jail-host ACTION ends with 159 and names SYSCALL.
denied() {
    "$host" "$1" >"$tmp/out" 2>"$tmp/err"
    status=$?
    if [ $status -ne 159 ]; then
        say "FAIL jail-$1: exit status $status, expected 159; stderr:"
        sed 's/^/    /' "$tmp/err" | head -n 5 | tee /dev/fd/9
        failed=$((failed + 1))
    elif ! grep -Eqx "wasmjail: jail: denied system call $2 \\([0-9]+\\)" "$tmp/err"; then
        say "FAIL jail-$1: no line naming $2; stderr:"
        sed 's/^/    /' "$tmp/err" | head -n 5 | tee /dev/fd/9
        failed=$((failed + 1))
    else
        passed=$((passed + 1))
    fi
}

if "$host" ok >"$tmp/out" 2>"$tmp/err" && [ "$(cat "$tmp/out")" = ok ]; then
    passed=$((passed + 1))
else
    say "FAIL jail-ok: a trap or memory.grow failed inside the jail:"
    sed 's/^/    /' "$tmp/err" | head -n 5 | tee /dev/fd/9
    failed=$((failed + 1))
fi
denied execve execve
denied socket socket
denied open openat
denied fork clone
denied thread socket

# Landlock: lookups only beneath the preopens, read-only ones for reading.
mkdir "$tmp/dir" "$tmp/dir/rw" "$tmp/dir/ro"
echo in >"$tmp/dir/rw/inside.txt"
echo in >"$tmp/dir/ro/inside.txt"
echo out >"$tmp/dir/outside.txt"
printf '%s\n' 'read-inside ok' 'create-inside ok' 'absolute EACCES' 'dotdot EACCES' \
    'read-ro ok' 'write-ro EACCES' 'create-ro EACCES' >"$tmp/paths.expected"
if "$host" paths "$tmp/dir" >"$tmp/out" 2>"$tmp/err" && cmp -s "$tmp/out" "$tmp/paths.expected"; then
    passed=$((passed + 1))
else
    say "FAIL jail-paths: expected (<) and got (>):"
    diff "$tmp/paths.expected" "$tmp/out" | sed 's/^/    /' | tee /dev/fd/9
    sed 's/^/    /' "$tmp/err" | head -n 5 | tee /dev/fd/9
    failed=$((failed + 1))
fi

say "jail: $passed passed, $failed failed"
status=0
[ $failed -eq 0 ] || status=1

# The plugins and Sightglass programs, jailed.
PLUGINS_EXTRA_FLAGS=--jail sh "$srcdir/tests/plugins/plugins.sh" || status=1
SIGHTGLASS_EXTRA_FLAGS=--jail sh "$srcdir/tests/sightglass.sh"
case $? in 0|77) ;; *) status=1 ;; esac
exit $status
