/* Which encoding counts tokens for which model. */
#include "hr.h"

#include <string.h>

/* Claude's tokenizer is not published. Counts for claude-* models are
 * cl100k_base counts times this margin, rounded up; man/hr-count.1 (CLAUDE
 * ESTIMATE) says what it is and is not based on. */
#define CLAUDE_FACTOR 1.10

struct model_rule {
    const char *prefix;
    const char *encoding;
    double factor;
};

/* The longest matching prefix wins, so "gpt-4o" beats "gpt-4". */
static const struct model_rule rules[] = {
    {"gpt-5", "o200k_base", 0},
    {"gpt-4.1", "o200k_base", 0},
    {"gpt-4.5", "o200k_base", 0},
    {"gpt-4o", "o200k_base", 0},
    {"chatgpt-4o", "o200k_base", 0},
    {"gpt-oss", "o200k_base", 0},
    {"codex-", "o200k_base", 0},
    {"o1", "o200k_base", 0},
    {"o3", "o200k_base", 0},
    {"o4", "o200k_base", 0},
    {"gpt-4", "cl100k_base", 0},
    {"gpt-3.5", "cl100k_base", 0},
    {"gpt-35", "cl100k_base", 0},
    {"text-embedding-3", "cl100k_base", 0},
    {"text-embedding-ada-002", "cl100k_base", 0},
    {"claude", "cl100k_base", CLAUDE_FACTOR},
};

hr_status hr_model_lookup(const char *model, hr_model_encoding *out)
{
    if (!model || !out) return HR_EINVAL;
    /* "openai/gpt-4o", "anthropic/claude-sonnet-4": the part after the last '/' */
    const char *slash = strrchr(model, '/');
    if (slash) model = slash + 1;
    const struct model_rule *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        size_t len = strlen(rules[i].prefix);
        if (len > best_len && !strncmp(model, rules[i].prefix, len)) {
            best = &rules[i];
            best_len = len;
        }
    }
    if (!best) return HR_ENOTFOUND;
    out->encoding = best->encoding;
    out->is_estimate = best->factor > 0;
    out->estimate_factor = best->factor > 0 ? best->factor : 1.0;
    return HR_OK;
}
