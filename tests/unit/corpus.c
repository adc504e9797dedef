#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "corpus.h"
#include "unit.h"
#include "wat.h"

wasm_module *test_wat_module(const char *wat)
{
    size_t len;
    uint8_t *bytes = wat_to_wasm(wat, &len);
    wasm_error err = {0};
    wasm_module *m = wasm_decode(bytes, len, WASM_FEATURE_SIMD | WASM_FEATURE_MEMORY64, &err);
    free(bytes);
    ck_assert_msg(m && wasm_validate(m, &err), "module: %s", err.message);
    return m;
}

uint32_t test_count_op(ir_func *f, uint16_t op)
{
    uint32_t n = 0;
    for (uint32_t b = 0; b < f->nblocks; b++)
        for (ir_ref r = f->blocks[b].first; r; r = ir_at(f, r)->next)
            n += ir_at(f, r)->op == op;
    return n;
}

/* The module in file `path`, or NULL when there is no such file. */
static wasm_module *read_module(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    uint8_t *bytes = malloc((size_t)n);
    ck_assert(bytes && fread(bytes, 1, (size_t)n, fp) == (size_t)n);
    fclose(fp);
    wasm_error err = {0};
    wasm_module *m = wasm_decode(bytes, (size_t)n, WASM_FEATURE_SIMD, &err);
    free(bytes);
    ck_assert_msg(m && wasm_validate(m, &err), "%s: %s", path, err.message);
    return m;
}

static uint32_t each_file(uint32_t (*each)(const wasm_module *, const char *), const char *path)
{
    wasm_module *m = read_module(path);
    if (!m)
        return 0;
    uint32_t n = each(m, path);
    wasm_module_free(m);
    return n;
}

void corpus_each(uint32_t (*each)(const wasm_module *m, const char *path))
{
    /* make check runs from the top build directory */
    ck_assert_uint_gt(each_file(each, "examples/hello.wasm"), 5);
    each_file(each, "bench/kernels/kernels.wasm");
    const char *sg = getenv("SIGHTGLASS");
    DIR *d = sg ? opendir(sg) : NULL;
    char path[4096];
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s/benchmark.wasm", sg, e->d_name);
        each_file(each, path);
    }
    if (d)
        closedir(d);
}
