/* Which Hermes process started last, from /proc: the plugin's state file
 * must come from it. A Hermes process is "hermes ..." or "python3 .../hermes
 * ..." (the console script) or "python3 -m hermes_cli ...", of this user,
 * using the Hermes home being checked (its HERMES_HOME, else ~/.hermes). */
#include "verify.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *base_name(const char *s)
{
    const char *slash = strrchr(s, '/');
    return slash ? slash + 1 : s;
}

/* argv as /proc/PID/cmdline holds it: NUL-separated. */
static int is_hermes(const char *args, size_t len)
{
    const char *argv[3] = {"", "", ""};
    size_t n = 0;
    for (size_t i = 0; i < len && n < 3; i += strlen(args + i) + 1) argv[n++] = args + i;
    if (!strcmp(base_name(argv[0]), "hermes")) return 1;
    if (strncmp(base_name(argv[0]), "python", 6)) return 0;
    return !strcmp(base_name(argv[1]), "hermes") || (!strcmp(argv[1], "-m") && !strncmp(argv[2], "hermes_cli", 10));
}

static long long boot_time_ms(void)
{
    FILE *f = fopen("/proc/stat", "r");
    char line[256];
    long long bt = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "btime %lld", &bt) == 1) break;
    if (f) fclose(f);
    return bt < 0 ? -1 : bt * 1000;
}

/* /proc/PID/name into buf, NUL-terminated; its length, 0 when unreadable. */
static size_t read_proc(const char *pid, const char *name, char *buf, size_t cap)
{
    char path[300];
    snprintf(path, sizeof path, "/proc/%s/%s", pid, name);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return n;
}

/* Field 22 of /proc/PID/stat, in clock ticks since boot; -1 when unreadable. */
static long long start_ticks(const char *pid)
{
    char buf[1024];
    read_proc(pid, "stat", buf, sizeof buf);
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) return -1;
    p++;
    for (int field = 3; field < 22 && *p; field++) {
        while (*p == ' ') p++;
        while (*p && *p != ' ') p++;
    }
    return strtoll(p, NULL, 10);
}

/* Whether the process uses this Hermes home (real path), judged from its
 * environment; a process whose environment cannot be read counts. */
static int uses_home(const char *pid, const char *home_real)
{
    char env[32768];
    size_t n = read_proc(pid, "environ", env, sizeof env);
    if (!n) return 1;
    const char *hermes_home = NULL, *user_home = NULL;
    for (size_t i = 0; i < n; i += strlen(env + i) + 1) {
        if (!strncmp(env + i, "HERMES_HOME=", 12) && env[i + 12]) hermes_home = env + i + 12;
        if (!strncmp(env + i, "HOME=", 5)) user_home = env + i + 5;
    }
    char dir[PATH_MAX + 16], real[PATH_MAX];
    if (hermes_home) snprintf(dir, sizeof dir, "%s", hermes_home);
    else if (user_home) snprintf(dir, sizeof dir, "%s/.hermes", user_home);
    else return 1;
    return realpath(dir, real) && !strcmp(real, home_real);
}

/* The command line with spaces, shortened, for the report. */
static void shown(char *out, size_t cap, const char *args, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++) out[i] = args[i] ? args[i] : ' ';
    while (n && out[n - 1] == ' ') n--;
    out[n] = '\0';
}

int newest_hermes(const char *home, struct hermes_process *out)
{
    long long boot = boot_time_ms(), tick = sysconf(_SC_CLK_TCK);
    char home_real[PATH_MAX];
    if (!realpath(home, home_real)) snprintf(home_real, sizeof home_real, "%s", home);
    DIR *d = opendir("/proc");
    int found = 0;
    memset(out, 0, sizeof *out);
    for (struct dirent *e; d && boot >= 0 && tick > 0 && (e = readdir(d));) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        char path[300], args[4096];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%s", e->d_name);
        if (stat(path, &st) || st.st_uid != getuid()) continue;
        size_t len = read_proc(e->d_name, "cmdline", args, sizeof args);
        if (!len || !is_hermes(args, len) || !uses_home(e->d_name, home_real)) continue;
        long long ticks = start_ticks(e->d_name);
        if (ticks < 0) continue;
        long long start = boot + ticks * 1000 / tick;
        if (found && start < out->start_ms) continue;
        found = 1;
        out->pid = (pid_t)atol(e->d_name);
        out->start_ms = start;
        shown(out->cmd, sizeof out->cmd, args, len);
    }
    if (d) closedir(d);
    return found;
}
