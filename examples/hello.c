/*
 * hello: the example plugin. A small WASI program (wasm32-wasi) that greets
 * and echoes its arguments; the build compiles it with
 *   clang --target=wasm32-wasi -O2 -o examples/hello.wasm examples/hello.c
 * Try: wasmjail inspect examples/hello.wasm
 */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("Hello from a WebAssembly plugin!\n");
    for (int i = 0; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    return 0;
}
