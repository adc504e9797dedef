#!/usr/bin/env bash
# Quick start on Debian 12: installs the Debian packages wasmjail needs (only
# the missing ones), builds everything, and runs the bundled example plugin
# with the CLI. Arguments go to ./configure:
#   ./quickstart.sh --enable-werror
set -euo pipefail
cd "$(dirname "$0")"

packages=(
    build-essential autoconf automake libtool pkg-config
    libseccomp-dev libunwind-dev check libjansson-dev wabt binaryen nodejs
    clang lld wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev
)

step() { printf '\n==> %s\n' "$*"; }

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    echo "quickstart.sh: this is not a Debian system (no dpkg-query or apt-get)." >&2
    echo "Install the equivalents of: ${packages[*]}" >&2
    echo "then run: ./autogen.sh && ./configure && make" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null; then
        as_root=(sudo)
    else
        echo "quickstart.sh: missing Debian packages: ${missing[*]}" >&2
        echo "Installing them needs root, and sudo is not installed: run as root" >&2
        echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    step "installing missing Debian packages: ${missing[*]}"
    "${as_root[@]}" apt-get update
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
else
    step "all the Debian packages wasmjail needs are installed"
fi

step "./autogen.sh"
./autogen.sh
step "./configure${*:+ $*}"
./configure "$@"
step "make -j$(nproc)"
make -j"$(nproc)"

step "./wasmjail run --dir examples::. examples/hello.wasm hello.c"
./wasmjail run --dir examples::. examples/hello.wasm hello.c

cat <<'DONE'

wasmjail is built. Next:
  make check                    run the whole test suite
  ./wasmjail --help             the commands (man -l doc/wasmjail.1 for more)
  ./wasmjail run FILE [ARG]...  run a WASI program
DONE
