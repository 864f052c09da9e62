/* Compression off the event loop: max_concurrent worker threads, each with
 * its own hr_compressor. A request that finds every worker busy is not
 * queued: it goes upstream uncompressed. Results come back to the loop
 * through a pipe. */
#include "prog.h"
#include "proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct job {
    hr_compress_options opt;
    char *body; /* the job's own copy: an abandoned job may still be running */
    size_t len;
    hr_buf out;
    hr_compress_stats stats;
    hr_status status;
    char error[200];
    job_done_fn done;
    void *arg;
    int abandoned;
    struct pool *pool;
};

struct worker {
    pthread_t thread;
    struct pool *pool;
    hr_compressor *comp;
    struct job *job; /* NULL when idle */
};

struct pool {
    struct event_base *base;
    struct event *wake;
    int fds[2];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct worker *workers;
    size_t n;
    int stopping;
    /* the warm-up's settings, copied: a reload may rewrite the originals */
    hr_compress_options warm;
    char scorer[16], model_dir[4096], backend[16];
};

/* What the scorer choice said (a model that would not load, no GPU), once. */
static void report_scorer_note(hr_compressor *comp)
{
    const char *note = hr_compressor_scorer_note(comp);
    if (note) prog_msg("%s", note);
}

/* Loads the tokenizer tables and the scorer's model before the first real
 * request needs them. */
static void warm_up(hr_compressor *comp, const hr_compress_options *warm)
{
    static const char req[] = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    hr_compress_options opt = *warm;
    hr_buf out = HR_BUF_INIT;
    hr_compress(comp, &opt, req, sizeof req - 1, &out);
    report_scorer_note(comp);
    opt.encoding = "cl100k_base";
    hr_compress(comp, &opt, req, sizeof req - 1, &out);
    hr_buf_free(&out);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct pool *p = w->pool;
    warm_up(w->comp, &p->warm);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!w->job && !p->stopping) pthread_cond_wait(&p->cond, &p->lock);
        if (p->stopping && !w->job) break;
        struct job *job = w->job;
        pthread_mutex_unlock(&p->lock);
        job->status = hr_compress(w->comp, &job->opt, job->body, job->len, &job->out);
        report_scorer_note(w->comp);
        if (job->status) snprintf(job->error, sizeof job->error, "%s", hr_compressor_errmsg(w->comp));
        else hr_compressor_stats(w->comp, &job->stats);
        /* free before the loop hears of it: the client's next request may
         * come as soon as this answer is relayed, and must find the worker
         * idle rather than go out uncompressed */
        pthread_mutex_lock(&p->lock);
        w->job = NULL;
        hr_compressor_cancel(w->comp, 0); /* pool_abandon's, if any: under the lock */
        pthread_mutex_unlock(&p->lock);
        ssize_t k;
        do k = write(p->fds[1], &job, sizeof job);
        while (k < 0 && errno == EINTR);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* On the loop: finished jobs. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    struct job *job;
    while (read(fd, &job, sizeof job) == (ssize_t)sizeof job) {
        if (job->abandoned) job_free(job);
        else job->done(job, job->arg);
    }
}

struct pool *pool_new(struct event_base *base, size_t workers, const hr_compress_options *opt)
{
    struct pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->base = base;
    p->warm = *opt;
    snprintf(p->scorer, sizeof p->scorer, "%s", opt->scorer ? opt->scorer : "auto");
    snprintf(p->model_dir, sizeof p->model_dir, "%s", opt->model_dir ? opt->model_dir : "");
    snprintf(p->backend, sizeof p->backend, "%s", opt->kompress_backend ? opt->kompress_backend : "auto");
    p->warm.scorer = p->scorer;
    p->warm.model_dir = p->model_dir[0] ? p->model_dir : NULL;
    p->warm.kompress_backend = p->backend;
    p->workers = calloc(workers, sizeof *p->workers);
    if (!p->workers || pipe(p->fds)) {
        free(p->workers);
        free(p);
        return NULL;
    }
    fcntl(p->fds[0], F_SETFL, O_NONBLOCK);
    fcntl(p->fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(p->fds[1], F_SETFD, FD_CLOEXEC);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->wake = event_new(base, p->fds[0], EV_READ | EV_PERSIST, on_wake, p);
    event_add(p->wake, NULL);
    for (size_t i = 0; i < workers; i++) {
        struct worker *w = &p->workers[i];
        w->pool = p;
        if (hr_compressor_new(&w->comp) || pthread_create(&w->thread, NULL, work, w)) {
            hr_compressor_free(w->comp);
            w->comp = NULL;
            break;
        }
        p->n++;
    }
    return p;
}

void pool_free(struct pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->n; i++) {
        pthread_join(p->workers[i].thread, NULL);
        hr_compressor_free(p->workers[i].comp);
    }
    on_wake(p->fds[0], 0, p); /* finished jobs still in the pipe */
    event_free(p->wake);
    close(p->fds[0]);
    close(p->fds[1]);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->workers);
    free(p);
}

struct job *pool_submit(struct pool *p, const hr_compress_options *opt, const char *body, size_t len, job_done_fn done,
                        void *arg)
{
    struct job *job = calloc(1, sizeof *job);
    if (!job || !(job->body = malloc(len ? len : 1))) {
        free(job);
        return NULL;
    }
    memcpy(job->body, body, len);
    job->opt = *opt;
    job->len = len;
    job->done = done;
    job->arg = arg;
    job->pool = p;
    pthread_mutex_lock(&p->lock);
    struct worker *idle = NULL;
    for (size_t i = 0; i < p->n && !idle; i++)
        if (!p->workers[i].job) idle = &p->workers[i];
    if (idle) {
        idle->job = job;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    if (!idle) {
        job_free(job);
        return NULL;
    }
    return job;
}

/* The worker still on the job stops compressing it within milliseconds:
 * nobody waits for the result, and a huge request must not keep a core busy. */
void pool_abandon(struct job *job)
{
    struct pool *p = job->pool;
    job->abandoned = 1;
    job->done = NULL;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n; i++)
        if (p->workers[i].job == job) hr_compressor_cancel(p->workers[i].comp, 1);
    pthread_mutex_unlock(&p->lock);
}

hr_status job_status(const struct job *job)
{
    return job->status;
}
const hr_buf *job_output(const struct job *job)
{
    return &job->out;
}
const hr_compress_stats *job_stats(const struct job *job)
{
    return &job->stats;
}
const char *job_error(const struct job *job)
{
    return job->error;
}

void job_free(struct job *job)
{
    if (!job) return;
    hr_buf_free(&job->out);
    free(job->body);
    free(job);
}
