/* Reading a whole file, replacing one so that a crash leaves either the
 * old file or the new one, never a mix, and building paths. */
#include "file_io.h"

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

int hr__read_file(const char *path, hr_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = hr__read_fd(fd, out);
    close(fd);
    if (!err && !out->data) err = hr_buf_append(out, "", 0) ? ENOMEM : 0; /* an empty file: "" */
    return err;
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
