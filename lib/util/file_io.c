/* Reading a whole file, replacing one so that a crash leaves either the
 * old file or the new one, never a mix, and building paths (the running
 * program's folder among them, to find what is installed beside it). */
#include "util/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hr__read_fd(int fd, hr_buf *out)
{
    int err = 0;
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            err = errno;
            break;
        }
        if (n == 0) break;
        if (hr_buf_append(out, chunk, (size_t)n)) {
            err = ENOMEM;
            break;
        }
    }
    return err;
}

/* Reads the rest of fd and closes it; an empty file gives "". */
static int read_and_close(int fd, hr_buf *out)
{
    int err = hr__read_fd(fd, out);
    close(fd);
    if (!err && !out->data) err = hr_buf_append(out, "", 0) ? ENOMEM : 0;
    return err;
}

int hr__read_file(const char *path, hr_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? errno : read_and_close(fd, out);
}

int hr__read_regular_file(const char *path, hr_buf *out, unsigned *mode)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return errno;
    struct stat st;
    int err = fstat(fd, &st) ? errno : 0;
    if (!err && mode) *mode = (unsigned)st.st_mode;
    if (!err && S_ISDIR(st.st_mode)) err = EISDIR;
    else if (!err && !S_ISREG(st.st_mode)) err = HR__ENOTREG;
    if (err) {
        close(fd);
        return err;
    }
    return read_and_close(fd, out); /* O_NONBLOCK does nothing to a regular file */
}

const char *hr__file_error(int err, unsigned mode)
{
    if (err != HR__ENOTREG) return strerror(err);
    return S_ISFIFO(mode)   ? "not a regular file (a FIFO)"
           : S_ISSOCK(mode) ? "not a regular file (a socket)"
           : S_ISCHR(mode)  ? "not a regular file (a character device)"
           : S_ISBLK(mode)  ? "not a regular file (a block device)"
                            : "not a regular file";
}

int hr__write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_folder_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy) return ENOMEM;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0) return errno;
    int err = fsync(fd) ? errno : 0;
    close(fd);
    return err == EINVAL ? 0 : err; /* some file systems cannot sync a folder */
}

int hr__write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return ENOMEM;
    snprintf(tmp, n, "%s.hr-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int err = errno;
        free(tmp);
        return err;
    }
    int err = fchmod(fd, (mode_t)mode) ? errno : 0;
    if (!err) err = hr__write_all(fd, data, len);
    if (!err && fsync(fd)) err = errno;
    if (close(fd) && !err) err = errno;
    if (!err && rename(tmp, path)) err = errno;
    if (err) unlink(tmp);
    free(tmp);
    return err ? err : fsync_folder_of(path);
}

char *hr__path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *hr__user_dir(const char *env, const char *dot)
{
    const char *v = getenv(env), *home = getenv("HOME");
    if (v && *v) return strdup(v);
    return home && *home ? hr__path_join(home, dot) : NULL;
}

char *hr__exe_dir(void)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || (size_t)n >= sizeof exe - 1) return NULL; /* none, or cut short */
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = '\0';
    return strdup(slash == exe ? "/" : exe);
}

/* The next component of a path: its start and length, past empty and "."
 * ones; len 0 at the end. */
static const char *next_part(const char *p, size_t *len)
{
    for (;;) {
        p += strspn(p, "/");
        *len = strcspn(p, "/");
        if (*len != 1 || *p != '.') return p;
        p++;
    }
}

static int has_dotdot(const char *path)
{
    size_t n;
    for (const char *p = next_part(path, &n); n; p = next_part(p + n, &n))
        if (n == 2 && !strncmp(p, "..", 2)) return 1;
    return 0;
}

char *hr__relative_path(const char *from, const char *to)
{
    if (from[0] != '/' || to[0] != '/' || has_dotdot(from) || has_dotdot(to)) return NULL;
    size_t fn, tn;
    const char *f = next_part(from, &fn), *t = next_part(to, &tn);
    while (fn && fn == tn && !strncmp(f, t, fn)) { /* the common folders */
        f = next_part(f + fn, &fn);
        t = next_part(t + tn, &tn);
    }
    hr_buf out = HR_BUF_INIT;
    int failed = 0;
    for (; fn; f = next_part(f + fn, &fn)) failed |= hr_buf_append(&out, out.len ? "/.." : "..", out.len ? 3 : 2) != 0;
    for (; tn; t = next_part(t + tn, &tn)) {
        if (out.len) failed |= hr_buf_append(&out, "/", 1) != 0;
        failed |= hr_buf_append(&out, t, tn) != 0;
    }
    if (!out.len) failed |= hr_buf_append(&out, ".", 1) != 0;
    if (failed) {
        hr_buf_free(&out);
        return NULL;
    }
    return out.data; /* hr_buf keeps a terminating NUL */
}
