#!/bin/sh
# Compile throughput and instantiation, measured in-process by
# bench/instantiate (see bench/instantiate.c): compile MB/s of code section
# for the generated large module and Sightglass's gcc-loops (1 and N
# compile threads); then us per instantiation of the generated modules
# (empty, memory, data, small, large) and of the example WASI program,
# sequentially and on one thread per CPU, with the default and the pooling
# allocator, median and min of RUNS runs, and the large/small ratio.
#   make bench && bench/run-instantiate.sh [RUNS] [SIGHTGLASS_DIR]
# Extra options go to bench/instantiate through INSTANTIATE_FLAGS, e.g.
#   INSTANTIATE_FLAGS='--threads 4 --allocator default' bench/run-instantiate.sh
# The machine should be quiet: other load shows up in every row.
set -e
here=$(dirname "$0")
runs=${1:-7}
sg=${2:-${SIGHTGLASS:-$here/../../shared/sightglass}}
hello=$here/../examples/hello.wasm
for f in "$here/instantiate" "$hello"; do
    [ -e "$f" ] || { echo "run-instantiate: $f is missing: run make bench" >&2; exit 1; }
done
set --
if [ -d "$sg" ]; then
    # shellcheck disable=SC2046 # one argument per path (they have no spaces)
    set -- $(find "$sg" -path '*/gcc-loops/*' -name '*.wasm' -type f)
fi
[ $# -gt 0 ] || echo "run-instantiate: no gcc-loops under $sg: no compile row for it" >&2
# shellcheck disable=SC2086 # INSTANTIATE_FLAGS is a list of options
exec "$here/instantiate" --runs "$runs" $INSTANTIATE_FLAGS --wasi "$hello" "$@"
