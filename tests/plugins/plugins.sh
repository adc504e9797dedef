#!/bin/sh
# make check: `wasmjail run` on WASI plugins built from tests/plugins/*.c:
# stdio, arguments, environment, clocks, randomness, exit statuses, trap
# reports, runaway guests stopped by --timeout and --fuel, files in
# preopened directories, and escapes out of them.
# Prints a line per failure and a final summary, also to fd 9 (the console).
# Skips (exit 77) when $WASI_CC cannot build wasm32-wasi programs.
#
# By hand, from the top build directory:
#   sh tests/plugins/plugins.sh
# Environment: WASMJAIL (default ./wasmjail), top_srcdir (default: from $0),
# WASI_CC (default clang), WASI_CFLAGS (compiling; default
# --target=wasm32-wasi -O2), WASI_LDFLAGS (linking; default
# --target=wasm32-wasi; it must keep the name section, which the trap
# reports print). The two steps are apart because clang runs wasm-opt, which
# drops the name section, on a link given -O when binaryen is installed.
set -u

# Run by hand, fd 9 may be closed: use stderr.
{ true >&9; } 2>/dev/null || exec 9>&2

say() {
    printf '%s\n' "$*"
    printf '%s\n' "$*" >&9
}

# make check runs tests from the top build directory.
wasmjail=${WASMJAIL:-$(pwd)/wasmjail}
case $wasmjail in /*) ;; *) wasmjail=$(pwd)/$wasmjail ;; esac
srcdir=${top_srcdir:-$(dirname "$0")/../..}
srcdir=$(cd "$srcdir" && pwd) || exit 1
plugins=$srcdir/tests/plugins
wasi_cc=${WASI_CC:-clang}
wasi_cflags=${WASI_CFLAGS:---target=wasm32-wasi -O2}
wasi_ldflags=${WASI_LDFLAGS:---target=wasm32-wasi}
if [ ! -f "$wasmjail" ]; then
    say "plugins.sh: $wasmjail has not been built"
    exit 1
fi
if [ ! -f "$plugins/basics.c" ]; then
    say "plugins.sh: no plugin sources in $plugins (set top_srcdir)"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/plugins-sh.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
# Relative FILEs in the tests below are relative to $tmp.
cd "$tmp" || exit 1

# A guest that hangs must not hang make check.
timeout=
if command -v timeout >/dev/null 2>&1; then
    timeout="timeout -k 5 ${PLUGINS_TIMEOUT:-60}"
fi

passed=0
failed=0

# --- the test harness ----------------------------------------------------------
# A test is `start NAME`, one `wj` (or more), any number of want_* checks,
# then `finish`. Each failed check prints a line; the test counts once.
start() {
    name=$1
    bad=0
}

fail() {
    say "FAIL $name: $*"
    bad=1
}

finish() {
    if [ $bad -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
}

# show FILE: its first lines, indented, non-printable bytes as '?', to both.
show() {
    if [ ! -s "$1" ]; then
        echo '    (empty)' >shown
    else
        head -n 20 "$1" | LC_ALL=C tr -c '\n\t -~' '?' | sed 's/^/    /' >shown
        [ "$(wc -l <"$1")" -gt 20 ] && echo '    ...' >>shown
    fi
    cat shown
    cat shown >&9
}

# wj ARGS...: runs wasmjail ARGS in $tmp with stdin from $stdin (default
# /dev/null), or piped from `cat $pipe` if $pipe is set; stdout to out,
# stderr to err, exit status in $status.
stdin=/dev/null
pipe=
wj() {
    # PLUGINS_EXTRA_FLAGS: more options for `run` (tests/jail runs --jail).
    if [ "$1" = run ] && [ -n "${PLUGINS_EXTRA_FLAGS:-}" ]; then
        shift
        # shellcheck disable=SC2086 # a list of options
        set -- run $PLUGINS_EXTRA_FLAGS "$@"
    fi
    if [ -n "$pipe" ]; then
        # A pipe, not a file: reads may return less than asked for.
        # shellcheck disable=SC2002
        cat "$pipe" | $timeout "$wasmjail" "$@" >out 2>err
    else
        $timeout "$wasmjail" "$@" <"$stdin" >out 2>err
    fi
    status=$?
    stdin=/dev/null
    pipe=
    if [ -n "$timeout" ] && [ $status -eq 124 ]; then
        fail "timed out: wasmjail $*"
    fi
}

want_status() {
    if [ "$status" -ne "$1" ]; then
        fail "exit status $status, expected $1; stderr:"
        show err
    fi
}

# want_same WHAT EXPECTED-FILE ACTUAL-FILE: the files are byte for byte equal.
want_same() {
    if ! cmp -s "$2" "$3"; then
        if [ "$(wc -l <"$2")" -gt 20 ] || [ "$(wc -l <"$3")" -gt 20 ]; then
            fail "$1 differs (< expected, > actual):"
            diff "$2" "$3" >diffs
            show diffs
        else
            fail "$1 differs; expected:"
            show "$2"
            say "  actual:"
            show "$3"
        fi
        if [ "$3" = out ] && [ -s err ]; then
            say "  stderr:"
            show err
        fi
    fi
}

# want_stdout TEXT: stdout is TEXT and a newline, exactly.
want_stdout() {
    printf '%s\n' "$1" >want
    want_same stdout want out
}

# want_stdout_file FILE: stdout is FILE's contents, exactly.
want_stdout_file() {
    want_same stdout "$1" out
}

# want_stderr TEXT: stderr is TEXT and a newline, exactly.
want_stderr() {
    printf '%s\n' "$1" >want
    want_same stderr want err
}

# want_stderr_line ERE: a line of stderr matches ERE.
want_stderr_line() {
    if ! grep -Eq -- "$1" err; then
        fail "no line of stderr matches /$1/; stderr:"
        show err
    fi
}

# want_stderr_last ERE: the last line of stderr matches ERE.
want_stderr_last() {
    if ! tail -n 1 err | grep -Eq -- "$1"; then
        fail "the last line of stderr does not match /$1/; stderr:"
        show err
    fi
}

# want_host_file PATH TEXT: the host file PATH holds TEXT and a newline.
want_host_file() {
    if [ ! -f "$1" ]; then
        fail "host file $1 is missing"
    else
        printf '%s\n' "$2" >want
        want_same "host file $1" want "$1"
    fi
}

# want_host_absent PATH...: none of the host paths exists (not even as a
# dangling symlink).
want_host_absent() {
    for f in "$@"; do
        if [ -e "$f" ] || [ -L "$f" ]; then
            fail "host path $f exists"
        fi
    done
}

# --- trap reports ---------------------------------------------------------------
# The report is
#   Error: failed to run main module `FILE`
#   wasm backtrace:
#       0:   0x1a2b - MODULE!FUNCTION
#   wasm trap: MESSAGE
# clang writes no module name, so MODULE is FILE's basename.

# want_trap FILE MESSAGE: exit status 134, and the report's first line,
# backtrace heading, well-formed numbered frames and final line.
want_trap() {
    want_status 134
    want_stderr_line "^Error: failed to run main module \`$1\`\$"
    want_stderr_line '^wasm backtrace:$'
    want_stderr_last "^wasm trap: $2\$"
    # The frames: the lines between the heading and the last line.
    sed -n '/^wasm backtrace:$/,$p' err | sed '1d;$d' >frames
    module=$(basename "$1" | sed 's/\./\\./g')
    if [ ! -s frames ]; then
        fail "no frames in the backtrace"
        return
    fi
    awk -v re="^ *[0-9]+: +0x[0-9a-f]+ - $module!" '
        $0 !~ re { print "frame line " NR ": " $0; exit }
        $1 != (NR - 1) ":" { print "frame line " NR " is numbered " $1; exit }' frames >frame-errors
    if [ -s frame-errors ]; then
        fail "a malformed frame (want '    N:   0xOFFSET - $module!NAME', numbered from 0):"
        show frame-errors
        say "  stderr:"
        show err
    fi
}

# want_frames NAME...: frames 0, 1, ... are the functions NAME... (EREs
# matched against the whole function name), innermost first.
want_frames() {
    sed 's/^[^!]*!//' frames >frame-names
    frames_ok=0
    i=1
    for f in "$@"; do
        got=$(sed -n "${i}p" frame-names)
        if ! printf '%s\n' "$got" | grep -Eq -- "^($f)\$"; then
            fail "frame $((i - 1)) is '$got', expected /$f/; the frames should be, innermost first: $*; stderr:"
            show err
            return
        fi
        i=$((i + 1))
    done
    frames_ok=1
}

# want_frame_later NAME: a frame after those want_frames checked is NAME.
want_frame_later() {
    [ "$frames_ok" -eq 1 ] || return 0
    if ! sed "1,$((i - 1))d" frame-names | grep -Eq -- "^($1)\$"; then
        fail "no frame /$1/ after frame $((i - 2)); stderr:"
        show err
    fi
}

# want_offsets WASM INSN: each frame's offset is that of an instruction in
# its function (by wasm-objdump -d): frame 0 of one matching the ERE INSN,
# the others of a call. If INSN is empty, frame 0's offset need only be
# within its function's code. Checks the first 20 frames.
want_offsets() {
    command -v wasm-objdump >/dev/null 2>&1 || return 0
    if [ ! -f "$1.dis" ]; then
        # "OFFSET FUNCTION MNEMONIC" per instruction, "OFFSET FUNCTION {"
        # per function body; offsets in decimal.
        wasm-objdump -d "$1" | awk '
            function dec(h,  i, n) {
                n = 0
                for (i = 1; i <= length(h); i++)
                    n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
                return n
            }
            /^[0-9a-f]+ func\[[0-9]+\] <.*>:$/ {
                f = $0; sub(/^[^<]*</, "", f); sub(/>:$/, "", f)
                print dec($1), f, "{"; next }
            /^ [0-9a-f]+: / && index($0, "| ") {
                off = $1; sub(/:$/, "", off)
                m = substr($0, index($0, "| ") + 2); sub(/^ +/, "", m)
                split(m, w, " "); print dec(off), f, w[1] }' >"$1.dis"
    fi
    head -n 20 frames | sed 's/^ *\([0-9]*\): *0x\([0-9a-f]*\) - [^!]*!\(.*\)$/\1 \2 \3/' |
    while read -r n off fn; do
        d=$((0x$off))
        insn=$(awk -v o="$d" -v f="$fn" '$1 == o && $2 == f && $3 != "{" { print $3; exit }' "$1.dis")
        if [ "$n" -eq 0 ] && [ -z "$2" ]; then
            awk -v o="$d" -v f="$fn" '$2 == f { if ($3 == "{") lo = $1; else hi = $1 }
                END { exit !(lo != "" && lo <= o && o <= hi) }' "$1.dis" ||
                echo "frame 0: 0x$off is not within the code of $fn"
        elif [ -z "$insn" ]; then
            echo "frame $n: 0x$off is not an instruction in $fn"
        elif [ "$n" -eq 0 ]; then
            printf '%s\n' "$insn" | grep -Eq -- "^($2)\$" ||
                echo "frame 0: 0x$off is $insn, not /$2/"
        else
            case $insn in call*) ;; *) echo "frame $n: 0x$off is $insn, not a call" ;; esac
        fi
    done >offset-errors
    if [ -s offset-errors ]; then
        fail "frame offsets do not match the module's code (wasm-objdump -d):"
        show offset-errors
    fi
}

# --- building the plugins ----------------------------------------------------
# wasi_build OUT.wasm SRC.c [CFLAGS...]: compile, then link without -O.
wasi_build() {
    out=$1 src=$2
    shift 2
    # shellcheck disable=SC2086 # the flags are lists of options
    $wasi_cc $wasi_cflags "$@" -c -o "$out.o" "$src" && $wasi_cc $wasi_ldflags -o "$out" "$out.o"
}
# The build must not run wasm-opt. Where binaryen is not installed, clang
# would find this one on PATH, which leaves a mark; where it is, the real
# one would drop the name section (tested next).
mkdir -p fake-bin
printf '#!/bin/sh\ntouch "%s/wasm-opt-ran"\n' "$(pwd)" >fake-bin/wasm-opt
chmod +x fake-bin/wasm-opt
saved_path=$PATH
PATH=$(pwd)/fake-bin:$PATH
printf 'int main(void) { return 0; }\n' >probe.c
if ! wasi_build probe.wasm probe.c >probe.log 2>&1; then
    say "plugins.sh: SKIP: '$wasi_cc' cannot build wasm32-wasi programs:"
    head -n 5 probe.log | sed 's/^/    /' >&9
    exit 77
fi
for p in basics traps files escape runaway; do
    if ! wasi_build "$p.wasm" "$plugins/$p.c" -g0 >"$p.log" 2>&1; then
        say "FAIL build-$p: $wasi_cc $wasi_cflags -g0 -c $plugins/$p.c; $wasi_cc $wasi_ldflags:"
        show "$p.log"
        say "plugins: cannot build the plugins"
        exit 1
    fi
done

PATH=$saved_path

start no-wasm-opt
[ ! -e wasm-opt-ran ] || fail "building the plugins ran wasm-opt (clang does on a link given -O)"
finish

# The report needs function names: the plugins must keep their name section.
start name-section
if command -v wasm-objdump >/dev/null 2>&1; then
    wasm-objdump -h traps.wasm >sections 2>&1
    grep -q '"name"' sections || fail "traps.wasm has no name section: WASI_LDFLAGS='$wasi_ldflags' strips it"
elif ! LC_ALL=C grep -q plugin_fail_here traps.wasm; then
    fail "traps.wasm has no function names: WASI_LDFLAGS='$wasi_ldflags' strips them"
fi
finish

# --- stdio ----------------------------------------------------------------------------
start stdout
wj run "$tmp/basics.wasm" stdout
want_status 0
# Bytes >= 0x80 and a NUL pass through; the last line has no newline.
printf 'Hello, stdout!\n\tline 2 of three\n100%%\n\303\251\000\377no newline at the end' >want-stdout
want_stdout_file want-stdout
[ -s err ] && { fail "stderr is not empty:"; show err; }
finish

start stderr
wj run "$tmp/basics.wasm" stderr
want_status 0
want_stdout 'to stdout'
want_stderr 'to stderr: 42
second stderr line'
finish

start stdin
printf 'Hello, World!\nabc xyz\n' >small.in
stdin=small.in
wj run "$tmp/basics.wasm" stdin
want_status 0
want_stdout 'HELLO, WORLD!
ABC XYZ
bytes=22'
finish

start stdin-empty
wj run "$tmp/basics.wasm" stdin
want_status 0
want_stdout 'bytes=0'
finish

# More than the guest's buffer and than a pipe holds: many reads.
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "line %d of the input, in Mixed case\n", i }' >large.in
{ LC_ALL=C tr '[:lower:]' '[:upper:]' <large.in; echo "bytes=$(wc -c <large.in | tr -d ' ')"; } >want-large
start stdin-large-file
stdin=large.in
wj run "$tmp/basics.wasm" stdin
want_status 0
want_stdout_file want-large
finish

start stdin-large-pipe
pipe=large.in
wj run "$tmp/basics.wasm" stdin
want_status 0
want_stdout_file want-large
finish

# --- arguments --------------------------------------------------------------------------
# argv[0] is FILE as given; everything after FILE goes to the guest, options
# included.
start args
wj run "$tmp/basics.wasm" args one 'two words' '' 'caf'"$(printf '\303\251')" --env X=1
want_status 0
want_stdout "argc=8
argv[0]=[$tmp/basics.wasm]
argv[1]=[args]
argv[2]=[one]
argv[3]=[two words]
argv[4]=[]
argv[5]=[caf$(printf '\303\251')]
argv[6]=[--env]
argv[7]=[X=1]"
finish

start args-relative
wj run basics.wasm args
want_status 0
want_stdout 'argc=2
argv[0]=[basics.wasm]
argv[1]=[args]'
finish

start args-dot-slash
wj run ./basics.wasm args
want_status 0
want_stdout 'argc=2
argv[0]=[./basics.wasm]
argv[1]=[args]'
finish

start args-without-run
wj "$tmp/basics.wasm" args x
want_status 0
want_stdout "argc=3
argv[0]=[$tmp/basics.wasm]
argv[1]=[args]
argv[2]=[x]"
finish

# --- environment -------------------------------------------------------------------
# Only the --env variables; NAME alone takes wasmjail's own value.
PLUGINS_SH_B='b value'
export PLUGINS_SH_B
HOME=${HOME:-/}
export HOME PATH
start env
wj run --env A=1 --env PLUGINS_SH_B --env C= --env D=x=y "$tmp/basics.wasm" env
want_status 0
want_stdout 'count=4
A=1
C=
D=x=y
PLUGINS_SH_B=b value
HOME is unset
PATH is unset'
finish

start env-none
wj run "$tmp/basics.wasm" env
want_status 0
want_stdout 'count=0
HOME is unset
PATH is unset'
finish

# --- clocks and randomness -------------------------------------------------------------
start clocks
before=$(date +%s)
wj run "$tmp/basics.wasm" clocks
after=$(date +%s)
want_status 0
for what in realtime time; do
    t=$(sed -n "s/^$what=\\([0-9]*\\)\$/\\1/p" out)
    if [ -z "$t" ]; then
        fail "no '$what=SECONDS' line; stdout:"
        show out
    elif [ "$t" -lt $((before - 5)) ] || [ "$t" -gt $((after + 5)) ]; then
        fail "$what=$t is not within 5 s of the host's clock ($before..$after)"
    fi
done
sed '1,2d' out >out-rest
printf '%s\n' 'monotonic non-decreasing' 'nanosleep 50ms ok' 'usleep 50ms ok' >want
want_same 'stdout after line 2' want out-rest
finish

start random
wj run "$tmp/basics.wasm" random
want_status 0
want_stdout 'getentropy: ok
arc4random_buf: ok'
finish

# --- exit statuses -------------------------------------------------------------------------
# Buffered stdout is flushed by exit() and by returning from main.
for case in 'exit 0 0' 'exit 3 3' 'exit 255 255' 'return 7 7' 'return 0 0'; do
    # shellcheck disable=SC2086 # split into words
    set -- $case
    start "$1-$2"
    wj run "$tmp/basics.wasm" "$1" "$2"
    want_status "$3"
    if [ "$1" = exit ]; then want_stdout "exit($2)"; else want_stdout "return $2"; fi
    finish
done

# --- traps ------------------------------------------------------------------------------------
# main is __main_argc_argv (or main) in wasi-libc programs; the command's
# entry is _start (or wasm-ld's wrapper, _start.command_export).
main='main|__main_argc_argv|__original_main'

start trap-abort
wj run "$tmp/traps.wasm" abort
want_trap "$tmp/traps.wasm" unreachable
# The guest's own stderr comes first.
[ "$(head -n 1 err)" = 'plugin_fail_here: aborting' ] ||
    { fail "the guest's stderr line is not first:"; show err; }
[ -s out ] && { fail "stdout is not empty:"; show out; }
want_frames abort plugin_fail_here "$main"
want_frame_later '_start|_start\..*'
want_offsets traps.wasm unreachable
finish

start trap-divide
wj run "$tmp/traps.wasm" divide
want_trap "$tmp/traps.wasm" 'integer divide by zero'
want_frames trap_divide trap_level3 trap_level2 trap_level1 "$main"
want_frame_later '_start|_start\..*'
want_offsets traps.wasm 'i32\.div_s'
finish

start trap-store
wj run "$tmp/traps.wasm" store
want_trap "$tmp/traps.wasm" 'out of bounds memory access'
want_frames trap_store trap_level3 trap_level2 trap_level1 "$main"
want_frame_later '_start|_start\..*'
want_offsets traps.wasm 'i32\.store'
finish

start trap-load
wj run "$tmp/traps.wasm" load
want_trap "$tmp/traps.wasm" 'out of bounds memory access'
want_frames trap_load trap_level3 trap_level2 trap_level1 "$main"
want_frame_later '_start|_start\..*'
want_offsets traps.wasm 'i32\.load'
finish

# The report names FILE as given.
start trap-relative
wj run traps.wasm divide
want_trap traps.wasm 'integer divide by zero'
finish

start trap-recurse
wj run "$tmp/traps.wasm" recurse
want_trap "$tmp/traps.wasm" 'call stack exhausted'
want_frames trap_recurse trap_recurse
want_offsets traps.wasm ''
finish

start trap-recurse-max-stack
wj run --max-stack 64K "$tmp/traps.wasm" recurse
want_trap "$tmp/traps.wasm" 'call stack exhausted'
want_frames trap_recurse trap_recurse
finish

# --- runaway guests: --timeout and --fuel ---------------------------------------------------
# runaway.wasm never ends by itself (but for "finish"). The options stop it
# with a trap; `timeout 30` only keeps a hang from stalling make check, and
# nothing here depends on how long a run takes. Under tests/meter.sh the
# extra flags come first, so these tests' own --timeout and --fuel win.
saved_timeout=$timeout
[ -n "$timeout" ] && timeout="timeout -k 5 30"

start timeout-spin
wj run --timeout 1s "$tmp/runaway.wasm" spin
want_trap "$tmp/runaway.wasm" interrupt
want_frames runaway_spin "$main"
want_frame_later '_start|_start\..*'
want_offsets runaway.wasm loop
[ -s out ] && { fail "stdout is not empty:"; show out; }
finish

start timeout-recurse
wj run --timeout 1s "$tmp/runaway.wasm" recurse
want_trap "$tmp/runaway.wasm" interrupt
want_frames runaway_fib runaway_fib
want_frame_later "$main"
want_offsets runaway.wasm ''
finish

# Plain numbers are seconds; fractions work.
start timeout-plain-seconds
wj run --timeout 0.5 "$tmp/runaway.wasm" spin
want_trap "$tmp/runaway.wasm" interrupt
want_frames runaway_spin
finish

start fuel-spin
wj run --fuel 100000 "$tmp/runaway.wasm" spin
want_trap "$tmp/runaway.wasm" 'all fuel consumed by WebAssembly'
want_frames runaway_spin "$main"
want_offsets runaway.wasm loop
finish

start fuel-recurse
wj run --fuel 1000000 "$tmp/runaway.wasm" recurse
want_trap "$tmp/runaway.wasm" 'all fuel consumed by WebAssembly'
want_frames runaway_fib runaway_fib
want_frame_later "$main"
finish

# Not even the start-up code runs without fuel.
start fuel-zero
wj run --fuel 0 "$tmp/runaway.wasm" finish
want_trap "$tmp/runaway.wasm" 'all fuel consumed by WebAssembly'
[ -s out ] && { fail "stdout is not empty:"; show out; }
finish

# The timer thread must work inside the seccomp jail.
start timeout-spin-jail
wj run --jail --timeout 1s "$tmp/runaway.wasm" spin
want_trap "$tmp/runaway.wasm" interrupt
want_frames runaway_spin "$main"
finish

start timeout-fuel-spin
wj run --timeout 1s --fuel 1000000000000000 "$tmp/runaway.wasm" spin
want_trap "$tmp/runaway.wasm" interrupt
want_frames runaway_spin
finish

# A program that ends in time is not disturbed; nor is one with fuel to spare.
start timeout-finish
wj run --timeout 10s "$tmp/runaway.wasm" finish
want_status 0
want_stdout 'runaway: finished'
[ -s err ] && { fail "stderr is not empty:"; show err; }
finish

start fuel-finish
wj run --fuel 100000000 "$tmp/runaway.wasm" finish
want_status 0
want_stdout 'runaway: finished'
[ -s err ] && { fail "stderr is not empty:"; show err; }
finish

start timeout-fuel-finish
wj run --timeout 10s --fuel 100000000 "$tmp/runaway.wasm" finish
want_status 0
want_stdout 'runaway: finished'
finish

start timeout-finish-jail
wj run --jail --timeout 10s "$tmp/runaway.wasm" finish
want_status 0
want_stdout 'runaway: finished'
finish

timeout=$saved_timeout

# --- files in a preopen ---------------------------------------------------------------------
# ops_dir DIR: the files the ops subcommand expects to find.
ops_dir() {
    mkdir "$1"
    echo 'from the host' >"$1/host.txt"
    echo 'renamed' >"$1/rename-me.txt"
    echo 'deleted' >"$1/delete-me.txt"
}

# want_ops_effects DIR: what the ops subcommand leaves on the host.
want_ops_effects() {
    printf 'HELLO, file\n' >want-new
    if [ -f "$1/new.txt" ]; then
        want_same "host file $1/new.txt" want-new "$1/new.txt"
    else
        fail "host file $1/new.txt is missing"
    fi
    want_host_file "$1/host.txt" 'from the host'
    want_host_file "$1/renamed.txt" 'renamed'
    want_host_file "$1/moved.txt" 'a'
    want_host_file "$1/kept/inner.txt" 'inner'
    want_host_absent "$1/rename-me.txt" "$1/delete-me.txt" "$1/sub"
    (cd "$1" && ls -a) >listing
    printf '%s\n' . .. host.txt kept moved.txt new.txt renamed.txt >want
    want_same "the host's listing of $1" want listing
}

start files-dot
ops_dir "$tmp/ops1"
wj run --dir "$tmp/ops1::." "$tmp/files.wasm" ops .
want_status 0
want_stdout_file "$plugins/files-ops.expected"
want_ops_effects "$tmp/ops1"
finish

start files-absolute
ops_dir "$tmp/ops2"
wj run --dir "$tmp/ops2" "$tmp/files.wasm" ops "$tmp/ops2"
want_status 0
want_stdout_file "$plugins/files-ops.expected"
want_ops_effects "$tmp/ops2"
finish

# readdir: types, and more entries than fit in one fd_readdir buffer.
mkdir "$tmp/ls" "$tmp/ls/many" "$tmp/ls/sub"
echo a >"$tmp/ls/a.txt"
: >"$tmp/ls/empty"
ln -s a.txt "$tmp/ls/link"
ln -s /nowhere "$tmp/ls/dangling"
awk 'BEGIN { for (i = 0; i < 300; i++) printf "an-entry-with-a-longish-name-%03d\n", i }' >names
while read -r f; do : >"$tmp/ls/many/$f"; done <names

start readdir-dot
wj run --dir "$tmp/ls::." "$tmp/files.wasm" ls .
want_status 0
want_stdout '6 entries
a.txt file
dangling symlink
empty file
link symlink
many dir
sub dir'
finish

start readdir-many
wj run --dir "$tmp/ls::." "$tmp/files.wasm" ls many
want_status 0
{ echo '300 entries'; sed 's/$/ file/' names; } >want-many
want_stdout_file want-many
finish

start readdir-absolute
wj run --dir "$tmp/ls" "$tmp/files.wasm" ls "$tmp/ls/sub"
want_status 0
want_stdout '0 entries'
finish

# Without a preopen the guest reaches no directory at all.
start no-preopen
wj run "$tmp/files.wasm" ls .
want_status 1
grep -q '^opendir \.: ' out || { fail "opendir . did not fail; stdout:"; show out; }
finish

# --- escapes ------------------------------------------------------------------------
# $esc/jail is the guest's "."; outside.txt is beside it; ro and other are
# two more preopens. The host's symlinks inside the jail point out of it,
# except inlink, sublink and sub/inlink2.
esc=$tmp/esc
mkdir "$esc" "$esc/jail" "$esc/jail/sub" "$esc/ro" "$esc/ro/emptysub" "$esc/other" "$esc/emptydir"
echo 'SECRET outside the jail' >"$esc/outside.txt"
echo 'inside' >"$esc/jail/inside.txt"
echo 'read-only' >"$esc/ro/ro.txt"
for f in rename-src1 rename-src2 link-src cross; do echo "$f" >"$esc/jail/$f.txt"; done
ln -s /etc "$esc/jail/etclink"
ln -s ../outside.txt "$esc/jail/outlink"
ln -s "$esc/outside.txt" "$esc/jail/abslink"
ln -s .. "$esc/jail/dotdot"
ln -s chain2 "$esc/jail/chain1"
ln -s ../outside.txt "$esc/jail/chain2"
ln -s ../../outside.txt "$esc/jail/sub/uplink"
ln -s inside.txt "$esc/jail/inlink"
ln -s sub "$esc/jail/sublink"
ln -s ../inside.txt "$esc/jail/sub/inlink2"

# snapshot DIR: every path under DIR but jail/, with file checksums.
snapshot() {
    (cd "$1" && find . -path ./jail -prune -o -print) | LC_ALL=C sort |
    while read -r f; do
        if [ -L "$1/$f" ]; then
            echo "$f symlink"
        elif [ -f "$1/$f" ]; then
            echo "$f $(cksum <"$1/$f")"
        else
            echo "$f"
        fi
    done
}
snapshot "$esc" >esc-before

start escape
wj run --dir "$esc/jail::." --dir-ro "$esc/ro::/ro" --dir "$esc/other::/other" "$tmp/escape.wasm"
want_status 0
want_stdout_file "$plugins/escape.expected"
grep -q '^wasm trap' err && { fail "the guest trapped:"; show err; }
# Nothing outside the jail was created, changed or removed...
snapshot "$esc" >esc-after
want_same "the host's files outside the jail" esc-before esc-after
# ...and nothing came in or left.
want_host_absent "$esc/created.txt" "$esc/escaped.txt" "$esc/hard" "$esc/newdir" \
    "$esc/jail/stolen.txt" "$esc/jail/stolen-hard" "$esc/jail/stolen-ro.txt" \
    "$esc/jail/ro-hard" "$esc/other/cross.txt" "$esc/other/cross-hard"
want_host_file "$esc/jail/inside.txt" 'inside'
for f in rename-src1 rename-src2 link-src cross; do
    want_host_file "$esc/jail/$f.txt" "$f"
done
finish

say "plugins${PLUGINS_EXTRA_FLAGS:+ ($PLUGINS_EXTRA_FLAGS)}: $passed passed, $failed failed"
[ $failed -eq 0 ]
