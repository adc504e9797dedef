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

/* How a suite's engines compile: a strategy and, tiered, the budget (0:
 * every function and loop moves to the optimizing tier at once). */
typedef struct unit_tier {
    const char *name;
    wj_strategy strategy;
    uint32_t budget;
} unit_tier;

static inline void unit_configure_tier(wj_config *config, const unit_tier *tier)
{
    wj_config_set_strategy(config, tier->strategy);
    wj_config_set_tier_up_budget(config, tier->budget);
}

/* Runs the suite once per way of compiling, *tier set to each (the
 * suite's engines compile with it): every tier passes the same tests. */
static inline int unit_run_tiers(Suite *(*make_suite)(void), unit_tier *tier)
{
    static const unit_tier tiers[] = {{"baseline", WJ_STRATEGY_BASELINE, 0},
                                      {"optimized", WJ_STRATEGY_OPTIMIZED, 0},
                                      {"tiered, eager", WJ_STRATEGY_TIERED, 0}};
    int status = EXIT_SUCCESS;
    for (size_t i = 0; i < sizeof tiers / sizeof *tiers; i++) {
        *tier = tiers[i];
        printf("tier: %s\n", tier->name);
        fflush(stdout);
        if (unit_run(make_suite()) != EXIT_SUCCESS)
            status = EXIT_FAILURE;
    }
    return status;
}

#endif
