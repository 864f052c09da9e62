/* hr-count: token counts and ids of text or of API request bodies. Option
 * parsing, I/O and exit statuses only; the work is libhr's. */
#include "prog.h"
#include "hr_internal.h"
#include "hr.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_ENCODING "o200k_base"

enum mode { MODE_AUTO, MODE_TEXT, MODE_MESSAGES };

struct options {
    const char *encoding; /* -e */
    const char *model;    /* -m */
    int ids, json, allow_special;
    enum mode mode;
};

struct state {
    struct options opt;
    hr_tokenizer *toks[2]; /* cl100k_base, o200k_base, made on first use */
    hr_json *doc;
    size_t total;
};

static void usage(FILE *out)
{
    fputs("usage: hr-count [-e ENCODING | -m MODEL] [--ids] [--allow-special] [--json]\n"
          "                [--messages | --text] [FILE...]\n"
          "Count the tokens of each FILE (standard input when none or '-').\n"
          "  -e, --encoding NAME  cl100k_base or o200k_base (default: o200k_base, or the\n"
          "                       encoding of a request's \"model\")\n"
          "  -m, --model NAME     the encoding of model NAME (claude-*: an estimate)\n"
          "      --ids            print token ids instead of counts, one line per input\n"
          "      --allow-special  encode special-token strings such as <|endoftext|>\n"
          "      --json           print JSON: per-message counts for requests\n"
          "      --messages       read each input as an API request body\n"
          "      --text           read each input as text, even if it is a request\n"
          "  -h, --help           show this help;  -V, --version  show the version\n",
          out);
}

static int read_all(const char *path, hr_buf *buf)
{
    int fd = strcmp(path, "-") ? open(path, O_RDONLY) : STDIN_FILENO;
    if (fd < 0) return errno;
    int err = hr__read_fd(fd, buf);
    if (fd != STDIN_FILENO) close(fd);
    return err;
}

static hr_tokenizer *tokenizer_for(struct state *s, const char *encoding)
{
    int slot = !strcmp(encoding, "o200k_base");
    if (!s->toks[slot] && hr_tokenizer_new(encoding, &s->toks[slot])) return NULL;
    return s->toks[slot];
}

static size_t estimated(size_t n, const hr_model_encoding *me)
{
    return me->is_estimate ? (size_t)ceil((double)n * me->estimate_factor) : n;
}

static void print_json_head(const char *path, const char *encoding, const char *model, const hr_model_encoding *me)
{
    fputs("{\"file\":", stdout);
    prog_json_string(stdout, path);
    printf(",\"encoding\":\"%s\"", encoding);
    if (model && *model) {
        fputs(",\"model\":", stdout);
        prog_json_string(stdout, model);
    }
    printf(",\"estimate\":%s", me->is_estimate ? "true" : "false");
    if (me->is_estimate) printf(",\"estimate_factor\":%.2f", me->estimate_factor);
}

/* How to count: -e, else -m, else the request's model, else the default. */
static const char *choose_encoding(const struct options *o, const char *request_model, hr_model_encoding *me)
{
    me->is_estimate = 0;
    me->estimate_factor = 1.0;
    if (o->encoding) return o->encoding;
    const char *model = o->model ? o->model : request_model;
    if (model && *model && hr_model_lookup(model, me) == HR_OK) return me->encoding;
    return DEFAULT_ENCODING;
}

static int count_request(struct state *s, const char *path, hr_format format)
{
    hr_buf model = HR_BUF_INIT;
    hr_model_encoding me;
    int rc = 0;
    if (hr_request_model(s->doc, &model)) {
        hr_buf_free(&model);
        return prog_fail(EX_SOFTWARE, "%s: out of memory", path);
    }
    const char *shown_model = s->opt.model ? s->opt.model : model.data;
    const char *encoding = choose_encoding(&s->opt, model.data, &me);
    hr_request_counts *rc_counts = NULL;
    hr_status st = hr_request_count(tokenizer_for(s, encoding), s->doc, format, &rc_counts);
    if (st) {
        prog_msg("%s: %s", path, hr_strerror(st));
        rc = prog_exit_for(st);
    } else if (s->opt.json) {
        print_json_head(path, encoding, shown_model, &me);
        printf(",\"format\":\"%s\",\"system\":%zu,\"tools\":%zu,\"messages\":[", hr_format_name(format),
               estimated(hr_request_counts_system(rc_counts), &me), estimated(hr_request_counts_tools(rc_counts), &me));
        for (size_t i = 0; i < hr_request_counts_messages(rc_counts); i++) {
            const char *role;
            size_t tokens;
            hr_request_counts_message(rc_counts, i, &role, &tokens);
            printf("%s{\"index\":%zu,\"role\":", i ? "," : "", i);
            prog_json_string(stdout, role);
            printf(",\"tokens\":%zu}", estimated(tokens, &me));
        }
        printf("],\"total\":%zu}\n", estimated(hr_request_counts_total(rc_counts), &me));
    }
    if (!st) s->total += estimated(hr_request_counts_total(rc_counts), &me);
    if (!st && !s->opt.json) printf("%zu", estimated(hr_request_counts_total(rc_counts), &me));
    hr_request_counts_free(rc_counts);
    hr_buf_free(&model);
    if (rc) return rc;
    return s->opt.json ? 0 : -1; /* -1: counted, caller finishes the plain line */
}

static int count_text(struct state *s, const char *path, const hr_buf *in)
{
    hr_model_encoding me;
    const char *encoding = choose_encoding(&s->opt, NULL, &me);
    hr_tokenizer *tok = tokenizer_for(s, encoding);
    unsigned flags = s->opt.allow_special ? HR_ALLOW_SPECIAL : 0;
    size_t n = 0;
    hr_status st;
    if (s->opt.ids) {
        uint32_t *ids = malloc((in->len + 1) * sizeof *ids); /* never more ids than bytes */
        st = ids ? hr_tokenizer_encode(tok, in->data, in->len, flags, ids, in->len + 1, &n) : HR_ENOMEM;
        for (size_t i = 0; !st && i < n; i++) printf(i ? " %u" : "%u", ids[i]);
        if (!st) putchar('\n');
        free(ids);
    } else {
        st = hr_tokenizer_count(tok, in->data, in->len, flags, &n);
    }
    if (st) return prog_fail(prog_exit_for(st), "%s: %s", path, hr_strerror(st));
    n = estimated(n, &me);
    s->total += n;
    if (s->opt.ids) return 0;
    if (s->opt.json) {
        print_json_head(path, encoding, s->opt.model, &me);
        printf(",\"tokens\":%zu}\n", n);
        return 0;
    }
    printf("%zu", n);
    return -1;
}

static int looks_like_json_object(const hr_buf *in)
{
    for (size_t i = 0; i < in->len; i++) {
        char c = in->data[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return c == '{';
    }
    return 0;
}

/* Counts one input; returns 0 or the exit status of its error: 66 when it
 * cannot be read, 65 when --messages finds no request. */
static int count_input(struct state *s, const char *path, int several)
{
    hr_buf in = HR_BUF_INIT;
    int err = read_all(path, &in), rc;
    if (err) {
        hr_buf_free(&in);
        return prog_fail(err == ENOMEM ? EX_SOFTWARE : EX_NOINPUT, "%s: %s", strcmp(path, "-") ? path : "<stdin>",
                         strerror(err));
    }
    hr_format format = HR_FORMAT_UNKNOWN;
    int as_request =
        !s->opt.ids && s->opt.mode != MODE_TEXT && (s->opt.mode == MODE_MESSAGES || looks_like_json_object(&in));
    if (as_request) {
        hr_status st = hr_json_parse(s->doc, in.data, in.len);
        if (!st) format = hr_request_detect(s->doc);
        if (s->opt.mode == MODE_MESSAGES && (st || format == HR_FORMAT_UNKNOWN)) {
            prog_msg("%s: %s", path,
                     st ? hr_json_errmsg(s->doc) : "not an Anthropic, OpenAI Chat or Responses request");
            hr_buf_free(&in);
            return st == HR_ENOMEM ? EX_SOFTWARE : EX_DATAERR;
        }
    }
    if (format != HR_FORMAT_UNKNOWN) rc = count_request(s, path, format);
    else rc = count_text(s, path, &in);
    if (rc == -1) { /* finish the plain "N" or "N FILE" line */
        if (several) printf(" %s", path);
        putchar('\n');
        rc = 0;
    }
    hr_buf_free(&in);
    return rc;
}

/* Returns 0, PROG_ANSWERED or EX_USAGE (the message printed). */
static int parse_options(int argc, char **argv, struct options *o)
{
    enum { OPT_IDS = 256, OPT_SPECIAL, OPT_JSON, OPT_MESSAGES, OPT_TEXT };
    static const struct option longopts[] = {
        {"encoding", required_argument, NULL, 'e'}, {"model", required_argument, NULL, 'm'},
        {"ids", no_argument, NULL, OPT_IDS},        {"allow-special", no_argument, NULL, OPT_SPECIAL},
        {"json", no_argument, NULL, OPT_JSON},      {"messages", no_argument, NULL, OPT_MESSAGES},
        {"text", no_argument, NULL, OPT_TEXT},      {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "e:m:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'e': o->encoding = optarg; break;
        case 'm': o->model = optarg; break;
        case OPT_IDS: o->ids = 1; break;
        case OPT_SPECIAL: o->allow_special = 1; break;
        case OPT_JSON: o->json = 1; break;
        case OPT_MESSAGES: o->mode = MODE_MESSAGES; break;
        case OPT_TEXT: o->mode = MODE_TEXT; break;
        case 'h': usage(stdout); return PROG_ANSWERED;
        case 'V': prog_version(); return PROG_ANSWERED;
        default: usage(stderr); return EX_USAGE;
        }
    }
    hr_model_encoding me;
    const char *why = NULL;
    char msg[256];
    if (o->encoding && o->model) {
        why = "-e and -m exclude each other";
    } else if (o->encoding && strcmp(o->encoding, "cl100k_base") && strcmp(o->encoding, "o200k_base")) {
        snprintf(msg, sizeof msg, "unknown encoding '%s' (cl100k_base, o200k_base)", o->encoding);
        why = msg;
    } else if (o->model && hr_model_lookup(o->model, &me) != HR_OK) {
        snprintf(msg, sizeof msg, "unknown model '%s' (use -e ENCODING)", o->model);
        why = msg;
    } else if (o->model && o->ids && me.is_estimate) {
        snprintf(msg, sizeof msg, "--ids: '%s' has no published tokenizer, counts are estimates", o->model);
        why = msg;
    } else if (o->ids && o->json) {
        why = "--ids and --json exclude each other";
    }
    if (why) {
        prog_msg("%s", why);
        usage(stderr);
        return EX_USAGE;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct state s = {0};
    prog_init("hr-count");
    int rc = parse_options(argc, argv, &s.opt);
    if (rc) return rc == PROG_ANSWERED ? EX_OK : rc;
    if (hr_json_new(&s.doc)) return prog_fail(EX_SOFTWARE, "out of memory");
    int n_inputs = argc - optind;
    if (n_inputs == 0) {
        rc = count_input(&s, "-", 0);
    } else {
        for (int i = optind; i < argc; i++) { /* every input counted; the first error's status */
            int input_rc = count_input(&s, argv[i], n_inputs > 1);
            if (!rc) rc = input_rc;
        }
        if (n_inputs > 1 && !s.opt.ids) {
            if (s.opt.json) printf("{\"total\":%zu}\n", s.total);
            else printf("%zu total\n", s.total);
        }
    }
    hr_json_free(s.doc);
    hr_tokenizer_free(s.toks[0]);
    hr_tokenizer_free(s.toks[1]);
    if (fflush(stdout) != 0) return prog_fail(EX_IOERR, "standard output: %s", strerror(errno));
    return rc;
}
