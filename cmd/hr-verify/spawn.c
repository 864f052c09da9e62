/* Running the chat command: in its own process group so that a timeout
 * stops everything it started, its output kept for the report. */
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEEP_OUTPUT (64 * 1024)

static void keep_tail(hr_buf *out, const char *data, size_t n)
{
    hr_buf_append(out, data, n);
    if (out->len > 2 * KEEP_OUTPUT) {
        memmove(out->data, out->data + out->len - KEEP_OUTPUT, KEEP_OUTPUT);
        out->len = KEEP_OUTPUT;
        out->data[out->len] = '\0';
    }
}

static void child(int fd, const char *cmd, const char *prompt)
{
    int null = open("/dev/null", O_RDONLY);
    setpgid(0, 0);
    if (null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(126);
    setenv("HR_VERIFY_PROMPT", prompt, 1);
    size_t n = strlen(cmd) + 16;
    char *script = malloc(n);
    if (!script) _exit(126);
    snprintf(script, n, "%s \"$@\"", cmd);
    execl("/bin/sh", "sh", "-c", script, "hr-verify", prompt, (char *)NULL);
    _exit(127);
}

/* Stops the group: TERM, then KILL after two seconds. */
static void stop_group(pid_t pid, int *status)
{
    kill(-pid, SIGTERM);
    for (int i = 0; i < 40; i++) {
        if (waitpid(pid, status, WNOHANG) == pid) {
            kill(-pid, SIGKILL); /* what it left behind */
            return;
        }
        usleep(50 * 1000);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, status, 0);
}

int run_command(const char *cmd, const char *prompt, long timeout_s, hr_buf *out, int *status, int *timed_out)
{
    int fds[2];
    *timed_out = 0;
    if (pipe(fds)) return errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return e;
    }
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], cmd, prompt);
    }
    close(fds[1]);
    setpgid(pid, pid); /* also here: no race with the child's own call */
    long long deadline = now_ms() + timeout_s * 1000;
    int exited = 0, open_pipe = 1;
    char chunk[8192];
    while (!exited || open_pipe) {
        if (now_ms() >= deadline) {
            *timed_out = 1;
            stop_group(pid, status);
            break;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int ready = open_pipe ? poll(&p, 1, 100) : (usleep(50 * 1000), 0);
        if (ready > 0) {
            ssize_t k = read(fds[0], chunk, sizeof chunk);
            if (k > 0) keep_tail(out, chunk, (size_t)k);
            else if (k == 0 || errno != EINTR) open_pipe = 0;
        }
        if (!exited && waitpid(pid, status, WNOHANG) == pid) {
            exited = 1;
            /* Something it started in the background may hold the pipe:
             * take what is there now and stop reading. */
            fcntl(fds[0], F_SETFL, O_NONBLOCK);
            for (ssize_t k; open_pipe && (k = read(fds[0], chunk, sizeof chunk)) > 0;) keep_tail(out, chunk, (size_t)k);
            open_pipe = 0;
        }
    }
    close(fds[0]);
    return 0;
}
