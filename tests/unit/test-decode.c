/* Section decoding and module-level validation (src/wasm/decode.c,
 * names.c), through wasm_decode/wasm_validate and the public API. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include <wasmjail.h>

#include "unit.h"
#include "wasm/module.h"
#include "wasm_builder.h"

#define SIMD WASM_FEATURE_SIMD
#define MEM64 (WASM_FEATURE_SIMD | WASM_FEATURE_MEMORY64)
#define MULTI (WASM_FEATURE_SIMD | WASM_FEATURE_MULTI_MEMORY)

#define MALFORMED WASM_ERR_MALFORMED
#define INVALID WASM_ERR_INVALID
#define SEC_END "unexpected end of section or function"

static wasm_error err;

static wasm_module *decode(const wb *b, unsigned features)
{
    err = (wasm_error){0};
    return wasm_decode(b->data, b->len, features, &err);
}

/* Decodes and validates b into err; the module is freed. */
static void check(const wb *b, unsigned features)
{
    wasm_module *m = decode(b, features);
    if (m)
        wasm_validate(m, &err);
    else
        ck_assert_int_ne(err.kind, WASM_ERR_NONE);
    wasm_module_free(m);
}

#define ck_assert_err(want_kind, want_prefix, want_offset) \
    ck_assert_error_is(err.kind, err.message, err.offset, want_kind, want_prefix, want_offset)
#define ck_assert_fails(b, features, want_kind, want_prefix, want_offset) \
    do {                                                                   \
        check((b), (features));                                            \
        ck_assert_err(want_kind, want_prefix, want_offset);                \
    } while (0)
#define ck_assert_no_error()                                                          \
    ck_assert_msg(err.kind == WASM_ERR_NONE, "unexpected %s \"%s\" at offset %llu", \
                  unit_kind_name(err.kind), err.message, (unsigned long long)err.offset)
#define ck_assert_ok(b, features) \
    do {                          \
        check((b), (features));   \
        ck_assert_no_error();     \
    } while (0)

/* A module of the given bytes after the header. */
#define MODULE(b, ...)          \
    do {                        \
        wb_header(b);           \
        wb_raw(b, __VA_ARGS__); \
    } while (0)

/* ---- header ------------------------------------------------------------------ */

START_TEST(header)
{
    static const struct {
        uint8_t bytes[8];
        size_t n;
        const char *message;
        uint64_t offset;
    } cases[] = {
        {{0}, 0, "unexpected end", 0},
        {{0x00, 'a', 's'}, 3, "unexpected end", 3},
        {{0x00, 'a', 's', 'n', 1, 0, 0, 0}, 8, "magic header not detected", 0},
        {{'a', 's', 'm', 0x00, 1, 0, 0, 0}, 8, "magic header not detected", 0},
        {{0x00, 'a', 's', 'm', 1, 0, 0}, 7, "unexpected end", 7},
        {{0x00, 'a', 's', 'm', 2, 0, 0, 0}, 8, "unknown binary version", 4},
        {{0x00, 'a', 's', 'm', 0, 0, 0, 1}, 8, "unknown binary version", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err = (wasm_error){0};
        ck_assert_ptr_null(wasm_decode(cases[i].bytes, cases[i].n, SIMD, &err));
        ck_assert_err(MALFORMED, cases[i].message, cases[i].offset);
        ck_assert_str_eq(err.message, cases[i].message);
    }

    wb b = {0};
    wb_header(&b);
    wasm_module *m = decode(&b, SIMD);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->nsections, 0);
    ck_assert_uint_eq(m->nfuncs, 0);
    ck_assert_uint_eq(m->size, 8);
    ck_assert_ptr_ne(m->bytes, b.data); /* the module keeps its own copy */
    wasm_module_free(m);
    wb_free(&b);
}
END_TEST

/* Binaries of proposals we do not implement are named, not called malformed. */
START_TEST(unsupported_proposals)
{
    /* a component: version 0x0d, layer 1 */
    static const uint8_t component[] = {0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00};
    err = (wasm_error){0};
    ck_assert_ptr_null(wasm_decode(component, sizeof component, SIMD, &err));
    ck_assert_err(WASM_ERR_UNSUPPORTED, "unsupported: component model", 4);

    wb b = {0};
    /* struct, array, rec and sub types in the type section */
    static const uint8_t gc_forms[] = {0x5f, 0x5e, 0x4e, 0x50, 0x4f};
    for (size_t i = 0; i < sizeof gc_forms; i++) {
        MODULE(&b, 1, 3, 1, gc_forms[i], 0);
        ck_assert_fails(&b, SIMD, WASM_ERR_UNSUPPORTED, "unsupported: GC proposal", 11);
        ck_assert_str_eq(err.message, "unsupported: GC proposal");
        wb_free(&b);
    }
    /* value types: a local of each (the type byte is at body + 2) */
    static const struct {
        uint8_t type;
        const char *message;
    } types[] = {
        {0x6e, "unsupported: GC proposal"},         /* anyref */
        {0x6c, "unsupported: GC proposal"},         /* i31ref */
        {0x63, "unsupported: typed function references"}, /* (ref null ...) */
        {0x69, "unsupported: exception handling"},  /* exnref */
        {0x7a, "malformed value type"},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t body = wb_module(&b, &(wb_spec){.body = WB_BLOB(1, 1, types[i].type, 0x0b)});
        ck_assert_fails(&b, SIMD, i + 1 < sizeof types / sizeof types[0] ? WASM_ERR_UNSUPPORTED
                                                                         : WASM_ERR_MALFORMED,
                        types[i].message, body + 2);
        wb_free(&b);
    }
    /* a table of anyref */
    MODULE(&b, 4, 4, 1, 0x6e, 0, 1);
    ck_assert_fails(&b, SIMD, WASM_ERR_UNSUPPORTED, "unsupported: GC proposal", 11);
    wb_free(&b);
}
END_TEST

/* ---- sections ---------------------------------------------------------------- */

START_TEST(section_ids_and_order)
{
    wb b = {0};
    MODULE(&b, 13, 0);
    ck_assert_fails(&b, SIMD, MALFORMED, "malformed section id", 8);
    wb_free(&b);

    MODULE(&b, 0xff, 0);
    ck_assert_fails(&b, SIMD, MALFORMED, "malformed section id", 8);
    wb_free(&b);

    MODULE(&b, 1, 1, 0, 1, 1, 0); /* type, type */
    ck_assert_fails(&b, SIMD, MALFORMED, "unexpected content after last section", 11);
    wb_free(&b);

    MODULE(&b, 3, 1, 0, 1, 1, 0); /* function, type */
    ck_assert_fails(&b, SIMD, MALFORMED, "unexpected content after last section", 11);
    wb_free(&b);

    MODULE(&b, 10, 1, 0, 12, 1, 0); /* code, data count */
    ck_assert_fails(&b, SIMD, MALFORMED, "unexpected content after last section", 11);
    wb_free(&b);

    MODULE(&b, 11, 1, 0, 12, 1, 0); /* data, data count */
    ck_assert_fails(&b, SIMD, MALFORMED, "unexpected content after last section", 11);
    wb_free(&b);

    /* The data count section goes between element and code. */
    MODULE(&b, 9, 1, 0, 12, 1, 0, 10, 1, 0, 11, 1, 0);
    ck_assert_ok(&b, SIMD);
    wb_free(&b);

    /* A deferred invalid finding does not hide a later malformed one. */
    MODULE(&b, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 5, 13, 0);
    ck_assert_fails(&b, SIMD, MALFORMED, "malformed section id", 18);
    wb_free(&b);
}
END_TEST

START_TEST(section_sizes)
{
    wb b = {0};
    /* An id and no size: running out outside a section. */
    MODULE(&b, 1);
    ck_assert_fails(&b, SIMD, MALFORMED, "unexpected end", 9);
    ck_assert_str_eq(err.message, "unexpected end");
    wb_free(&b);

    /* Contents shorter than the size. */
    MODULE(&b, 1, 2, 0, 0);
    ck_assert_fails(&b, SIMD, MALFORMED, "section size mismatch", 10);
    wb_free(&b);

    /* Contents longer than the size. */
    MODULE(&b, 1, 1, 1, 0x60, 0, 0);
    ck_assert_fails(&b, SIMD, MALFORMED, "section size mismatch", 10);
    wb_free(&b);

    /* A size beyond the module. */
    MODULE(&b, 1, 5, 0);
    ck_assert_fails(&b, SIMD, MALFORMED, "length out of bounds", 9);
    wb_free(&b);

    /* Within bounds (the size's own byte counts), but the contents run out. */
    MODULE(&b, 1, 4, 1, 0x60, 1);
    ck_assert_fails(&b, SIMD, MALFORMED, SEC_END, 13);
    wb_free(&b);

    /* A name (import module) longer than what is left. */
    MODULE(&b, 2, 4, 1, 5, 'a', 'b');
    ck_assert_fails(&b, SIMD, MALFORMED, "length out of bounds", 11);
    wb_free(&b);
}
END_TEST

/* ---- custom sections ---------------------------------------------------------- */

static void ck_section(const wasm_module *m, uint32_t i, uint8_t id, const char *name,
                       size_t offset, uint32_t size)
{
    ck_assert_uint_lt(i, m->nsections);
    const wasm_section *s = &m->sections[i];
    ck_assert_uint_eq(s->id, id);
    ck_assert_uint_eq(s->name.len, strlen(name));
    ck_assert_str_eq(s->name.data, name);
    ck_assert_uint_eq(s->offset, offset);
    ck_assert_uint_eq(s->size, size);
}

START_TEST(custom_sections_anywhere)
{
    wb b = {0};
    wb_header(&b);
    size_t a = wb_sec(&b, 0, 1, 'a', 1, 2, 3);
    size_t type = wb_sec(&b, 1, 1, 0x60, 0, 0);
    size_t between = wb_sec(&b, 0, 7, 'b', 'e', 't', 'w', 'e', 'e', 'n');
    size_t func = wb_sec(&b, 3, 1, 0);
    size_t unnamed = wb_sec(&b, 0, 0);
    size_t code = wb_sec(&b, 10, 1, 2, 0, 0x0b);
    size_t z = wb_sec(&b, 0, 1, 'z', 0xff, 0xfe); /* the payload is any bytes */

    wasm_module *m = decode(&b, SIMD);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert_uint_eq(m->nsections, 7);
    ck_section(m, 0, 0, "a", a, 5);
    ck_section(m, 1, 1, "type", type, 4);
    ck_section(m, 2, 0, "between", between, 8);
    ck_section(m, 3, 3, "function", func, 2);
    ck_section(m, 4, 0, "", unnamed, 1);
    ck_section(m, 5, 10, "code", code, 4);
    ck_section(m, 6, 0, "z", z, 4);
    ck_assert(wasm_validate(m, &err));
    wasm_module_free(m);
    wb_free(&b);
}
END_TEST

/* More sections than the first allocation holds. */
START_TEST(many_custom_sections)
{
    enum { N = 100 };
    wb b = {0};
    size_t at[N];
    wb_header(&b);
    for (int i = 0; i < N; i++) {
        char payload[8];
        int n = snprintf(payload + 1, sizeof payload - 1, "s%d", i);
        payload[0] = (char)n;
        at[i] = wb_section(&b, 0, payload, (size_t)n + 1);
    }
    wasm_module *m = decode(&b, SIMD);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert_uint_eq(m->nsections, N);
    for (int i = 0; i < N; i++) {
        char name[8];
        snprintf(name, sizeof name, "s%d", i);
        ck_section(m, (uint32_t)i, 0, name, at[i], (uint32_t)strlen(name) + 1);
    }
    wasm_module_free(m);
    wb_free(&b);
}
END_TEST

START_TEST(custom_section_errors)
{
    wb b = {0};
    MODULE(&b, 0); /* no size */
    ck_assert_fails(&b, SIMD, MALFORMED, "unexpected end", 9);
    wb_free(&b);

    MODULE(&b, 0, 0); /* no name */
    ck_assert_fails(&b, SIMD, MALFORMED, "unexpected end", 10);
    wb_free(&b);

    MODULE(&b, 0, 1, 3, 'a', 'b', 'c'); /* the name runs past the section */
    ck_assert_fails(&b, SIMD, MALFORMED, "unexpected end", 10);
    wb_free(&b);

    MODULE(&b, 0, 3, 2, 0xc0, 0x80); /* overlong UTF-8 */
    ck_assert_fails(&b, SIMD, MALFORMED, "malformed UTF-8 encoding", 11);
    wb_free(&b);
}
END_TEST

/* A custom section whose size is one more than what is left. The size
 * passes the "length out of bounds" check (which, as in the reference
 * decoder, counts the size's own byte), so the payload itself must be found
 * to run out, as in the reference decoder's custom section. */
START_TEST(custom_section_past_the_end)
{
    wb b = {0};
    MODULE(&b, 0, 5, 1, 'x', 'a', 'b'); /* 4 bytes of contents, size 5 */
    check(&b, SIMD);
    wasm_error plain = err;
    size_t plain_len = b.len;
    wb_free(&b);

    /* The same with a name section: must not read past the module. */
    MODULE(&b, 0, 9, 4, 'n', 'a', 'm', 'e', 0, 2, 1); /* 8 bytes of contents, size 9 */
    check(&b, SIMD);
    size_t names_len = b.len;
    wb_free(&b);

    ck_assert_error_is(plain.kind, plain.message, plain.offset, MALFORMED, "unexpected end",
                       plain_len);
    ck_assert_uint_eq(plain_len, 14);
    ck_assert_err(MALFORMED, "unexpected end", names_len);
}
END_TEST

/* ---- the name section ------------------------------------------------------------ */

/* Function 0 imported, 1 and 2 defined (1 has a parameter and a local);
 * `names` is the name section's contents after its name. The name section
 * comes first, before the type section. */
static void names_module(wb *b, wb_blob names)
{
    wb sec = {0};
    wb_name(&sec, "name");
    wb_put(&sec, names.p, names.n);
    wb_header(b);
    wb_section(b, 0, sec.data, sec.len);
    wb_sec(b, 1, 2, 0x60, 1, 0x7f, 0, 0x60, 0, 0);
    wb_sec(b, 2, 1, 1, 'e', 1, 'f', 0, 1);
    wb_sec(b, 3, 2, 0, 1);
    wb_sec(b, 10, 2, 4, 1, 1, 0x7f, 0x0b, 2, 0, 0x0b);
    wb_free(&sec);
}

static wj_module *new_module(wj_engine *engine, const wb *b)
{
    wj_module *m = NULL;
    wj_error *e = wj_module_new(engine, b->data, b->len, &m);
    ck_assert_msg(e == NULL, "wj_module_new: %s", e ? wj_error_message(e) : "");
    return m;
}

#define ck_assert_name(got, len, want)              \
    do {                                            \
        ck_assert_ptr_nonnull(got);                 \
        ck_assert_str_eq(got, want);                \
        ck_assert_uint_eq(len, strlen(want));       \
    } while (0)

START_TEST(name_section)
{
    wb names = {0}, sub = {0}, b = {0};
    wb_name(&sub, "mod");
    wb_section(&names, 0, sub.data, sub.len);
    wb_free(&sub);
    wb_raw(&sub, 2, 0, 3, 'i', 'm', 'p', 2, 3, 't', 'w', 'o'); /* functions 0 and 2 */
    wb_section(&names, 1, sub.data, sub.len);
    wb_free(&sub);
    wb_raw(&sub, 2, 1, 2, 0, 1, 'p', 1, 1, 'l', 2, 1, 0, 1, 'x'); /* locals of 1 and 2 */
    wb_section(&names, 2, sub.data, sub.len);
    wb_free(&sub);
    wb_sec(&names, 7, 2, 'x', 'y'); /* a subsection not used here: skipped */
    names_module(&b, wb_as_blob(&names));

    wj_engine *engine = wj_engine_new(NULL);
    wj_module *m = new_module(engine, &b);
    size_t len = 99;
    const char *s = wj_module_name(m, &len);
    ck_assert_name(s, len, "mod");
    s = wj_module_func_name(m, 0, &len);
    ck_assert_name(s, len, "imp");
    ck_assert_ptr_null(wj_module_func_name(m, 1, &len));
    ck_assert_uint_eq(len, 0);
    s = wj_module_func_name(m, 2, &len);
    ck_assert_name(s, len, "two");
    ck_assert_ptr_null(wj_module_func_name(m, 3, NULL));
    s = wj_module_local_name(m, 1, 0, &len);
    ck_assert_name(s, len, "p");
    s = wj_module_local_name(m, 1, 1, &len);
    ck_assert_name(s, len, "l");
    ck_assert_ptr_null(wj_module_local_name(m, 1, 2, &len));
    s = wj_module_local_name(m, 2, 0, &len);
    ck_assert_name(s, len, "x");
    ck_assert_ptr_null(wj_module_local_name(m, 0, 0, &len));
    ck_assert_ptr_null(wj_module_local_name(m, 3, 0, &len));
    wj_module_delete(m);
    wj_engine_delete(engine);
    wb_free(&names);
    wb_free(&b);
}
END_TEST

/* Malformed name sections are dropped whole; the module stays valid. */
static const struct {
    const char *what;
    uint8_t bytes[24];
    size_t n;
} bad_names[] = {
#define N(what, ...) {what, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})}
#define MOD_NAME 0, 4, 3, 'm', 'o', 'd' /* a good module name first */
    N("function names out of order", MOD_NAME, 1, 7, 2, 2, 1, 'b', 0, 1, 'a'),
    N("function names repeated", MOD_NAME, 1, 7, 2, 2, 1, 'b', 2, 1, 'a'),
    N("subsections out of order", 1, 4, 1, 0, 1, 'a', 0, 2, 1, 'm'),
    N("subsection repeated", 0, 2, 1, 'a', 0, 2, 1, 'b'),
    N("bad UTF-8", 0, 3, 2, 0xc0, 0x80),
    N("truncated name map", MOD_NAME, 1, 4, 2, 0, 1, 'a'),
    N("subsection size too large", 0, 5, 3, 'm', 'o', 'd', 0),
    N("local names out of order", MOD_NAME, 2, 9, 1, 1, 2, 1, 1, 'a', 0, 1, 'b'),
    N("local name functions out of order", MOD_NAME, 2, 11, 2, 2, 1, 0, 1, 'a', 1, 1, 0, 1,
      'b'),
    N("truncated subsection header", MOD_NAME, 1),
    /* the size passes the bounds check, which counts its own byte, but
     * runs one byte into the type section that follows */
    N("subsection past the section's end", 0, 3, 2, 'm'),
#undef MOD_NAME
#undef N
};

START_TEST(malformed_name_section_dropped)
{
    wb b = {0};
    names_module(&b, (wb_blob){bad_names[_i].bytes, bad_names[_i].n});
    wj_engine *engine = wj_engine_new(NULL);
    wj_module *m = new_module(engine, &b);
    /* Look, clean up, then assert (a failed assertion ends the test). */
    char kept[32] = "";
    size_t len = 0;
    const char *s = wj_module_name(m, &len);
    if (s)
        snprintf(kept, sizeof kept, "module name \"%.*s\"", (int)len, s);
    for (uint32_t f = 0; f < 3 && !kept[0]; f++) {
        if (wj_module_func_name(m, f, NULL))
            snprintf(kept, sizeof kept, "function %u's name", f);
        else if (wj_module_local_name(m, f, 0, NULL))
            snprintf(kept, sizeof kept, "function %u's local 0's name", f);
    }
    wj_module_delete(m);
    wj_engine_delete(engine);
    wb_free(&b);
    ck_assert_msg(!kept[0], "%s: %s kept", bad_names[_i].what, kept);
}
END_TEST

/* ---- imports and exports ------------------------------------------------------------ */

START_TEST(imports_of_all_kinds)
{
    wb b = {0};
    wb_header(&b);
    wb_sec(&b, 1, 1, 0x60, 0, 0);
    wb_sec(&b, 2, 6,
           1, 'm', 1, 'f', 0x00, 0,                    /* func 0 */
           1, 'm', 1, 't', 0x01, 0x70, 0x00, 1,        /* table 0 */
           1, 'm', 3, 'm', 'e', 'm', 0x02, 0x01, 1, 2, /* memory 0 */
           1, 'm', 1, 'g', 0x03, 0x7f, 0,              /* global 0 */
           1, 'm', 2, 'f', '2', 0x00, 0,               /* func 1 */
           1, 'm', 2, 'g', '2', 0x03, 0x7e, 1);        /* global 1, mutable */
    wb_sec(&b, 3, 1, 0);                                  /* func 2 */
    wb_sec(&b, 6, 1, 0x7d, 0, 0x43, 0x00, 0x00, 0x80, 0x3f, 0x0b); /* global 2 */
    wb_sec(&b, 10, 1, 2, 0, 0x0b);

    wasm_module *m = decode(&b, SIMD);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert_uint_eq(m->nimports, 6);
    static const uint8_t kinds[] = {WASM_EXTERN_FUNC, WASM_EXTERN_TABLE, WASM_EXTERN_MEMORY,
                                    WASM_EXTERN_GLOBAL, WASM_EXTERN_FUNC, WASM_EXTERN_GLOBAL};
    static const uint32_t indices[] = {0, 0, 0, 0, 1, 1};
    static const char *const names[] = {"f", "t", "mem", "g", "f2", "g2"};
    for (uint32_t i = 0; i < 6; i++) {
        ck_assert_str_eq(m->imports[i].module.data, "m");
        ck_assert_str_eq(m->imports[i].name.data, names[i]);
        ck_assert_uint_eq(m->imports[i].kind, kinds[i]);
        ck_assert_uint_eq(m->imports[i].index, indices[i]);
    }
    ck_assert_uint_eq(m->imports[1].offset, 23); /* of the import entry */
    ck_assert_uint_eq(m->nfuncs, 3);
    ck_assert_uint_eq(m->nfunc_imports, 2);
    ck_assert_uint_eq(m->ntables, 1);
    ck_assert_uint_eq(m->ntable_imports, 1);
    ck_assert_uint_eq(m->nmemories, 1);
    ck_assert_uint_eq(m->nmemory_imports, 1);
    ck_assert_uint_eq(m->nglobals, 3);
    ck_assert_uint_eq(m->nglobal_imports, 2);
    ck_assert_uint_eq(m->tables[0].elem, WASM_FUNCREF);
    ck_assert_uint_eq(m->tables[0].limits.min, 1);
    ck_assert(!m->tables[0].limits.has_max);
    ck_assert_uint_eq(m->memories[0].min, 1);
    ck_assert_uint_eq(m->memories[0].max, 2);
    ck_assert(m->memories[0].has_max);
    ck_assert(!m->memories[0].is64);
    ck_assert_uint_eq(m->globals[0].type.type, WASM_I32);
    ck_assert(!m->globals[0].type.mut);
    ck_assert_uint_eq(m->globals[1].type.type, WASM_I64);
    ck_assert(m->globals[1].type.mut);
    ck_assert_uint_eq(m->globals[2].type.type, WASM_F32);
    ck_assert_uint_eq(m->globals[2].init.kind, WASM_CONST_F32);
    ck_assert_uint_eq(m->globals[2].init.u.f32, 0x3f800000);
    ck_assert_uint_eq(m->funcs[2].type, 0);
    ck_assert(wasm_validate(m, &err));
    wasm_module_free(m);
    wb_free(&b);
}
END_TEST

START_TEST(import_errors)
{
    wb b = {0};
    MODULE(&b, 1, 4, 1, 0x60, 0, 0, 2, 6, 1, 1, 'm', 1, 'f', 4);
    ck_assert_fails(&b, SIMD, MALFORMED, "malformed import kind", 21);
    wb_free(&b);

    MODULE(&b, 1, 4, 1, 0x60, 0, 0, 2, 7, 1, 1, 'm', 1, 'f', 0, 3);
    ck_assert_fails(&b, SIMD, INVALID, "unknown type 3", 22);
    wb_free(&b);

    MODULE(&b, 2, 7, 1, 1, 'm', 1, 'g', 3, 0x7f); /* no mutability */
    ck_assert_fails(&b, SIMD, MALFORMED, SEC_END, 17);
    wb_free(&b);
}
END_TEST

START_TEST(exports)
{
    wb b = {0};
    wb_header(&b);
    wb_sec(&b, 1, 1, 0x60, 0, 0);
    wb_sec(&b, 3, 1, 0);
    wb_sec(&b, 4, 1, 0x70, 0, 1);
    wb_sec(&b, 5, 1, 0, 1);
    wb_sec(&b, 6, 1, 0x7f, 0, 0x41, 0, 0x0b);
    wb_sec(&b, 7, 4, 1, 'a', 0, 0, 1, 'b', 2, 0, 2, 'c', 'c', 1, 0, 0, 3, 0);
    wb_sec(&b, 10, 1, 2, 0, 0x0b);
    wasm_module *m = decode(&b, SIMD);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert_uint_eq(m->nexports, 4);
    ck_assert_str_eq(m->exports[0].name.data, "a");
    ck_assert_uint_eq(m->exports[0].kind, WASM_EXTERN_FUNC);
    ck_assert_uint_eq(m->exports[1].kind, WASM_EXTERN_MEMORY);
    ck_assert_str_eq(m->exports[2].name.data, "cc");
    ck_assert_uint_eq(m->exports[2].name.len, 2);
    ck_assert_uint_eq(m->exports[2].kind, WASM_EXTERN_TABLE);
    ck_assert_uint_eq(m->exports[3].name.len, 0); /* the empty name */
    ck_assert_uint_eq(m->exports[3].kind, WASM_EXTERN_GLOBAL);
    ck_assert(m->declared_funcs[0] & 1); /* exported: ref.func may name it */
    wasm_module_free(m);
    wb_free(&b);
}
END_TEST

START_TEST(export_errors)
{
    wb b = {0};
    /* types, a function, a global; the exports' contents at 28 */
    static const uint8_t prefix[] = {1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 6, 6, 1, 0x7f, 0, 0x41, 0, 0x0b};
#define EXPORTS(...)                        \
    do {                                    \
        wb_free(&b);                        \
        wb_header(&b);                      \
        wb_put(&b, prefix, sizeof prefix);  \
        wb_sec(&b, 7, __VA_ARGS__);         \
        wb_sec(&b, 10, 1, 2, 0, 0x0b);      \
    } while (0)
    EXPORTS(2, 1, 'a', 0, 0, 1, 'a', 3, 0);
    ck_assert_fails(&b, SIMD, INVALID, "duplicate export name \"a\"", 28);
    EXPORTS(3, 1, 'a', 0, 0, 2, 'a', 'b', 0, 0, 1, 'a', 3, 0);
    ck_assert_fails(&b, SIMD, INVALID, "duplicate export name \"a\"", 28);
    EXPORTS(3, 1, 'a', 0, 0, 2, 'a', 'b', 0, 0, 0, 3, 0); /* prefixes are not duplicates */
    ck_assert_ok(&b, SIMD);
    EXPORTS(1, 1, 'a', 0, 5);
    ck_assert_fails(&b, SIMD, INVALID, "unknown function 5", 32);
    EXPORTS(1, 1, 'a', 2, 0);
    ck_assert_fails(&b, SIMD, INVALID, "unknown memory 0", 32);
    EXPORTS(1, 1, 'a', 1, 0);
    ck_assert_fails(&b, SIMD, INVALID, "unknown table 0", 32);
    EXPORTS(1, 1, 'a', 3, 1);
    ck_assert_fails(&b, SIMD, INVALID, "unknown global 1", 32);
    EXPORTS(1, 1, 'a', 4, 0);
    ck_assert_fails(&b, SIMD, MALFORMED, "malformed export kind", 31);
#undef EXPORTS
    wb_free(&b);
}
END_TEST

/* ---- limits -------------------------------------------------------------------------- */

static const struct {
    uint8_t id; /* 4: table, 5: memory */
    uint8_t contents[16];
    size_t n;
    unsigned features;
    int kind;
    const char *message;
    uint64_t offset; /* in the contents */
} limits_cases[] = {
#define L(id, features, kind, message, offset, ...) \
    {id, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__}), features, kind, message, offset}
    L(5, MEM64, 0, NULL, 0, 1, 0x04, 1),
    L(5, MEM64, 0, NULL, 0, 1, 0x05, 1, 0x80, 0x80, 0x80, 0x80, 0x10),
    L(5, MEM64, 0, NULL, 0, 1, 0x04, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40), /* 2^48 */
    L(5, MEM64, INVALID, "memory size must be at most 2^48 pages", 1,
      1, 0x04, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40),
    L(5, MEM64, MALFORMED, "malformed limits flags", 1, 1, 0x02, 1, 1),
    L(5, MEM64, MALFORMED, "malformed limits flags", 1, 1, 0x06, 1, 1),
    L(5, MEM64, MALFORMED, "malformed limits flags", 1, 1, 0x08, 1),
    L(4, MEM64, MALFORMED, "malformed limits flags", 2, 1, 0x70, 0x04, 1),
    /* a 32-bit memory's sizes are read as u64 with memory64, u32 without */
    L(5, MEM64, INVALID, "memory size must be at most 65536 pages (4GiB)", 1,
      1, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10),
    L(5, SIMD, MALFORMED, "integer too large", 6, 1, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10),
    /* without memory64 the flags are a one-bit number */
    L(5, SIMD, MALFORMED, "integer too large", 1, 1, 0x04, 1),
    L(5, SIMD, MALFORMED, "integer too large", 1, 1, 0x02, 1, 1),
    L(5, SIMD, MALFORMED, "integer representation too long", 1, 1, 0x80, 0x00, 1),
    L(4, SIMD, MALFORMED, "integer too large", 2, 1, 0x70, 0x02, 1),
    L(5, SIMD, 0, NULL, 0, 1, 0x00, 0x80, 0x80, 0x04), /* 65536 pages */
    L(5, SIMD, INVALID, "memory size must be at most 65536 pages (4GiB)", 1,
      1, 0x00, 0x81, 0x80, 0x04),
    L(5, SIMD, INVALID, "memory size must be at most 65536 pages (4GiB)", 1,
      1, 0x01, 0x00, 0x81, 0x80, 0x04),
    L(5, SIMD, INVALID, "size minimum must not be greater than maximum", 1, 1, 0x01, 2, 1),
    L(4, SIMD, INVALID, "size minimum must not be greater than maximum", 2, 1, 0x70, 0x01, 2, 1),
    L(4, SIMD, 0, NULL, 0, 1, 0x70, 0x01, 0x80, 0x80, 0x80, 0x80, 0x08, 0xff, 0xff, 0xff, 0xff, 0x0f),
    L(4, SIMD, MALFORMED, "malformed reference type", 1, 1, 0x7f, 0x00, 1),
    L(5, SIMD, INVALID, "multiple memories", 0, 2, 0x00, 1, 0x00, 1),
    L(5, MULTI, 0, NULL, 0, 2, 0x00, 1, 0x00, 1),
#undef L
};

START_TEST(limits)
{
    wb b = {0};
    wb_header(&b);
    size_t at = wb_section(&b, limits_cases[_i].id, limits_cases[_i].contents, limits_cases[_i].n);
    check(&b, limits_cases[_i].features);
    if (limits_cases[_i].kind == 0)
        ck_assert_no_error();
    else
        ck_assert_err(limits_cases[_i].kind, limits_cases[_i].message, at + limits_cases[_i].offset);
    wb_free(&b);
}
END_TEST

START_TEST(limits_values)
{
    wb b = {0};
    MODULE(&b, 5, 11, 2, 0x05, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 0x01, 0, 3);
    wasm_module *m = decode(&b, MEM64 | MULTI);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert_uint_eq(m->nmemories, 2);
    ck_assert(m->memories[0].is64);
    ck_assert(m->memories[0].has_max);
    ck_assert_uint_eq(m->memories[0].min, 1);
    ck_assert_uint_eq(m->memories[0].max, 1ull << 32);
    ck_assert(!m->memories[1].is64);
    ck_assert_uint_eq(m->memories[1].min, 0);
    ck_assert_uint_eq(m->memories[1].max, 3);
    wasm_module_free(m);
    wb_free(&b);

    /* An imported and a defined memory are two memories. */
    wb_header(&b);
    wb_sec(&b, 2, 1, 1, 'm', 1, 'm', 2, 0, 1);
    size_t mem = wb_sec(&b, 5, 1, 0, 1);
    ck_assert_fails(&b, SIMD, INVALID, "multiple memories", mem);
    wb_free(&b);
    wb_header(&b);
    size_t imports = wb_sec(&b, 2, 2, 1, 'm', 1, 'a', 2, 0, 1, 1, 'm', 1, 'b', 2, 0, 1);
    ck_assert_fails(&b, SIMD, INVALID, "multiple memories", imports);
    ck_assert_ok(&b, MULTI);
    wb_free(&b);
}
END_TEST

/* ---- counts that must agree ---------------------------------------------------------- */

START_TEST(data_count)
{
    wb b = {0};
    MODULE(&b, 5, 3, 1, 0, 1, 12, 1, 2, 11, 3, 1, 1, 0);
    ck_assert_fails(&b, SIMD, MALFORMED, "data count and data section have inconsistent lengths",
                    b.len);
    wb_free(&b);

    MODULE(&b, 12, 1, 1);
    ck_assert_fails(&b, SIMD, MALFORMED, "data count and data section have inconsistent lengths",
                    b.len);
    wb_free(&b);

    MODULE(&b, 5, 3, 1, 0, 1, 12, 1, 1, 11, 3, 1, 1, 0);
    ck_assert_ok(&b, SIMD);
    wasm_module *m = decode(&b, SIMD);
    ck_assert(m->has_data_count);
    ck_assert_uint_eq(m->data_count, 1);
    wasm_module_free(m);
    wb_free(&b);
}
END_TEST

START_TEST(function_and_code_counts)
{
    wb b = {0};
    MODULE(&b, 1, 4, 1, 0x60, 0, 0, 3, 3, 2, 0, 0, 10, 4, 1, 2, 0, 0x0b);
    ck_assert_fails(&b, SIMD, MALFORMED, "function and code section have inconsistent lengths",
                    b.len);
    wb_free(&b);

    MODULE(&b, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0);
    ck_assert_fails(&b, SIMD, MALFORMED, "function and code section have inconsistent lengths",
                    b.len);
    wb_free(&b);

    MODULE(&b, 1, 4, 1, 0x60, 0, 0, 10, 4, 1, 2, 0, 0x0b);
    ck_assert_fails(&b, SIMD, MALFORMED, "function and code section have inconsistent lengths",
                    b.len);
    wb_free(&b);
}
END_TEST

START_TEST(too_many_locals)
{
    wb b = {0};
    wb_header(&b);
    wb_sec(&b, 1, 1, 0x60, 0, 0);
    wb_sec(&b, 3, 1, 0);
    size_t code = wb_sec(&b, 10, 1, 10, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 1, 0x7f, 0x0b);
    ck_assert_fails(&b, SIMD, MALFORMED, "too many locals", code + 9);
    wb_free(&b);

    /* 2^32 - 1 locals are within the spec's bound but over our limit: refused
     * at the code entry, without allocating per local. */
    wb_header(&b);
    wb_sec(&b, 1, 1, 0x60, 0, 0);
    wb_sec(&b, 3, 1, 0);
    code = wb_sec(&b, 10, 1, 14, 2, 0xff, 0xff, 0xff, 0xff, 0x07, 0x7f, 0x80, 0x80, 0x80, 0x80,
                  0x08, 0x7e, 0x0b);
    ck_assert_fails(&b, SIMD, WASM_ERR_RESOURCE,
                    "too many locals: 4294967295, the limit is 50000 per function", code + 1);
    wb_free(&b);
}
END_TEST

/* Where function_of put things. */
typedef struct function_at {
    size_t params;  /* the type's parameter count */
    size_t results; /* the type's result count */
    size_t entry;   /* the code entry (its size field) */
} function_at;

/* A module of one function with nparams i64 parameters, nresults f64
 * results and nlocals i32 locals (in two runs), whose body is unreachable. */
static function_at function_of(wb *b, uint32_t nparams, uint32_t nresults, uint32_t nlocals)
{
    wb types = {0}, entry = {0}, code = {0};
    wb_raw(&types, 1, 0x60);
    wb_u32(&types, nparams);
    for (uint32_t i = 0; i < nparams; i++)
        wb_byte(&types, 0x7e);
    size_t results = types.len;
    wb_u32(&types, nresults);
    for (uint32_t i = 0; i < nresults; i++)
        wb_byte(&types, 0x7c);
    wb_byte(&entry, 2);
    wb_u32(&entry, nlocals / 2);
    wb_byte(&entry, 0x7f);
    wb_u32(&entry, nlocals - nlocals / 2);
    wb_byte(&entry, 0x7f);
    wb_raw(&entry, 0x00, 0x0b); /* unreachable end */
    wb_byte(&code, 1);
    wb_u32(&code, (uint32_t)entry.len);
    wb_put(&code, entry.data, entry.len);
    wb_header(b);
    size_t t = wb_section(b, 1, types.data, types.len);
    wb_sec(b, 3, 1, 0);
    size_t c = wb_section(b, 10, code.data, code.len);
    wb_free(&types);
    wb_free(&entry);
    wb_free(&code);
    return (function_at){.params = t + 2, .results = t + results, .entry = c + 1};
}

/* The JS API's limits: 50,000 locals, 1,000 parameters and results. */
START_TEST(function_limits)
{
    wb b = {0};
    function_of(&b, 1000, 1000, 50000);
    ck_assert_ok(&b, SIMD);
    wb_free(&b);

    function_at at = function_of(&b, 0, 0, 50001);
    ck_assert_fails(&b, SIMD, WASM_ERR_RESOURCE,
                    "too many locals: 50001, the limit is 50000 per function", at.entry);
    ck_assert_str_eq(err.message, "too many locals: 50001, the limit is 50000 per function");
    wb_free(&b);

    at = function_of(&b, 1001, 0, 0);
    ck_assert_fails(&b, SIMD, WASM_ERR_RESOURCE,
                    "too many parameters: 1001, the limit is 1000 per function", at.params);
    wb_free(&b);
    at = function_of(&b, 0, 1001, 0);
    ck_assert_fails(&b, SIMD, WASM_ERR_RESOURCE,
                    "too many results: 1001, the limit is 1000 per function", at.results);
    wb_free(&b);
}
END_TEST

/* ---- element and data segments ---------------------------------------------------------- */

START_TEST(element_segment_kinds)
{
    wb b = {0};
    wb_header(&b);
    wb_sec(&b, 1, 1, 0x60, 0, 0);
    wb_sec(&b, 3, 2, 0, 0);
    wb_sec(&b, 4, 2, 0x70, 0, 10, 0x6f, 0, 1);
    size_t elems = wb_sec(&b, 9, 9,
                          0, 0x41, 0, 0x0b, 1, 0,                  /* 0: active, table 0 */
                          1, 0, 1, 1,                              /* 1: passive */
                          2, 0, 0x41, 1, 0x0b, 0, 2, 0, 1,         /* 2: active, table index */
                          3, 0, 1, 0,                              /* 3: declarative */
                          4, 0x41, 2, 0x0b, 1, 0xd2, 1, 0x0b,      /* 4: active, expressions */
                          5, 0x70, 2, 0xd0, 0x70, 0x0b, 0xd2, 0, 0x0b, /* 5: passive, exprs */
                          6, 1, 0x41, 0, 0x0b, 0x6f, 1, 0xd0, 0x6f, 0x0b, /* 6: table 1 */
                          7, 0x70, 1, 0xd2, 1, 0x0b,               /* 7: declarative, exprs */
                          5, 0x6f, 1, 0xd0, 0x6f, 0x0b);           /* passive externref */
    wb_sec(&b, 10, 2, 2, 0, 0x0b, 2, 0, 0x0b);
    wasm_module *m = decode(&b, SIMD);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert(wasm_validate(m, &err));
    ck_assert_uint_eq(m->nelems, 9);

    static const struct {
        uint8_t mode, type;
        uint32_t table, count, offset;
        uint8_t item; /* the first item's kind */
        uint32_t pos; /* of the segment, in the section */
    } want[] = {
        {WASM_SEG_ACTIVE, WASM_FUNCREF, 0, 1, 0, WASM_CONST_REF_FUNC, 1},
        {WASM_SEG_PASSIVE, WASM_FUNCREF, 0, 1, 0, WASM_CONST_REF_FUNC, 7},
        {WASM_SEG_ACTIVE, WASM_FUNCREF, 0, 2, 1, WASM_CONST_REF_FUNC, 11},
        {WASM_SEG_DECLARATIVE, WASM_FUNCREF, 0, 1, 0, WASM_CONST_REF_FUNC, 20},
        {WASM_SEG_ACTIVE, WASM_FUNCREF, 0, 1, 2, WASM_CONST_REF_FUNC, 24},
        {WASM_SEG_PASSIVE, WASM_FUNCREF, 0, 2, 0, WASM_CONST_REF_NULL, 32},
        {WASM_SEG_ACTIVE, WASM_EXTERNREF, 1, 1, 0, WASM_CONST_REF_NULL, 41},
        {WASM_SEG_DECLARATIVE, WASM_FUNCREF, 0, 1, 0, WASM_CONST_REF_FUNC, 51},
        {WASM_SEG_PASSIVE, WASM_EXTERNREF, 0, 1, 0, WASM_CONST_REF_NULL, 57},
    };
    for (uint32_t i = 0; i < 9; i++) {
        const wasm_elem *e = &m->elems[i];
        ck_assert_msg(e->mode == want[i].mode, "segment %u: mode %u", i, e->mode);
        ck_assert_msg(e->type == want[i].type, "segment %u: type %#x", i, e->type);
        ck_assert_uint_eq(e->count, want[i].count);
        ck_assert_uint_eq(e->items[0].kind, want[i].item);
        ck_assert_uint_eq(e->pos, elems + want[i].pos);
        if (e->mode == WASM_SEG_ACTIVE) {
            ck_assert_uint_eq(e->table, want[i].table);
            ck_assert_uint_eq(e->offset.kind, WASM_CONST_I32);
            ck_assert_uint_eq(e->offset.u.i32, want[i].offset);
        }
    }
    ck_assert_uint_eq(m->elems[2].items[1].u.index, 1);
    ck_assert_uint_eq(m->elems[4].items[0].u.index, 1);
    ck_assert_uint_eq(m->elems[5].items[0].type, WASM_FUNCREF);
    ck_assert_uint_eq(m->elems[5].items[1].u.index, 0);
    ck_assert_uint_eq(m->elems[8].items[0].type, WASM_EXTERNREF);
    wasm_module_free(m);
    wb_free(&b);
}
END_TEST

START_TEST(element_segment_errors)
{
    static const struct {
        bool table;
        uint8_t contents[12];
        size_t n;
        int kind;
        const char *message;
        uint64_t offset;
    } cases[] = {
#define E(table, kind, message, offset, ...) \
    {table, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__}), kind, message, offset}
        E(true, MALFORMED, "malformed elements segment kind", 1, 1, 8, 0, 0),
        E(true, MALFORMED, "malformed elements segment kind", 2, 1, 1, 1, 0),
        E(true, MALFORMED, "malformed elements segment kind", 6, 1, 2, 0, 0x41, 0, 0x0b, 1, 0),
        E(true, MALFORMED, "malformed reference type", 2, 1, 5, 0x7f, 0),
        E(true, INVALID, "type mismatch", 2, 1, 6, 0, 0x41, 0, 0x0b, 0x6f, 1, 0xd0, 0x6f, 0x0b),
        E(false, INVALID, "unknown table 0", 2, 1, 0, 0x41, 0, 0x0b, 0),
        E(true, INVALID, "unknown table 3", 2, 1, 2, 3, 0x41, 0, 0x0b, 0, 0),
        E(true, INVALID, "type mismatch", 8, 1, 4, 0x41, 0, 0x0b, 1, 0x41, 0, 0x0b),
        E(true, INVALID, "constant expression required", 6, 1, 4, 0x41, 0, 0x0b, 1, 0x20, 0, 0x0b),
        E(true, INVALID, "unknown function 9", 6, 1, 0, 0x41, 0, 0x0b, 1, 9),
        E(true, INVALID, "type mismatch", 4, 1, 0, 0x42, 0, 0x0b, 0), /* i64 offset */
#undef E
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wb b = {0};
        wb_header(&b);
        wb_sec(&b, 1, 1, 0x60, 0, 0);
        wb_sec(&b, 3, 1, 0);
        if (cases[i].table)
            wb_sec(&b, 4, 1, 0x70, 0, 1);
        size_t at = wb_section(&b, 9, cases[i].contents, cases[i].n);
        wb_sec(&b, 10, 1, 2, 0, 0x0b);
        ck_assert_fails(&b, SIMD, cases[i].kind, cases[i].message, at + cases[i].offset);
        wb_free(&b);
    }
}
END_TEST

START_TEST(data_segment_kinds)
{
    wb b = {0};
    wb_header(&b);
    wb_sec(&b, 5, 1, 0, 1);
    size_t data = wb_sec(&b, 11, 3,
                         0, 0x41, 0, 0x0b, 2, 'h', 'i',
                         1, 3, 'a', 'b', 'c',
                         2, 0, 0x41, 8, 0x0b, 0);
    wasm_module *m = decode(&b, SIMD);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert_uint_eq(m->ndatas, 3);
    ck_assert_uint_eq(m->datas[0].mode, WASM_SEG_ACTIVE);
    ck_assert_uint_eq(m->datas[0].memory, 0);
    ck_assert_uint_eq(m->datas[0].offset.kind, WASM_CONST_I32);
    ck_assert_uint_eq(m->datas[0].offset.u.i32, 0);
    ck_assert_uint_eq(m->datas[0].size, 2);
    ck_assert_uint_eq(m->datas[0].bytes, data + 6);
    ck_assert_uint_eq(m->datas[0].pos, data + 1);
    ck_assert_uint_eq(m->datas[1].mode, WASM_SEG_PASSIVE);
    ck_assert_uint_eq(m->datas[1].size, 3);
    ck_assert_uint_eq(m->datas[1].bytes, data + 10);
    ck_assert_int_eq(memcmp(m->bytes + m->datas[1].bytes, "abc", 3), 0);
    ck_assert_uint_eq(m->datas[2].mode, WASM_SEG_ACTIVE);
    ck_assert_uint_eq(m->datas[2].offset.u.i32, 8);
    ck_assert_uint_eq(m->datas[2].size, 0);
    ck_assert_uint_eq(m->datas[2].pos, data + 13);
    wasm_module_free(m);
    wb_free(&b);

    /* memory64: the offset of an i64 memory is an i64 */
    wb_header(&b);
    wb_sec(&b, 5, 1, 0x04, 1);
    wb_sec(&b, 11, 1, 0, 0x42, 0, 0x0b, 0);
    ck_assert_ok(&b, MEM64);
    wb_free(&b);
    wb_header(&b);
    wb_sec(&b, 5, 1, 0x04, 1);
    data = wb_sec(&b, 11, 1, 0, 0x41, 0, 0x0b, 0);
    ck_assert_fails(&b, MEM64, INVALID, "type mismatch", data + 4);
    wb_free(&b);
}
END_TEST

START_TEST(data_segment_errors)
{
    wb b = {0};
    wb_header(&b);
    wb_sec(&b, 5, 1, 0, 1);
    size_t data = wb_sec(&b, 11, 1, 3, 0);
    ck_assert_fails(&b, SIMD, MALFORMED, "malformed data segment kind", data + 1);
    wb_free(&b);

    wb_header(&b);
    data = wb_sec(&b, 11, 1, 0, 0x41, 0, 0x0b, 0);
    ck_assert_fails(&b, SIMD, INVALID, "unknown memory 0", data + 2);
    wb_free(&b);

    wb_header(&b);
    wb_sec(&b, 5, 1, 0, 1);
    data = wb_sec(&b, 11, 1, 2, 1, 0x41, 0, 0x0b, 0);
    ck_assert_fails(&b, SIMD, INVALID, "unknown memory 1", data + 2);
    wb_free(&b);

    wb_header(&b);
    wb_sec(&b, 5, 1, 0, 1);
    data = wb_sec(&b, 11, 1, 1, 5, 'a');
    ck_assert_fails(&b, SIMD, MALFORMED, "length out of bounds", data + 2);
    wb_free(&b);
}
END_TEST

/* ---- constant expressions (global initialisers) --------------------------------------- */

static const struct {
    bool import_i32, import_mut; /* an imported i32 global, immutable or mutable */
    uint8_t globals[24];
    size_t n;
    int kind;
    const char *message;
    uint64_t offset; /* in the global section's contents */
} const_cases[] = {
#define C(imp, mut, kind, message, offset, ...) \
    {imp, mut, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__}), kind, message, offset}
    C(false, false, 0, NULL, 0, 1, 0x7f, 0, 0x41, 0x7f, 0x0b),
    C(false, false, 0, NULL, 0, 1, 0x7e, 1, 0x42, 0x80, 0x7f, 0x0b),
    C(false, false, 0, NULL, 0, 1, 0x7c, 0, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x0b),
    C(false, false, 0, NULL, 0, 1, 0x6f, 0, 0xd0, 0x6f, 0x0b),
    C(false, false, 0, NULL, 0, 1, 0x7b, 0, 0xfd, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
      14, 15, 16, 0x0b),
    C(true, false, 0, NULL, 0, 1, 0x7f, 1, 0x23, 0, 0x0b),
    /* wrong number or type of values */
    C(false, false, INVALID, "type mismatch", 7, 1, 0x7f, 0, 0x41, 1, 0x41, 2, 0x0b),
    C(false, false, INVALID, "type mismatch", 5, 1, 0x7f, 0, 0x42, 0, 0x0b),
    C(false, false, INVALID, "type mismatch", 3, 1, 0x7f, 0, 0x0b),
    C(false, false, INVALID, "type mismatch", 5, 1, 0x6f, 0, 0xd0, 0x70, 0x0b),
    C(true, false, INVALID, "type mismatch", 5, 1, 0x7e, 0, 0x23, 0, 0x0b),
    /* not constant */
    C(false, false, INVALID, "constant expression required", 7, 1, 0x7f, 0, 0x41, 1, 0x41, 2, 0x6a,
      0x0b),
    C(false, false, INVALID, "constant expression required", 3, 1, 0x7f, 0, 0x20, 0, 0x0b),
    C(false, false, INVALID, "constant expression required", 3, 1, 0x7b, 0, 0xfd, 0x0f, 0x0b),
    C(true, true, INVALID, "constant expression required", 3, 1, 0x7f, 0, 0x23, 0, 0x0b),
    /* Wasm 2.0: only imported globals */
    C(false, false, INVALID, "unknown global 0", 9, 2, 0x7f, 0, 0x41, 0, 0x0b, 0x7f, 0, 0x23, 0,
      0x0b),
    C(true, false, INVALID, "unknown global 1", 4, 1, 0x7f, 0, 0x23, 1, 0x0b),
    C(false, false, INVALID, "unknown function 0", 4, 1, 0x70, 0, 0xd2, 0, 0x0b),
    /* malformed, even after something invalid */
    C(false, false, MALFORMED, "illegal opcode", 3, 1, 0x7f, 0, 0x06, 0x0b),
    C(false, false, MALFORMED, "illegal opcode", 4, 1, 0x7f, 0, 0x6a, 0x27, 0x0b),
    C(false, false, MALFORMED, "malformed mutability", 2, 1, 0x7f, 2, 0x41, 0, 0x0b),
    C(false, false, MALFORMED, "malformed reference type", 4, 1, 0x70, 0, 0xd0, 0x7f, 0x0b),
    C(false, false, MALFORMED, "integer too large", 8, 1, 0x7f, 0, 0x41, 0x80, 0x80, 0x80, 0x80,
      0x10, 0x0b),
    C(false, false, MALFORMED, SEC_END, 5, 1, 0x7f, 0, 0x41, 0),
#undef C
};

START_TEST(constant_expressions)
{
    wb b = {0};
    wb_header(&b);
    if (const_cases[_i].import_i32)
        wb_sec(&b, 2, 1, 1, 'm', 1, 'g', 3, 0x7f, const_cases[_i].import_mut);
    size_t at = wb_section(&b, 6, const_cases[_i].globals, const_cases[_i].n);
    check(&b, SIMD);
    if (const_cases[_i].kind == 0)
        ck_assert_no_error();
    else
        ck_assert_err(const_cases[_i].kind, const_cases[_i].message, at + const_cases[_i].offset);
    wb_free(&b);
}
END_TEST

START_TEST(constant_values)
{
    wb b = {0};
    wb_header(&b);
    wb_sec(&b, 2, 1, 1, 'm', 1, 'g', 3, 0x7f, 0);
    size_t g = wb_sec(&b, 6, 3, 0x7f, 0, 0x41, 0x80, 0x80, 0x80, 0x80, 0x78, 0x0b,
                      0x7e, 0, 0x42, 0x7f, 0x0b, 0x7f, 0, 0x23, 0, 0x0b);
    wasm_module *m = decode(&b, SIMD);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert_uint_eq(m->globals[1].init.kind, WASM_CONST_I32);
    ck_assert_uint_eq(m->globals[1].init.u.i32, 0x80000000u);
    ck_assert_uint_eq(m->globals[1].init.offset, g + 3);
    ck_assert_uint_eq(m->globals[2].init.kind, WASM_CONST_I64);
    ck_assert_uint_eq(m->globals[2].init.u.i64, UINT64_MAX);
    ck_assert_uint_eq(m->globals[3].init.kind, WASM_CONST_GLOBAL_GET);
    ck_assert_uint_eq(m->globals[3].init.u.index, 0);
    wasm_module_free(m);
    wb_free(&b);

    /* SIMD off: v128 globals are unsupported, not malformed */
    wb_header(&b);
    g = wb_sec(&b, 6, 1, 0x7b, 0, 0xfd, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
               0x0b);
    ck_assert_fails(&b, 0, WASM_ERR_UNSUPPORTED, "unsupported: SIMD (v128) is disabled", g + 1);
    wb_free(&b);
}
END_TEST

/* ---- start ---------------------------------------------------------------------------------- */

START_TEST(start_function)
{
    wb b = {0};
    size_t start = 0;
#define START_MODULE(...)                                         \
    do {                                                          \
        wb_free(&b);                                              \
        wb_header(&b);                                            \
        wb_sec(&b, 1, 2, 0x60, 0, 0, 0x60, 1, 0x7f, 0);           \
        wb_sec(&b, 3, 2, 0, 1);                                   \
        start = wb_sec(&b, 8, __VA_ARGS__);                       \
        wb_sec(&b, 10, 2, 2, 0, 0x0b, 2, 0, 0x0b);                \
    } while (0)
    START_MODULE(0);
    wasm_module *m = decode(&b, SIMD);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert(m->has_start);
    ck_assert_uint_eq(m->start, 0);
    wasm_module_free(m);
    START_MODULE(1);
    ck_assert_fails(&b, SIMD, INVALID, "start function must take no parameters and return nothing",
                    start);
    START_MODULE(5);
    ck_assert_fails(&b, SIMD, INVALID, "unknown function 5", start);
    START_MODULE(0x80, 0x80, 0x80, 0x80, 0x10);
    ck_assert_fails(&b, SIMD, MALFORMED, "integer too large", start + 4);
#undef START_MODULE
    wb_free(&b);

    MODULE(&b, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 8, 1, 0, 8, 1, 0, 10, 4, 1, 2, 0, 0x0b);
    ck_assert_fails(&b, SIMD, MALFORMED, "unexpected content after last section", 21);
    wb_free(&b);

    /* no start section */
    MODULE(&b, 1, 4, 1, 0x60, 0, 0);
    m = decode(&b, SIMD);
    ck_assert(!m->has_start);
    wasm_module_free(m);
    wb_free(&b);
}
END_TEST

/* ---- precedence ------------------------------------------------------------------------------- */

/* A module is malformed if any part fails to decode, even when an earlier
 * part is also invalid: a malformed function body outweighs an unknown
 * type in the function section. */
START_TEST(malformed_body_outweighs_invalid_section)
{
    wb b = {0};
    wb_header(&b);
    wb_sec(&b, 1, 1, 0x60, 0, 0);
    wb_sec(&b, 3, 1, 5); /* unknown type 5 */
    size_t code = wb_sec(&b, 10, 1, 3, 0, 0x06, 0x0b);
    ck_assert_fails(&b, SIMD, MALFORMED, "illegal opcode", code + 3);
    wb_free(&b);
}
END_TEST

/* ---- big inputs ----------------------------------------------------------------------------- */

START_TEST(many_functions)
{
    enum { N = 100000, BODY = 40 };
    wb b = {0}, funcs = {0}, code = {0};
    wb_u32(&funcs, N);
    wb_u32(&code, N);
    for (int i = 0; i < N; i++) {
        wb_byte(&funcs, 0);
        wb_u32(&code, BODY);
        wb_byte(&code, 0); /* no locals */
        for (int k = 0; k < BODY - 2; k++)
            wb_byte(&code, 0x01); /* nop */
        wb_byte(&code, 0x0b);
    }
    wb_header(&b);
    wb_sec(&b, 1, 1, 0x60, 0, 0);
    wb_section(&b, 3, funcs.data, funcs.len);
    wb_section(&b, 10, code.data, code.len);
    ck_assert_uint_gt(b.len, 4000000);

    wasm_module *m = decode(&b, SIMD);
    ck_assert_msg(m != NULL, "%s", err.message);
    ck_assert_uint_eq(m->nfuncs, N);
    ck_assert_uint_eq(m->funcs[N - 1].body_end, b.len);
    ck_assert_uint_eq(m->funcs[N - 1].body, b.len - BODY + 1);
    ck_assert_msg(wasm_validate(m, &err), "%s", err.message);
    wasm_module_free(m);
    wb_free(&funcs);
    wb_free(&code);
    wb_free(&b);
}
END_TEST

/* A count of 2^32 - 1 with a few bytes left must run out of input, not
 * allocate room for the count. The data segment is limited while decoding,
 * so an allocation sized by the count would fail ("out of memory"). */
static const struct {
    const char *what;
    uint8_t bytes[40]; /* after the header */
    size_t n;
} huge_counts[] = {
#define H(what, ...) {what, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})}
#define HUGE 0xff, 0xff, 0xff, 0xff, 0x0f
#define TYPE 1, 4, 1, 0x60, 0, 0
    H("types", 1, 8, HUGE, 0x60, 0, 0),
    H("parameters", 1, 9, 1, 0x60, HUGE, 0x7f, 0x7f),
    H("results", 1, 9, 1, 0x60, 0, HUGE, 0x7f),
    H("imports", TYPE, 2, 11, HUGE, 1, 'm', 1, 'f', 0, 0),
    H("functions", TYPE, 3, 7, HUGE, 0, 0),
    H("tables", 4, 8, HUGE, 0x70, 0, 1),
    H("memories", 5, 7, HUGE, 0, 1),
    H("globals", 6, 10, HUGE, 0x7f, 0, 0x41, 0, 0x0b),
    H("exports", 7, 9, HUGE, 1, 'a', 0, 0),
    H("element segments", 9, 8, HUGE, 1, 0, 0),
    H("element items", 9, 9, 1, 1, 0, HUGE, 0),
    H("data segments", 11, 7, HUGE, 1, 0),
    H("code entries", TYPE, 3, 2, 1, 0, 10, 8, HUGE, 2, 0, 0x0b),
    H("locals", TYPE, 3, 2, 1, 0, 10, 9, 1, 7, HUGE, 1, 0x7f),
#undef TYPE
#undef HUGE
#undef H
};

/* The process's data size in bytes (VmData), or 0 if unknown. */
static uint64_t data_in_use(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmData: %llu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return (uint64_t)kb * 1024;
}

START_TEST(huge_vector_counts)
{
    wb b = {0};
    wb_header(&b);
    wb_put(&b, huge_counts[_i].bytes, huge_counts[_i].n);

    /* At most 512 MiB more data than now (sanitizers map a lot up front). */
    struct rlimit old, limit;
    ck_assert_int_eq(getrlimit(RLIMIT_DATA, &old), 0);
    limit = old;
    uint64_t in_use = data_in_use();
    if (in_use && old.rlim_cur == RLIM_INFINITY)
        limit.rlim_cur = in_use + (512ull << 20);
    ck_assert_int_eq(setrlimit(RLIMIT_DATA, &limit), 0);
    check(&b, SIMD);
    ck_assert_int_eq(setrlimit(RLIMIT_DATA, &old), 0);

    ck_assert_msg(err.kind == MALFORMED && strcmp(err.message, SEC_END) == 0 && err.offset == b.len,
                  "%s: %s \"%s\" at %llu, expected \"" SEC_END "\" at %zu", huge_counts[_i].what,
                  unit_kind_name(err.kind), err.message, (unsigned long long)err.offset, b.len);
    wb_free(&b);
}
END_TEST

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("sections");
    tcase_add_test(tc, header);
    tcase_add_test(tc, section_ids_and_order);
    tcase_add_test(tc, section_sizes);
    tcase_add_test(tc, custom_sections_anywhere);
    tcase_add_test(tc, many_custom_sections);
    tcase_add_test(tc, custom_section_errors);
    tcase_add_test(tc, custom_section_past_the_end);
    tcase_add_test(tc, name_section);
    tcase_add_loop_test(tc, malformed_name_section_dropped, 0, COUNT(bad_names));
    suite_add_tcase(s, tc);

    tc = tcase_create("entities");
    tcase_add_test(tc, imports_of_all_kinds);
    tcase_add_test(tc, import_errors);
    tcase_add_test(tc, exports);
    tcase_add_test(tc, export_errors);
    tcase_add_loop_test(tc, limits, 0, COUNT(limits_cases));
    tcase_add_test(tc, limits_values);
    tcase_add_test(tc, data_count);
    tcase_add_test(tc, function_and_code_counts);
    tcase_add_test(tc, too_many_locals);
    tcase_add_test(tc, unsupported_proposals);
    tcase_add_test(tc, function_limits);
    tcase_add_test(tc, element_segment_kinds);
    tcase_add_test(tc, element_segment_errors);
    tcase_add_test(tc, data_segment_kinds);
    tcase_add_test(tc, data_segment_errors);
    tcase_add_loop_test(tc, constant_expressions, 0, COUNT(const_cases));
    tcase_add_test(tc, constant_values);
    tcase_add_test(tc, start_function);
    tcase_add_test(tc, malformed_body_outweighs_invalid_section);
    suite_add_tcase(s, tc);

    tc = tcase_create("big inputs");
    tcase_set_timeout(tc, 300); /* generous, for valgrind */
    tcase_add_test(tc, many_functions);
    tcase_add_loop_test(tc, huge_vector_counts, 0, COUNT(huge_counts));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(decode_suite());
}
