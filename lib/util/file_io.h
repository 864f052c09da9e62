/* Whole-file reads and writes and path helpers the programs share. Internal to libhr and
 * its programs; errors are errno values. */
#ifndef HR_FILE_IO_H
#define HR_FILE_IO_H

#include "hr.h"

#include <stddef.h>

/* Appends everything left to read on fd (EINTR retried). */
int hr__read_fd(int fd, hr_buf *out);
/* Reads a whole file; an empty one gives "" (out->data not NULL). */
int hr__read_file(const char *path, hr_buf *out);
/* What hr__read_regular_file returns for a FIFO, a socket or a device: not
 * an errno value (those are positive). */
#define HR__ENOTREG (-1)
/* hr__read_file for a regular file only, never waiting on what is not one
 * (opening a FIFO to read waits for a writer): EISDIR for a folder,
 * HR__ENOTREG for anything else. *mode (may be NULL) gets the file's
 * st_mode, also when it is refused. */
int hr__read_regular_file(const char *path, hr_buf *out, unsigned *mode);
/* "not a regular file (a FIFO)" and the like for HR__ENOTREG with the mode
 * hr__read_regular_file gave, else strerror(err). */
const char *hr__file_error(int err, unsigned mode);
/* Writes all of p to fd (EINTR and short writes retried). */
int hr__write_all(int fd, const void *p, size_t len);
/* Replaces path with data so that a crash leaves the old file or the new
 * one: a temporary file in the same folder, mode as given, fsync, rename,
 * fsync of the folder. */
int hr__write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* "dir/name", malloc'd. */
char *hr__path_join(const char *dir, const char *name);
/* A program's home folder, malloc'd: $env when set and not empty, else
 * $HOME/dot; NULL when neither is set. The generic path rule only: the
 * headroom home is hr__headroom_home's (lib/settings), Hermes's is the
 * callers' that edit or read it. */
char *hr__user_dir(const char *env, const char *dot);
/* The folder of the running program (/proc/self/exe's, symbolic links
 * resolved), malloc'd; NULL when it cannot be known. */
char *hr__exe_dir(void);
/* The path that leads from folder from to folder to, both absolute:
 * "../share" from /usr/bin to /usr/share, "." from a folder to itself.
 * malloc'd; NULL when either is not absolute or holds "..". */
char *hr__relative_path(const char *from, const char *to);

#endif
