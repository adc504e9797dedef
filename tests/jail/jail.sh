#!/bin/sh
# make check: the seccomp jail. A host program that links the library jails
# itself and attempts execve, socket, open, fork, statx, replacing the
# SIGSYS handler, fcntl's O_ASYNC, the F_SETOWN/F_SETSIG attack on another
# process, utimensat on a file outside the preopen and, from a thread
# started inside the jail, a socket: each must end the process with exit
# status 159 and a line naming the call, and leave the victim process and
# the file unharmed. A trap, a memory.grow, fcntl's flags and a thread
# that starts and traps in wasm work inside the jail; the jail refuses a process with a second thread; paths
# resolve only beneath the WASI preopens, and signals stay in the process
# (Landlock); WASI sets times inside the preopen.
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

# fail NAME WHAT: a failed test, with jail-host's stderr.
fail() {
    say "FAIL jail-$1: $2; stderr:"
    sed 's/^/    /' "$tmp/err" | head -n 5 | tee /dev/fd/9
    failed=$((failed + 1))
}

# denied ACTION SYSCALL [ARG]: jail-host ACTION [ARG] ends with 159 and
# names SYSCALL.
denied() {
    "$host" "$1" ${3+"$3"} >"$tmp/out" 2>"$tmp/err"
    status=$?
    if [ $status -ne 159 ]; then
        fail "$1" "exit status $status, expected 159"
    elif ! grep -Eqx "wasmjail: jail: denied system call $2 \\([0-9]+\\)" "$tmp/err"; then
        fail "$1" "no line naming $2"
    else
        passed=$((passed + 1))
    fi
}

# A process of the same user for jail-host to try to kill. end_victim ends
# it with SIGTERM (status 143), unless jail-host killed it (137: SIGKILL).
start_victim() {
    sleep 600 &
    victim=$!
}
end_victim() {
    kill "$victim" 2>/dev/null
    wait "$victim" 2>/dev/null
}
# survived NAME: the victim was alive until end_victim.
survived() {
    end_victim
    status=$?
    if [ $status -eq 143 ]; then
        passed=$((passed + 1))
    else
        say "FAIL jail-$1: the victim process ended with status $status, not by our SIGTERM (143)"
        failed=$((failed + 1))
    fi
}

if "$host" ok >"$tmp/out" 2>"$tmp/err" && [ "$(cat "$tmp/out")" = ok ]; then
    passed=$((passed + 1))
else
    fail ok "a trap, memory.grow, fcntl, a thread's trap or validating on threads failed inside the jail"
fi
if "$host" store-inside >"$tmp/out" 2>"$tmp/err" && [ "$(cat "$tmp/out")" = ok ]; then
    passed=$((passed + 1))
else
    fail store-inside "the thread's first store, made inside the jail, failed"
fi
denied execve execve
denied socket socket
denied open openat
denied fork clone
denied async fcntl
denied sigaction rt_sigaction
denied statx statx
denied thread-after socket

# fcntl's SIGIO with a signal of one's choice (F_SETSIG) goes to the
# descriptor's owner (F_SETOWN), any process of the user.
start_victim
denied sigio fcntl $victim
survived sigio

# Landlock alone (no seccomp) keeps signals in the process, where the
# kernel scopes them (Landlock ABI 6, Linux 6.12).
start_victim
"$host" scope $victim >"$tmp/out" 2>"$tmp/err"
status=$?
if [ $status -eq 77 ]; then
    say "SKIP jail-scope: no Landlock signal scoping in this kernel"
    end_victim
elif [ $status -ne 0 ]; then
    fail scope "exit status $status"
    end_victim
else
    survived scope
fi

# A thread that was there before would escape Landlock: no jail then.
"$host" thread-before >"$tmp/out" 2>"$tmp/err"
status=$?
if [ $status -eq 1 ] &&
    grep -qx 'jail-host: jail: the process has 2 threads; enter the jail before starting any other (Landlock confines only the calling thread and the threads it starts later)' "$tmp/err"; then
    passed=$((passed + 1))
else
    fail thread-before "exit status $status, expected 1 and the jail's refusal"
fi

# A thread that is ending (as compile threads just joined) is waited for.
if "$host" thread-exiting >"$tmp/out" 2>"$tmp/err" && [ "$(cat "$tmp/out")" = ok ]; then
    passed=$((passed + 1))
else
    fail thread-exiting "a thread ending as the jail was entered made it refuse"
fi

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

# Times: never of a file outside the preopen, whatever the path says.
for how in absolute dotdot; do
    touch -d @1000000000 "$tmp/dir/outside.txt"
    denied utimes-$how utimensat "$tmp/dir"
    mtime=$(stat -c %Y "$tmp/dir/outside.txt")
    if [ "$mtime" != 1000000000 ]; then
        say "FAIL jail-utimes-$how: outside.txt's mtime changed to $mtime"
        failed=$((failed + 1))
    fi
done

# WASI's path_filestat_set_times inside the jail: through a descriptor,
# following symlinks or not; a symlink itself cannot be opened (ELOOP, 32).
mkdir "$tmp/times"
echo in >"$tmp/times/inside.txt"
echo other >"$tmp/times/other.txt"
ln -s inside.txt "$tmp/times/link"
printf '%s\n' 'follow 0' 'nofollow 0' 'symlink 32' >"$tmp/times.expected"
if ! "$host" wasi-times "$tmp/times" >"$tmp/out" 2>"$tmp/err" ||
    ! cmp -s "$tmp/out" "$tmp/times.expected"; then
    say "FAIL jail-wasi-times: expected (<) and got (>):"
    diff "$tmp/times.expected" "$tmp/out" | sed 's/^/    /' | tee /dev/fd/9
    fail wasi-times "wrong results"
elif [ "$(stat -c %Y "$tmp/times/inside.txt") $(stat -c %Y "$tmp/times/other.txt")" != \
    '1111111111 1222222222' ]; then
    fail wasi-times "the mtimes of inside.txt and other.txt are not 1111111111 and 1222222222"
else
    passed=$((passed + 1))
fi

say "jail: $passed passed, $failed failed"
status=0
[ $failed -eq 0 ] || status=1

# The plugins and Sightglass programs, jailed.
PLUGINS_EXTRA_FLAGS=--jail sh "$srcdir/tests/plugins/plugins.sh" || status=1
SIGHTGLASS_EXTRA_FLAGS=--jail sh "$srcdir/tests/sightglass.sh"
case $? in 0|77) ;; *) status=1 ;; esac
exit $status
