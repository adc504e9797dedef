/*
 * hello: the example plugin. A small WASI program (wasm32-wasi) that greets,
 * echoes its arguments and counts the lines of the files they name, which
 * it can only reach through a directory the host gave it. The build
 * compiles it with
 *   clang --target=wasm32-wasi -O2 -o examples/hello.wasm examples/hello.c
 * Try: wasmjail run --dir examples::. examples/hello.wasm hello.c
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    printf("Hello from a WebAssembly plugin!\n");
    for (int i = 0; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    int status = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) {
            printf("%s: %s\n", argv[i], strerror(errno));
            status = 1;
            continue;
        }
        long lines = 0;
        for (int c; (c = getc(f)) != EOF;)
            lines += c == '\n';
        fclose(f);
        printf("%s: %ld lines\n", argv[i], lines);
    }
    return status;
}
