/* Tool results an agent trusts byte for byte: file reads (it copies them
 * into edits) and the results of edits, by tool name, and shell commands
 * that print a file. Those are never cut. */
#include "compress/compress_internal.h"

#include <stdlib.h>
#include <string.h>

/* Hermes; Claude Code; Codex CLI; OpenCode, Cline, Cursor and editors' MCP tools. */
static const char *const DEFAULT_EXACT[] = {
    "read_file",
    "patch",
    "write_file",
    "Read",
    "Edit",
    "MultiEdit",
    "Write",
    "NotebookRead",
    "NotebookEdit",
    "apply_patch",
    "read",
    "edit",
    "write",
    "view",
    "edit_file",
    "write_to_file",
    "replace_in_file",
    "str_replace_editor",
    "str_replace_based_edit_tool",
};

static int word_is(const char *s, size_t n, const char *w)
{
    return n == strlen(w) && !memcmp(s, w, n);
}

/* Whether name (n bytes) is named by list ("a, +b, -c"): 1 added, -1
 * removed, 0 not there. Later entries win. */
static int listed(const char *list, const char *name, size_t n)
{
    int verdict = 0;
    for (const char *s = list; s && *s;) {
        s += strspn(s, " ,\t\n");
        size_t len = strcspn(s, " ,\t\n");
        if (!len) break;
        int sign = *s == '-' ? -1 : 1;
        const char *w = *s == '-' || *s == '+' ? s + 1 : s;
        if ((size_t)(s + len - w) == n && !memcmp(w, name, n)) verdict = sign;
        s += len;
    }
    return verdict;
}

static int exact_name(const char *name, size_t n, const char *exact_tools)
{
    int user = listed(exact_tools, name, n);
    if (user) return user > 0;
    for (size_t i = 0; i < sizeof DEFAULT_EXACT / sizeof DEFAULT_EXACT[0]; i++)
        if (word_is(name, n, DEFAULT_EXACT[i])) return 1;
    return 0;
}

/* Whether one simple command (no separators) prints a file. */
static int reads_a_file(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) { /* skip blanks, VAR=value and sudo */
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '(')) i++;
        size_t w = i;
        while (i < n && s[i] != ' ' && s[i] != '\t') i++;
        const char *word = s + w;
        size_t len = i - w;
        if (!len) return 0;
        if (memchr(word, '=', len) || word_is(word, len, "sudo") || word_is(word, len, "command")) continue;
        const char *slash = memchr(word, '/', len); /* /bin/cat */
        while (slash) {
            len -= (size_t)(slash + 1 - word);
            word = slash + 1;
            slash = memchr(word, '/', len);
        }
        if (word_is(word, len, "cat") || word_is(word, len, "nl") || word_is(word, len, "head") ||
            word_is(word, len, "tail") || word_is(word, len, "bat") || word_is(word, len, "batcat"))
            return 1;
        if (!word_is(word, len, "sed")) return 0;
        for (size_t k = i; k + 1 < n; k++) /* sed -n 'A,Bp' FILE */
            if (s[k - 1] == ' ' && s[k] == '-' && s[k + 1] == 'n' && (k + 2 == n || s[k + 2] == ' ')) return 1;
        return 0;
    }
}

/* Whether a pipeline of a shell line (split at ;, &&, || and newlines)
 * starts with a command that prints a file: "cat f | head" is a file read,
 * "grep x f | tail" is not. */
static int command_reads_file(const char *cmd, size_t n)
{
    for (size_t at = 0; at < n;) {
        size_t len = 0;
        while (at + len < n && !strchr(";&\n", cmd[at + len]) &&
               !(cmd[at + len] == '|' && at + len + 1 < n && cmd[at + len + 1] == '|'))
            len++;
        size_t first = strcspn(cmd + at, "|");
        if (reads_a_file(cmd + at, first < len ? first : len)) return 1;
        at += len + 1;
        while (at < n && (cmd[at] == '|' || cmd[at] == '&')) at++;
    }
    return 0;
}

/* The command of a shell tool's arguments: "command" or "cmd", a string or
 * an argv whose last element is the script (["bash", "-lc", "cat x"]). */
static int args_read_file(const hr_json *doc, hr_json_node args)
{
    hr_json_node cmd = hr_json_get(doc, args, "command");
    if (cmd == HR_JSON_NONE) cmd = hr_json_get(doc, args, "cmd");
    if (hr_json_type_of(doc, cmd) == HR_JSON_ARRAY) {
        hr_json_node last = HR_JSON_NONE;
        for (hr_json_node x = hr_json_first(doc, cmd); x != HR_JSON_NONE; x = hr_json_next(doc, x)) last = x;
        cmd = last;
    }
    if (hr_json_type_of(doc, cmd) != HR_JSON_STRING) return 0;
    hr_buf text = HR_BUF_INIT;
    int reads = hr_json_string_decode(doc, cmd, &text) == HR_OK && text.len && command_reads_file(text.data, text.len);
    hr_buf_free(&text);
    return reads;
}

/* Arguments as an object (Anthropic's input), or a JSON string of one
 * (Chat's and Responses' arguments). */
static int shell_read(const hr_json *doc, hr_json_node args)
{
    if (hr_json_type_of(doc, args) == HR_JSON_OBJECT) return args_read_file(doc, args);
    if (hr_json_type_of(doc, args) != HR_JSON_STRING) return 0;
    hr_buf text = HR_BUF_INIT;
    hr_json *inner = NULL;
    int reads = hr_json_string_decode(doc, args, &text) == HR_OK && text.len && hr_json_new(&inner) == HR_OK &&
                hr_json_parse(inner, text.data, text.len) == HR_OK &&
                hr_json_type_of(inner, hr_json_root(inner)) == HR_JSON_OBJECT &&
                args_read_file(inner, hr_json_root(inner));
    hr_json_free(inner);
    hr_buf_free(&text);
    return reads;
}

int hr__tool_is_exact(const hr_json *doc, hr_json_node name, hr_json_node args, const char *exact_tools)
{
    if (hr_json_type_of(doc, name) == HR_JSON_STRING) {
        hr_buf text = HR_BUF_INIT;
        int exact = hr_json_string_decode(doc, name, &text) == HR_OK &&
                    exact_name(text.data ? text.data : "", text.len, exact_tools);
        hr_buf_free(&text);
        if (exact) return 1;
    }
    return args != HR_JSON_NONE && shell_read(doc, args);
}
