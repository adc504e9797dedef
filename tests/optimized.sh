#!/bin/sh
# make check: real programs compiled by the optimizing compiler alone. Every
# plugin test (tests/plugins/plugins.sh), every program of the compute suite
# (tests/compute.sh) and every non-SIMD Sightglass program
# (tests/sightglass.sh) runs under
#     wasmjail run --tier optimized ...
# and must still pass: under the default tiered execution, only the code a
# run makes hot reaches tier 2, which leaves most of the libc it carries to
# tier 1 (the spec tests and the fuzzer cover instructions, not the shapes of
# large compiled functions).
# Skips (exit 77) only when every run skips.
set -u
{ true >&9; } 2>/dev/null || exec 9>&2

srcdir=${top_srcdir:-$(dirname "$0")/..}
flags='--tier optimized'

status=0
skipped=0
PLUGINS_EXTRA_FLAGS=$flags sh "$srcdir/tests/plugins/plugins.sh"
case $? in 0) ;; 77) skipped=$((skipped + 1)) ;; *) status=1 ;; esac
COMPUTE_EXTRA_FLAGS=$flags sh "$srcdir/tests/compute.sh"
case $? in 0) ;; 77) skipped=$((skipped + 1)) ;; *) status=1 ;; esac
SIGHTGLASS_EXTRA_FLAGS=$flags sh "$srcdir/tests/sightglass.sh"
case $? in 0) ;; 77) skipped=$((skipped + 1)) ;; *) status=1 ;; esac
[ $status -eq 0 ] && [ $skipped -eq 3 ] && exit 77
exit $status
