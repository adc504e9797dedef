/* The --features option: a comma-separated list of feature names, each
 * optionally prefixed with "no-" to turn it off. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    wj_feature feature;
} features[] = {
    {"memory64", WJ_FEATURE_MEMORY64},
    {"multi-memory", WJ_FEATURE_MULTI_MEMORY},
    {"simd", WJ_FEATURE_SIMD},
};

const char cli_feature_names[] = "memory64, multi-memory, simd";

/* Applies one name of `len` bytes (not NUL-terminated inside the list). */
static bool apply_feature(wj_config *config, const char *name, size_t len)
{
    bool enable = true;
    const char *base = name;
    size_t base_len = len;
    if (len > 3 && memcmp(name, "no-", 3) == 0) {
        enable = false;
        base += 3;
        base_len -= 3;
    }
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
        if (strlen(features[i].name) == base_len && memcmp(features[i].name, base, base_len) == 0) {
            wj_config_set_feature(config, features[i].feature, enable);
            return true;
        }
    }
    if (len == 0) {
        cli_usage_error("--features: empty feature name in list");
    } else {
        char *shown = cli_escape(name, len);
        cli_usage_error("--features: unknown feature '%s' (known: %s, each with an optional no- prefix)",
                        shown ? shown : "?", cli_feature_names);
        free(shown);
    }
    return false;
}

bool cli_parse_features(wj_config *config, const char *list)
{
    for (;;) {
        const char *comma = strchr(list, ',');
        size_t len = comma ? (size_t)(comma - list) : strlen(list);
        if (!apply_feature(config, list, len))
            return false;
        if (comma == NULL)
            return true;
        list = comma + 1;
    }
}
