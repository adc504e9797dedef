#!/bin/sh
# make check: metering must not change what programs do. Every plugin test
# (tests/plugins/plugins.sh) and every non-SIMD Sightglass program
# (tests/sightglass.sh) runs under
#     wasmjail run --timeout 1h --fuel 1000000000000000 ...
# (epoch checks and fuel accounting compiled in, neither ever running out)
# and must still pass; the plugin tests also with --tier optimized (tier 2
# meters as tier 1 does). The plugin tests that pass their own --timeout or
# --fuel give them after these, so theirs win.
# Skips (exit 77) only when every run skips.
set -u
{ true >&9; } 2>/dev/null || exec 9>&2

srcdir=${top_srcdir:-$(dirname "$0")/..}
flags='--timeout 1h --fuel 1000000000000000'

status=0
skipped=0
PLUGINS_EXTRA_FLAGS=$flags sh "$srcdir/tests/plugins/plugins.sh"
case $? in 0) ;; 77) skipped=$((skipped + 1)) ;; *) status=1 ;; esac
PLUGINS_EXTRA_FLAGS="$flags --tier optimized" sh "$srcdir/tests/plugins/plugins.sh"
case $? in 0) ;; 77) skipped=$((skipped + 1)) ;; *) status=1 ;; esac
SIGHTGLASS_EXTRA_FLAGS=$flags sh "$srcdir/tests/sightglass.sh"
case $? in 0) ;; 77) skipped=$((skipped + 1)) ;; *) status=1 ;; esac
[ $status -eq 0 ] && [ $skipped -eq 3 ] && exit 77
exit $status
