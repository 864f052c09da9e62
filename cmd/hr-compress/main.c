/* hr-compress: a request body in, the same request with compressed context
 * out. Option parsing, settings, I/O and exit statuses; the work is
 * hr_compress() in libhr, the call hr-proxy makes too. */
#include "prog.h"
#include "hr_internal.h"
#include "hr.h"
#include "settings.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs("usage: hr-compress [--format auto|anthropic|openai-chat|openai-responses]\n"
          "                   [--mode cache|token] [--exact-tools LIST] [--lossless]\n"
          "                   [--protect-recent N] [--min-tokens N] [--query TEXT]\n"
          "                   [--scorer auto|lexical|kompress] [--kompress-model DIR]\n"
          "                   [--kompress-backend B] [--stats | --json-stats] [--fail-open]\n"
          "                   [--config FILE] [--max-body-bytes N] [FILE]\n"
          "Compress the context of one LLM API request body (FILE, or standard input)\n"
          "and write the request to send on standard output.\n"
          "  --format NAME        the API shape; auto (default) detects it from the body\n"
          "  --mode cache|token   cache (default): every tool result, each the same in\n"
          "                       every request, so the provider's prompt cache holds;\n"
          "                       token: the messages before the last N, again each time\n"
          "  --exact-tools LIST   tools whose results are never cut, added to the defaults\n"
          "                       (read_file, patch, Read, Edit, ...); -NAME removes one\n"
          "  --lossless           re-encode only (compact JSON, tables, grouped matches,\n"
          "                       repeated lines counted): never drop anything\n"
          "  --protect-recent N   token mode: leave the last N messages alone (default 5)\n"
          "  --min-tokens N       leave units under N tokens alone (default 500)\n"
          "  --query TEXT         the task's words (default: the user message before each\n"
          "                       tool result and its call; token mode: the latest)\n"
          "  --scorer NAME        auto (default: kompress when its model is there), lexical\n"
          "                       or kompress\n"
          "  --kompress-model DIR the Kompress model folder (default:\n"
          "                       $HEADROOM_HOME/models/kompress-v2-base)\n"
          "  --kompress-backend B where the model runs: auto (default: cuda when a GPU\n"
          "                       answers, else cpu), cpu (bf16 where the CPU has\n"
          "                       AVX-512 BF16, else fp32), cpu-fp32, cpu-bf16, cuda\n"
          "  --stats              a summary on standard error\n"
          "  --json-stats         the summary as one JSON object on standard error\n"
          "  --fail-open          on bad input, copy it to standard output unchanged\n"
          "  --config FILE        settings file (default: $HEADROOM_HOME/route.yaml)\n"
          "  --max-body-bytes N   refuse bodies larger than N bytes (default 268435456,\n"
          "                       where hr-proxy's is 33554432)\n"
          "  -h, --help           show this help;  -V, --version  show the version\n"
          "--mode, --exact-tools, --lossless, --protect-recent, --min-tokens, --scorer,\n"
          "--kompress-model, --kompress-backend and --max-body-bytes also come from\n"
          "HEADROOM_* and route.yaml, as for hr-proxy: a flag wins over the environment,\n"
          "which wins over the file (see hr-compress(1)).\n",
          out);
}

/* Reads all of fd, stopping once more than max bytes came (*too_big). */
static int read_input(int fd, size_t max, hr_buf *buf, int *too_big)
{
    char chunk[65536];
    *too_big = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return 0;
        if (hr_buf_append(buf, chunk, (size_t)n)) return ENOMEM;
        if (buf->len > max) {
            *too_big = 1;
            return 0;
        }
    }
}

/* --fail-open on a body over the limit: what was read, then the rest. */
static int pass_through(int fd, const hr_buf *head)
{
    char chunk[65536];
    int e = hr__write_all(STDOUT_FILENO, head->data, head->len);
    while (!e) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? errno : 0;
        e = hr__write_all(STDOUT_FILENO, chunk, (size_t)n);
    }
    return e;
}

/* --fail-open with a bad setting: the request as it came, and 0. */
static int copy_unchanged(const char *path)
{
    int fd = path && strcmp(path, "-") ? open(path, O_RDONLY) : STDIN_FILENO;
    if (fd < 0) return prog_fail(EX_NOINPUT, "%s: %s", path, strerror(errno));
    hr_buf none = HR_BUF_INIT;
    int e = pass_through(fd, &none);
    if (fd != STDIN_FILENO) close(fd);
    if (e) return prog_fail(EX_IOERR, "standard output: %s", strerror(e));
    return EX_OK;
}

/* "NAME:LINE:COLUMN: reason" for an error at a byte offset of the body. */
static void report_position(const char *name, const hr_buf *body, size_t offset, const char *reason)
{
    if (offset == SIZE_MAX || offset > body->len) {
        prog_msg("%s: %s", name, reason);
        return;
    }
    size_t line = 1, col = 1;
    for (size_t i = 0; i < offset; i++) {
        unsigned char c = (unsigned char)body->data[i];
        if (c == '\n') {
            line++;
            col = 1;
        } else if ((c & 0xc0) != 0x80) {
            col++;
        }
    }
    prog_msg("%s:%zu:%zu: %s", name, line, col, reason);
}

/* cli.h's table; a name hr_compress does not know (a --format) is usage. */
static int exit_for(hr_status st)
{
    return st == HR_ENOTFOUND ? EX_USAGE : prog_exit_for(st);
}

/* Bad input (65) or a scorer model that cannot load (78): that status, or
 * with --fail-open the input unchanged and exit 0, as hr-proxy does. */
static int input_error(const struct settings *s, const hr_buf *body, int status)
{
    if (!s->fail_open || (status != EX_DATAERR && status != EX_CONFIG)) return status;
    if (hr__write_all(STDOUT_FILENO, body->data ? body->data : "", body->len)) return EX_IOERR;
    return EX_OK;
}

int main(int argc, char **argv)
{
    struct settings s;
    char err[256];
    prog_init("hr-compress");
    int rc = settings_load(&s, argc, argv, err, sizeof err);
    if (rc != SETTINGS_OK) settings_free(&s);
    if (rc == SETTINGS_HELP) {
        usage(stdout);
        return EX_OK;
    }
    if (rc == SETTINGS_VERSION) {
        prog_version();
        return EX_OK;
    }
    if (rc) {
        hr__printable(err, sizeof err);
        prog_msg("%s", err);
        if (rc == SETTINGS_USAGE) fputs("Try 'hr-compress --help'.\n", stderr);
        if (rc == SETTINGS_CONFIG && s.fail_open) return copy_unchanged(s.path);
        return rc == SETTINGS_USAGE ? EX_USAGE : EX_CONFIG;
    }
    const char *name = s.path ? s.path : "stdin";
    int fd = s.path && strcmp(s.path, "-") ? open(s.path, O_RDONLY) : STDIN_FILENO;
    if (fd < 0) {
        prog_msg("%s: %s", s.path, strerror(errno));
        settings_free(&s);
        return EX_NOINPUT;
    }
    hr_buf body = HR_BUF_INIT, out = HR_BUF_INIT;
    int too_big = 0, e = read_input(fd, s.opt.max_bytes, &body, &too_big);
    int status = EX_OK;
    hr_compressor *c = NULL;
    if (e) {
        prog_msg("%s: %s", name, strerror(e));
        status = e == ENOMEM ? EX_SOFTWARE : EX_NOINPUT;
    } else if (too_big) {
        /* nothing is ever cut silently: the whole body unchanged, or an error */
        prog_msg("%s: request larger than the limit of %zu bytes (max_body_bytes)", name, s.opt.max_bytes);
        status = EX_DATAERR;
        if (s.fail_open) status = pass_through(fd, &body) ? EX_IOERR : EX_OK;
    } else if (hr_compressor_new(&c)) {
        prog_msg("out of memory");
        status = EX_SOFTWARE;
    } else {
        hr_status st = hr_compress(c, &s.opt, body.data, body.len, &out);
        const char *note = hr_compressor_scorer_note(c);
        if (note) prog_msg("%s", note);
        if (st) {
            report_position(name, &body, hr_compressor_error_offset(c), hr_compressor_errmsg(c));
            status = input_error(&s, &body, exit_for(st));
        } else {
            if (hr__write_all(STDOUT_FILENO, out.data ? out.data : "", out.len)) {
                prog_msg("standard output: %s", strerror(errno));
                status = EX_IOERR;
            }
            if (s.stats == STATS_HUMAN) print_stats_human(c, name);
            if (s.stats == STATS_JSON) print_stats_json(c);
        }
    }
    if (fd != STDIN_FILENO) close(fd);
    hr_compressor_free(c);
    hr_buf_free(&body);
    hr_buf_free(&out);
    settings_free(&s);
    return status;
}
