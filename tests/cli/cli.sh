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
check help-run 0 '^  run ' -- --help
check run-no-file 2 'run: missing FILE' -- run
check run-bad-size 2 "run: --max-memory '12Q': expected a size" -- run --max-memory 12Q "$hello"
check run-huge-max-memory 2 "run: --max-memory '129T': more than 128T, the address space of a process" -- run --max-memory 129T "$hello"
check run-bad-dir 2 "run: --dir '::x': expected HOST\[::GUEST\]" -- run --dir ::x "$hello"
check run-bad-env 2 "run: --env '=x': expected NAME" -- run --env =x "$hello"
check run-missing-dir 1 "run: --dir: $tmp/nowhere: No such file or directory" -- run --dir "$tmp/nowhere" "$hello"
# --timeout DURATION and --fuel N: bad values are command-line errors.
check run-help-timeout 0 '^ +--timeout DURATION ' -- run --help
check run-help-fuel 0 '^ +--fuel N ' -- run --help
check run-timeout-word 2 "run: --timeout 'abc': expected a duration" -- run --timeout abc "$hello"
check run-timeout-zero 2 "run: --timeout '0': expected a duration" -- run --timeout 0 "$hello"
check run-timeout-zero-ms 2 "run: --timeout '0ms': expected a duration" -- run --timeout 0ms "$hello"
check run-timeout-negative 2 "run: --timeout '-1': expected a duration" -- run --timeout -1 "$hello"
check run-timeout-unit 2 "run: --timeout '1x': expected a duration" -- run --timeout 1x "$hello"
check run-timeout-empty 2 "run: --timeout '': expected a duration" -- run --timeout '' "$hello"
check run-timeout-missing 2 "option '--timeout' requires an argument" -- run --timeout
check run-fuel-word 2 "run: --fuel 'x': expected a number" -- run --fuel x "$hello"
check run-fuel-negative 2 "run: --fuel '-5': expected a number" -- run --fuel -5 "$hello"
check run-fuel-suffix 2 "run: --fuel '10k': expected a number" -- run --fuel 10k "$hello"
check run-fuel-empty 2 "run: --fuel '': expected a number" -- run --fuel '' "$hello"
check run-fuel-overflow 2 "run: --fuel '18446744073709551616': expected a number" -- run --fuel 18446744073709551616 "$hello"
check run-fuel-missing 2 "option '--fuel' requires an argument" -- run --fuel
check run-timeout-hello 0 '^Hello from a WebAssembly plugin!$' -- run --timeout 30s "$hello"
check run-fuel-hello 0 '^Hello from a WebAssembly plugin!$' -- run --fuel 100000000 "$hello"
check run-fuel-max 0 '^Hello from a WebAssembly plugin!$' -- run --fuel 18446744073709551615 "$hello"

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
check inspect-names 0 '^Functions: +[0-9]+ \([0-9]+ imported, [0-9]+ defined\), [0-9]+ named$' -- inspect "$hello"

# Running programs.
check run-hello 0 '^Hello from a WebAssembly plugin!$' -- run "$hello"
check run-shortcut 0 "^argv\[0\] = $hello\$" -- "$hello"

# Small modules from the text format (wat2wasm sits beside wast2json).
wat2wasm=$(dirname "${WAST2JSON:-$(command -v wast2json)}")/wat2wasm
wat() {
    printf '%s\n' "$2" >"$tmp/$1.wat" && "$wat2wasm" --debug-names -o "$tmp/$1.wasm" "$tmp/$1.wat"
}
# expect NAME PATTERN: the last check's output also has a line matching PATTERN.
expect() {
    if ! grep -Eq -- "$2" "$tmp/out"; then
        say "FAIL $1: no line matches /$2/; output:"
        show_output
        failed=$((failed + 1))
    fi
}
if [ -x "$wat2wasm" ]; then
    wat calc '(module
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
      (func (export "wide") (param i64 f64) (result i64 f64) (local.get 0) (local.get 1)))'
    check invoke-add 0 '^-1$' -- run --invoke add "$tmp/calc.wasm" 2 -3
    check invoke-hex 0 '^-1$' -- run --invoke add "$tmp/calc.wasm" 0xffffffff 0
    check invoke-wide 0 '^1\.5$' -- run --invoke wide "$tmp/calc.wasm" 0xffffffffffffffff 1.5
    expect invoke-wide-i64 '^-1$'
    check invoke-bad-value 1 "\`add\` parameter 1: 'x' is not an i32" -- run --invoke add "$tmp/calc.wasm" 1 x
    check invoke-i32-range 1 "'4294967296' is not an i32" -- run --invoke add "$tmp/calc.wasm" 4294967296 1
    check invoke-arity 1 '`add` takes 2 parameters, 1 given' -- run --invoke add "$tmp/calc.wasm" 1
    check invoke-missing 1 'no exported function `sub`' -- run --invoke sub "$tmp/calc.wasm"

    # v128 arguments in any shape, results as i32x4 lanes in hex
    wat simd '(module
      (func (export "vxor") (param v128 v128) (result v128) (v128.xor (local.get 0) (local.get 1)))
      (func (export "mix") (param i32 v128) (result v128 i32 f64)
        (local.get 1) (local.get 0) (f64.const 2.5)))'
    check invoke-v128 0 '^i32x4:0x00000011,0x00000022,0x00000033,0xffffffbc$' -- \
        run --invoke vxor "$tmp/simd.wasm" i32x4:1,2,3,-4 i32x4:0x10,0x20,0x30,0x40
    check invoke-v128-i8x16 0 '^i32x4:0x00000001,0x00000002,0x00000003,0xffffffff$' -- \
        run --invoke vxor "$tmp/simd.wasm" i8x16:1,0,0,0,2,0,0,0,3,0,0,0,-1,-1,0xff,255 i64x2:0,0
    check invoke-v128-f32x4 0 '^i32x4:0x3fc00000,0x80000000,0x00000000,0x3f800000$' -- \
        run --invoke vxor "$tmp/simd.wasm" f32x4:1.5,-0,0,1 f64x2:0,0
    check invoke-v128-multi 0 '^i32x4:0x00020001,0x00040003,0x00060005,0xffff0007$' -- \
        run --invoke mix "$tmp/simd.wasm" 7 i16x8:1,2,3,4,5,6,7,-1
    expect invoke-v128-multi-i32 '^7$'
    expect invoke-v128-multi-f64 '^2\.5$'
    check invoke-v128-lanes 1 "parameter 1: 'i32x4:1,2,3' is not a v128 \(write one as i32x4:1,2,3,-4\)" -- \
        run --invoke vxor "$tmp/simd.wasm" i32x4:0,0,0,0 i32x4:1,2,3
    check invoke-v128-range 1 "parameter 0: 'i8x16:256,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0' is not a v128" -- \
        run --invoke vxor "$tmp/simd.wasm" i8x16:256,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0 i64x2:0,0
    check invoke-v128-shape 1 "parameter 0: '1,2,3,4' is not a v128" -- \
        run --invoke vxor "$tmp/simd.wasm" 1,2,3,4 i64x2:0,0

    wat import '(module (import "env" "frob" (func)))'
    check unknown-import 1 'import\.wasm: unknown import `env::frob` \(func\)$' -- run "$tmp/import.wasm"
    wat bench '(module (import "bench" "start" (func $s)) (import "bench" "end" (func $e))
      (func (export "_start") (call $s) (call $e)))'
    check bench-needs-flag 1 'unknown import `bench::start` \(func\): the Sightglass imports need --bench' -- run "$tmp/bench.wasm"
    check bench-file 0 '' -- run --bench="$tmp/time" "$tmp/bench.wasm"
    if ! grep -Eqx '[0-9]+' "$tmp/time"; then
        say "FAIL bench-file: --bench=FILE did not write one integer line"
        failed=$((failed + 1))
    fi
    check bench-stderr 0 '^[0-9]+$' -- run --bench "$tmp/bench.wasm"
    wat badtype '(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32))))'
    check wasi-wrong-type 1 'link error.*fd_write' -- run "$tmp/badtype.wasm"
    wat exit '(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start") (call $exit (i32.const 7)) unreachable))'
    check proc-exit 7 '' -- run "$tmp/exit.wasm"
    wat nomem '(module (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
      (func (export "_start") (drop (call $r (i32.const 0) (i32.const 4)))))'
    check wasi-no-memory 134 'WASI: the calling module exports no memory named "memory"' -- run "$tmp/nomem.wasm"
    wat trap '(module $demo
      (func $divide (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
      (func $outer (result i32) (call $divide (i32.const 0)))
      (func (export "_start") (drop (call $outer))))'
    check trap-report 134 '^Error: failed to run main module `.*trap\.wasm`$' -- run "$tmp/trap.wasm"
    expect trap-backtrace '^wasm backtrace:$'
    expect trap-frame-0 '^ +0: +0x[0-9a-f]+ - demo!divide$'
    expect trap-frame-1 '^ +1: +0x[0-9a-f]+ - demo!outer$'
    expect trap-frame-2 '^ +2: +0x[0-9a-f]+ - demo!<wasm function 2>$'
    expect trap-message '^wasm trap: integer divide by zero$'
    # Tier 2 inlines $divide into $outer: the same frames at the same offsets.
    check trap-report-baseline 134 '^wasm trap: integer divide by zero$' -- run --tier baseline "$tmp/trap.wasm"
    grep -E '^ +[0-9]+: ' "$tmp/out" >"$tmp/frames-baseline"
    check trap-report-optimized 134 '^wasm trap: integer divide by zero$' -- run --tier optimized "$tmp/trap.wasm"
    expect trap-optimized-frame-0 '^ +0: +0x[0-9a-f]+ - demo!divide$'
    expect trap-optimized-frame-2 '^ +2: +0x[0-9a-f]+ - demo!<wasm function 2>$'
    if ! grep -E '^ +[0-9]+: ' "$tmp/out" | cmp -s - "$tmp/frames-baseline"; then
        say "FAIL trap-frames-optimized: not tier 1's frames:"
        show_output
        failed=$((failed + 1))
    fi
    # --fuel counts instructions: i32.const i32.const i32.add is 3.
    wat meter '(module $meter
      (func (export "three") (result i32) (i32.add (i32.const 1) (i32.const 2)))
      (func $spin (export "spin") (loop $l (br $l))))'
    check fuel-enough 0 '^3$' -- run --fuel 3 --invoke three "$tmp/meter.wasm"
    check fuel-short 134 '^wasm trap: all fuel consumed by WebAssembly$' -- run --fuel 2 --invoke three "$tmp/meter.wasm"
    expect fuel-short-frame '^ +0: +0x[0-9a-f]+ - meter!<wasm function 0>$'
    check fuel-spin 134 '^wasm trap: all fuel consumed by WebAssembly$' -- run --fuel 1000 --invoke spin "$tmp/meter.wasm"
    expect fuel-spin-frame '^ +0: +0x[0-9a-f]+ - meter!spin$'
    check timeout-three 0 '^3$' -- run --timeout 30s --invoke three "$tmp/meter.wasm"
    check timeout-spin 134 '^wasm trap: interrupt$' -- run --timeout 100ms --invoke spin "$tmp/meter.wasm"
    expect timeout-spin-frame '^ +0: +0x[0-9a-f]+ - meter!spin$'
    # A --max-stack beyond the real stack is clamped to it: deep recursion
    # traps instead of overflowing the stack (139, nothing printed).
    wat recurse '(module (func $r (export "_start") (call $r)))'
    stack_kib=$(ulimit -s)
    if [ "$stack_kib" != unlimited ] && [ "$stack_kib" -lt 1048576 ]; then
        check max-stack-clamped 134 '^wasm trap: call stack exhausted$' -- run --max-stack 1G "$tmp/recurse.wasm"
    else
        say "cli.sh: ulimit -s is $stack_kib, not below 1G: skipping max-stack-clamped"
    fi
    wat big '(module (memory 4))'
    check max-memory 1 'big\.wasm: .*' -- run --max-memory 128K "$tmp/big.wasm"
else
    say "cli.sh: no wat2wasm at '$wat2wasm': skipping the modules it builds"
fi

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

# The build tree's wasmjail is the program itself (an ELF file), not a
# libtool wrapper script: start-up measured there is start-up.
if [ "$(head -c 4 "$wasmjail" | od -An -tx1 | tr -d ' \n')" != 7f454c46 ]; then
    say "FAIL real-binary: $wasmjail is not an ELF executable (a wrapper script?)"
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

# Hostile declarations fail cleanly, before anything is allocated per item.
# A function (exported as _start) whose code entry is $2: 2^32-1 locals
# (once a heap overflow in the compiler), 2^28 locals (once gigabytes
# allocated before refusing), a v128 local (reported where it is declared).
func_module() {
    printf '\000asm\001\000\000\000\001\004\001\140\000\000\003\002\001\000' >"$tmp/$1.wasm"
    printf '\007\012\001\006_start\000\000' >>"$tmp/$1.wasm"
    printf "$2" >>"$tmp/$1.wasm"
}
func_module locals32 '\012\012\001\010\001\377\377\377\377\017\177\013'
check locals-2e32 1 'locals32\.wasm: module over a resource limit at offset 0x21 \(33\): too many locals: 4294967295, the limit is 50000 per function$' -- run "$tmp/locals32.wasm"
func_module locals28 '\012\012\001\010\001\200\200\200\200\001\177\013'
check locals-2e28 1 'too many locals: 268435456, the limit is 50000' -- run "$tmp/locals28.wasm"
check locals-validate 1 'too many locals: 268435456, the limit is 50000' -- validate "$tmp/locals28.wasm"
# A v128 local starts zeroed: _start traps when v128.any_true finds a bit set.
func_module v128local '\012\016\001\014\001\001\173\040\000\375\123\004\100\000\013\013'
check simd-local-zero 0 '' -- run "$tmp/v128local.wasm"
# Binaries of proposals we lack are named.
printf '\000asm\015\000\001\000' >"$tmp/component.wasm"
check component 1 'component\.wasm: unsupported module at offset 0x4 \(4\): component model' -- validate "$tmp/component.wasm"
printf '\000asm\001\000\000\000\001\003\001\137\000' >"$tmp/struct.wasm"
check gc-struct 1 'struct\.wasm: unsupported module at offset 0xb \(11\): GC proposal$' -- validate "$tmp/struct.wasm"

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
