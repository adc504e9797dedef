/* Shared by the Check suites in tests/unit. */
#ifndef WJ_TESTS_UNIT_H
#define WJ_TESTS_UNIT_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmjail.h>

/* Error kinds by name, for failure messages: the src/wasm numbering
 * (none, malformed, invalid, unsupported, resource), which wj_error_kind
 * shares from 1 on. */
static inline const char *unit_kind_name(int kind)
{
    static const char *const names[] = {"ok", "malformed", "invalid", "unsupported", "resource"};
    return kind >= 0 && kind <= 4 ? names[kind] : "?";
}

/* One assertion on an error's kind, message prefix and byte offset. */
#define ck_assert_error_is(kind, message, offset, want_kind, want_prefix, want_offset)           \
    do {                                                                                       \
        int k_ = (kind);                                                                       \
        const char *m_ = (message);                                                            \
        uint64_t o_ = (offset), wo_ = (want_offset);                                           \
        const char *wp_ = (want_prefix);                                                       \
        ck_assert_msg(k_ == (want_kind) && strncmp(m_, wp_, strlen(wp_)) == 0 && o_ == wo_,    \
                      "expected %s \"%s...\" at offset %llu, got %s \"%s\" at offset %llu",    \
                      unit_kind_name(want_kind), wp_, (unsigned long long)wo_,                 \
                      unit_kind_name(k_), m_, (unsigned long long)o_);                         \
    } while (0)

/* Runs the suite; the exit status for make check. */
static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Runs the suite once per compilation strategy, *strategy set to each
 * (the suite's engines compile with it): both tiers pass the same tests. */
static inline int unit_run_tiers(Suite *(*make_suite)(void), wj_strategy *strategy)
{
    static const wj_strategy tiers[] = {WJ_STRATEGY_BASELINE, WJ_STRATEGY_OPTIMIZED};
    int status = EXIT_SUCCESS;
    for (size_t i = 0; i < sizeof tiers / sizeof *tiers; i++) {
        *strategy = tiers[i];
        printf("tier: %s\n", tiers[i] == WJ_STRATEGY_OPTIMIZED ? "optimized" : "baseline");
        fflush(stdout);
        if (unit_run(make_suite()) != EXIT_SUCCESS)
            status = EXIT_FAILURE;
    }
    return status;
}

#endif
