/* The engine of hr-patch-auth (include/hr.h, hr_patch_*): the Hermes home
 * as read, the apply plan, the backup manifest, the plugin files, and what
 * each mode prints. Internal to libhr. */
#ifndef HR_HERMES_PATCH_H
#define HR_HERMES_PATCH_H

#include "hermes/hermes.h"
#include "util/file_io.h"
#include "util/grow.h"
#include "util/sha256.h"
#include "hr.h"

#include <stdio.h>

/* The parts print their errors (hr__patch_msg) and return 0, or nonzero
 * (-1) on failure; the entry points of patch_api.c turn that into an
 * hr_status. */

struct hr__patch_io;

/* Loads the Hermes home o->hermes_home (libhr's hr__home_load), with auth.lock
 * held when lock is set, and then removes temp files a killed run left.
 * Errors are printed ("FILE:LINE:COL: problem"); returns 0 or -1.
 * Call hr__home_free afterwards in any case. */
int hr__patch_home_load(struct hr__patch_io *io, struct hr__home *h, const hr_patch_options *o, int lock);

/* The entries of credential_pool.<p> in auth.json; a pool of another shape
 * is printed as an error ("auth.json:LINE:COL: problem"). 0 or -1. */
int hr__patch_home_pool(struct hr__patch_io *io, const struct hr__home *h, const struct hr__provider *p,
                        struct hr__pool_entry **v, size_t *n);

/* The routed providers: --providers, else the plugin block's list, else
 * those with credentials or configuration. Returns 0 or -1. */
int hr__patch_routed_providers(struct hr__patch_io *io, const struct hr__home *h, const char *list, int from_block,
                               const struct hr__provider *out[HR_MAX_ROUTED], size_t *n);
/* Prints the providers not routed: a "  not routed: ..." line, or with json
 * the names as JSON strings separated by commas. */
void hr__patch_print_not_routed(const struct hr__home *h, const struct hr__provider *const *routed, size_t n, FILE *f,
                                int json);

/* One base_url replaced in auth.json's pool. */
struct auth_edit {
    const struct hr__provider *provider;
    size_t index;
    char *id;
    char *old_url; /* NULL: the member was absent */
    char *new_url;
};

struct auth_edits {
    struct auth_edit *v;
    size_t n, cap;
};
int hr__patch_auth_edits_add(struct auth_edits *e, const struct hr__provider *p, const struct hr__pool_entry *entry,
                             const char *new_url);
void hr__patch_auth_edits_free(struct auth_edits *e);

/* Everything apply records and rollback reads. */
struct manifest {
    char *id, *created, *proxy_url;
    char *providers; /* "a, b" */
    char auth_sha[65], auth_sha_after[65], config_sha[65], config_sha_after[65];
    struct auth_edits auth;
    struct hr__config_changes config;
    char *model_url;      /* what model.base_url was set to */
    int plugin_installed; /* apply wrote the plugin's files */
    /* apply finished: until it has, the files may be half what it meant
     * (a run killed half-way), and the next --apply undoes it first */
    int complete;
};
int hr__patch_manifest_write(struct hr__patch_io *io, const char *path, const struct manifest *m);
int hr__patch_manifest_read(struct hr__patch_io *io, const char *path, struct manifest *m);
void hr__patch_manifest_free(struct manifest *m);

/* The backups folder and its entries, newest last. */
char *hr__patch_backups_dir(const struct hr__home *h);
int hr__patch_backups_list(const struct hr__home *h, char ***ids, size_t *n);
void hr__patch_backups_free(char **ids, size_t n);
int hr__patch_backup_rolled_back(const struct hr__home *h, const char *id);
/* The newest backup not rolled back, malloc'd; NULL when none. */
char *hr__patch_backup_newest(const struct hr__home *h);
/* Whether backup id's apply finished (its manifest says so; one from an
 * earlier version, which does not say, counts as finished). */
int hr__patch_backup_complete(struct hr__patch_io *io, const struct hr__home *h, const char *id);

/* The plugin's files: shipped copy vs installed copy. */
struct plugin_files {
    char *dir;         /* where the shipped copy was read */
    hr_buf yaml, init; /* plugin.yaml, __init__.py */
};
int hr__patch_plugin_source_load(struct hr__patch_io *io, struct plugin_files *pf, const char *source);
void hr__patch_plugin_source_free(struct plugin_files *pf);
/* 1 when $home/plugins/headroom-route holds exactly pf's files. */
int hr__patch_plugin_installed_same(const struct hr__home *h, const struct plugin_files *pf);
/* What plugin_install changed, for plugin_install_undo. */
struct plugin_undo {
    int made_plugins, made_dir; /* the folders it created */
    int wrote[2], had[2];       /* each file written; there before */
    hr_buf old[2];              /* and what it held */
};
int hr__patch_plugin_install(struct hr__patch_io *io, const struct hr__home *h, const struct plugin_files *pf,
                             struct plugin_undo *u);
/* Puts back what plugin_install changed: older files, or none. */
int hr__patch_plugin_install_undo(struct hr__patch_io *io, const struct hr__home *h, struct plugin_undo *u);
void hr__patch_plugin_undo_free(struct plugin_undo *u);
/* Removes the plugin's files and folder; says what stayed. */
int hr__patch_plugin_remove(struct hr__patch_io *io, const struct hr__home *h);

/* One backup's apply undone in the files as they are now. */
struct undo {
    hr_buf auth_new, config_new;
    int auth_changed, config_changed;
    int auth_restored, config_restored; /* whole backup put back */
    size_t urls_restored, urls_kept, urls_reset;
    int plugin_removed;
};
/* Undoes backup id's apply in h (loaded with the lock held): writes the
 * files, removes the plugin unless keep_plugin, marks the backup rolled
 * back. Errors are printed; 0 or -1. Free u with undo_free. */
int hr__patch_undo_backup(struct hr__patch_io *io, const struct hr__home *h, const char *id, int keep_plugin,
                          struct undo *u);
void hr__patch_undo_free(struct undo *u);

/* The four modes: 0, or nonzero when they failed (the error printed).
 * do_status sets *all_routed: every routed provider goes through the proxy. */
int hr__patch_do_apply(struct hr__patch_io *io, const hr_patch_options *o, int dry_run);
int hr__patch_do_rollback(struct hr__patch_io *io, const hr_patch_options *o);
int hr__patch_do_status(struct hr__patch_io *io, const hr_patch_options *o, int *all_routed);

/* ---- output (patch_api.c) ---------------------------------------------------- */

/* Where a call's text goes: out, the report, is a stream whose writes go to
 * opt->write as HR_PATCH_REPORT, unbuffered, so that they keep their order
 * with the notes and errors. Every part that prints takes it first. */
struct hr__patch_io {
    FILE *out;
    const hr_patch_options *opt;
};
/* One line for standard error, without the program's name or a newline
 * (HR_PATCH_MESSAGE): an error, or what a dry run would also do. */
void hr__patch_msg(struct hr__patch_io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "  what\n": on the report, or with json beside it (HR_PATCH_NOTE). */
void hr__patch_say(struct hr__patch_io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* text as a JSON string on f, or null. */
void hr__patch_json_string(FILE *f, const char *text);
void hr__patch_json_string_or_null(FILE *f, const char *text);
/* One auth_edit as a JSON object, as the manifest and json reports print it. */
void hr__patch_json_auth_edit(FILE *f, const struct auth_edit *a);

#endif
