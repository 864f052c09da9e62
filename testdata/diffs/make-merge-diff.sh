#!/bin/sh
# Writes the combined-diff fixtures of this folder: merges made in a
# temporary repository, with conflicts resolved by hand, as git prints them.
#   merge-show-cc.diff   git show --cc of a four-file merge
#   merge-show-c.diff    git show -c of the same merge
#   merge-diff-cc.diff   git diff of that merge's resolved working tree
#                        before it was committed (diff --cc per file)
#   octopus-show-cc.diff git show --cc of a three-parent merge (@@@@ hunks)
#   merge-40-files.diff  git show --cc of a merge touching 40 files
# Names, emails and dates are fixed, so the output is the same on each run
# with the same git. The fixtures are committed; nothing runs git at test time.
#   testdata/diffs/make-merge-diff.sh [OUTDIR]   (default: this folder)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$tmp"
export GIT_AUTHOR_NAME="Ada Builder" GIT_AUTHOR_EMAIL="ada@example.org"
export GIT_COMMITTER_NAME="Ada Builder" GIT_COMMITTER_EMAIL="ada@example.org"
export TZ=UTC LC_ALL=C
tick=0
# commit MESSAGE: a commit dated one minute after the one before
commit() {
    tick=$((tick + 60))
    GIT_AUTHOR_DATE="@$((1700000000 + tick)) +0000" GIT_COMMITTER_DATE="@$((1700000000 + tick)) +0000" \
        git commit -q "$@"
}
# merge BRANCH: a merge that is expected to stop on conflicts
merge_conflicted() {
    if git merge -q --no-edit "$1" >/dev/null 2>&1; then
        echo "make-merge-diff: merging $1 did not conflict" >&2
        exit 1
    fi
}
show() { git -c core.abbrev=9 show --no-color "$@"; }

# ---- a four-file merge: C, YAML, Markdown, Python ---------------------------------
git init -q -b main "$tmp/small"
cd "$tmp/small"
mkdir -p src config scripts
cat > src/cache.c <<'EOF'
/* A small LRU cache of parsed pages. */
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define CACHE_SLOTS 64

struct slot {
    char *key;
    void *page;
    unsigned long used;
};

static struct slot slots[CACHE_SLOTS];
static unsigned long clock_now;

static size_t hash_key(const char *key)
{
    size_t h = 5381;
    while (*key) h = h * 33 + (unsigned char)*key++;
    return h;
}

void *cache_get(const char *key)
{
    struct slot *s = &slots[hash_key(key) % CACHE_SLOTS];
    if (!s->key || strcmp(s->key, key)) return NULL;
    s->used = ++clock_now;
    return s->page;
}

int cache_put(const char *key, void *page)
{
    struct slot *s = &slots[hash_key(key) % CACHE_SLOTS];
    free(s->key);
    s->key = strdup(key);
    if (!s->key) return -1;
    s->page = page;
    s->used = ++clock_now;
    return 0;
}

void cache_clear(void)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        free(slots[i].key);
        slots[i].key = NULL;
        slots[i].page = NULL;
    }
    clock_now = 0;
}
EOF
cat > config/server.yaml <<'EOF'
server:
  listen: 0.0.0.0:8080
  workers: 4
  read_timeout: 30s
  write_timeout: 30s
cache:
  slots: 64
  ttl: 300s
logging:
  level: info
  format: text
  file: /var/log/pages/server.log
limits:
  max_body: 1MiB
  max_headers: 64
EOF
cat > README.md <<'EOF'
# pages

A small server of parsed pages with an in-memory cache.

## Building

    make
    make check

## Running

    ./pages --config config/server.yaml

The cache holds 64 pages; see config/server.yaml to change it.

## Deploying

Run scripts/deploy.py with the host name. It copies the binary and the
configuration, then restarts the service.
EOF
cat > scripts/deploy.py <<'EOF'
#!/usr/bin/env python3
"""Copies the server to a host and restarts it."""
import subprocess
import sys

HOSTS = ["web-1", "web-2"]


def copy(host):
    subprocess.run(["scp", "pages", f"{host}:/usr/local/bin/pages"], check=True)
    subprocess.run(["scp", "config/server.yaml", f"{host}:/etc/pages/server.yaml"], check=True)


def restart(host):
    subprocess.run(["ssh", host, "systemctl", "restart", "pages"], check=True)


def main(argv):
    hosts = argv[1:] or HOSTS
    for host in hosts:
        copy(host)
        restart(host)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
EOF
git add -A
commit -m "pages: cache, configuration, deploy script"

# the feature branch: eviction by age, JSON logs, a health check after deploying
git checkout -q -b eviction
sed -i -e 's/^#define CACHE_SLOTS 64$/#define CACHE_SLOTS 128\n#define CACHE_MAX_AGE 4096/' \
    -e 's/^    if (!s->key || strcmp(s->key, key)) return NULL;$/    if (!s->key || strcmp(s->key, key)) return NULL;\n    if (clock_now - s->used > CACHE_MAX_AGE) return NULL; \/* stale *\//' \
    -e 's/^    free(s->key);$/    if (s->key \&\& !strcmp(s->key, key)) {\n        s->page = page;\n        s->used = ++clock_now;\n        return 0;\n    }\n    free(s->key);/' \
    src/cache.c
sed -i -e 's/^  slots: 64$/  slots: 128\n  max_age: 4096/' -e 's/^  format: text$/  format: json/' \
    -e 's/^  workers: 4$/  workers: 8/' config/server.yaml
sed -i -e 's/^The cache holds 64 pages; see config\/server.yaml to change it.$/The cache holds 128 pages and forgets a page after 4096 reads of others;\nsee config\/server.yaml to change either./' \
    README.md
sed -i -e 's/^def main(argv):$/def check(host):\n    subprocess.run(["curl", "-fsS", f"http:\/\/{host}:8080\/healthz"], check=True)\n\n\ndef main(argv):/' \
    -e 's/^        restart(host)$/        restart(host)\n        check(host)/' \
    scripts/deploy.py
git add -A
commit -m "cache: evict pages by age; logs as JSON; deploy checks /healthz"

# main meanwhile: a bigger cache of its own, statistics, a third host, a dry run
git checkout -q main
sed -i -e 's/^#define CACHE_SLOTS 64$/#define CACHE_SLOTS 256/' \
    -e 's/^static unsigned long clock_now;$/static unsigned long clock_now;\nstatic unsigned long hits, misses;/' \
    -e 's/^    if (!s->key || strcmp(s->key, key)) return NULL;$/    if (!s->key || strcmp(s->key, key)) {\n        misses++;\n        return NULL;\n    }\n    hits++;/' \
    -e 's/^    clock_now = 0;$/    clock_now = 0;\n    hits = misses = 0;/' \
    src/cache.c
sed -i -e 's/^  slots: 64$/  slots: 256\n  stats: true/' -e 's/^  level: info$/  level: debug/' \
    -e 's/^  max_headers: 64$/  max_headers: 100/' config/server.yaml
sed -i -e 's/^The cache holds 64 pages; see config\/server.yaml to change it.$/The cache holds 256 pages and counts its hits and misses (GET \/stats);\nsee config\/server.yaml to change it./' \
    -e 's/^    make check$/    make check\n    make bench/' README.md
sed -i -e 's/^HOSTS = \["web-1", "web-2"\]$/HOSTS = ["web-1", "web-2", "web-3"]/' \
    -e 's/^def copy(host):$/def copy(host, dry_run=False):\n    if dry_run:\n        print("would copy to", host)\n        return/' \
    -e 's/^    hosts = argv\[1:\] or HOSTS$/    dry_run = "--dry-run" in argv\n    hosts = [a for a in argv[1:] if a != "--dry-run"] or HOSTS/' \
    -e 's/^        copy(host)$/        copy(host, dry_run)/' \
    scripts/deploy.py
git add -A
commit -m "cache: 256 slots and hit statistics; deploy: web-3 and --dry-run"

merge_conflicted eviction
# resolved by hand: both sides' changes, the cache size and the README line rewritten
git show eviction:src/cache.c > src/cache.c
sed -i -e 's/^#define CACHE_SLOTS 128$/#define CACHE_SLOTS 512/' \
    -e 's/^static unsigned long clock_now;$/static unsigned long clock_now;\nstatic unsigned long hits, misses, stale;/' \
    -e 's/^    if (!s->key || strcmp(s->key, key)) return NULL;$/    if (!s->key || strcmp(s->key, key)) {\n        misses++;\n        return NULL;\n    }/' \
    -e 's/^    if (clock_now - s->used > CACHE_MAX_AGE) return NULL; \/\* stale \*\/$/    if (clock_now - s->used > CACHE_MAX_AGE) {\n        stale++;\n        return NULL;\n    }\n    hits++;/' \
    -e 's/^    clock_now = 0;$/    clock_now = 0;\n    hits = misses = stale = 0;/' \
    src/cache.c
git show eviction:config/server.yaml > config/server.yaml
sed -i -e 's/^  slots: 128$/  slots: 512/' -e 's/^  max_age: 4096$/  max_age: 4096\n  stats: true/' \
    -e 's/^  level: info$/  level: debug/' -e 's/^  max_headers: 64$/  max_headers: 100/' config/server.yaml
git show main:README.md > README.md
sed -i -e 's/^The cache holds 256 pages and counts its hits and misses (GET \/stats);$/The cache holds 512 pages, forgets a page after 4096 reads of others, and\ncounts its hits, misses and stale reads (GET \/stats);/' \
    -e 's/^see config\/server.yaml to change it.$/see config\/server.yaml to change the size or the age./' README.md
git show main:scripts/deploy.py > scripts/deploy.py
sed -i -e 's/^def main(argv):$/def check(host, dry_run=False):\n    if dry_run:\n        return\n    subprocess.run(["curl", "-fsS", f"http:\/\/{host}:8080\/healthz"], check=True)\n\n\ndef main(argv):/' \
    -e 's/^        restart(host)$/        restart(host, dry_run)\n        check(host, dry_run)/' \
    -e 's/^def restart(host):$/def restart(host, dry_run=False):\n    if dry_run:\n        print("would restart", host)\n        return/' \
    scripts/deploy.py
git --no-pager diff --no-color > "$out/merge-diff-cc.diff"
git add -A
commit --no-edit
show --cc HEAD > "$out/merge-show-cc.diff"
show -c HEAD > "$out/merge-show-c.diff"

# ---- a three-parent merge: each parent sets the same lines, the merge a fourth way ----
git checkout -q -b tune-a main~1
sed -i -e 's/^  workers: 4$/  workers: 6/' -e 's/^  read_timeout: 30s$/  read_timeout: 10s/' config/server.yaml
commit -qam "server: 6 workers, 10s reads"
git checkout -q -b tune-b main~1
sed -i -e 's/^  workers: 4$/  workers: 12/' -e 's/^  read_timeout: 30s$/  read_timeout: 45s/' config/server.yaml
commit -qam "server: 12 workers, 45s reads"
git checkout -q main
sed -i -e 's/^  workers: 4$/  workers: 16/' -e 's/^  read_timeout: 30s$/  read_timeout: 20s/' config/server.yaml
commit -qam "server: 16 workers, 20s reads"
sed -i -e 's/^  workers: 16$/  workers: 10/' -e 's/^  read_timeout: 20s$/  read_timeout: 15s/' \
    -e 's/^  write_timeout: 30s$/  write_timeout: 15s/' config/server.yaml
git add config/server.yaml
tree=$(git write-tree)
tick=$((tick + 60))
merged=$(GIT_AUTHOR_DATE="@$((1700000000 + tick)) +0000" GIT_COMMITTER_DATE="@$((1700000000 + tick)) +0000" \
    git commit-tree "$tree" -p main -p tune-a -p tune-b -m "Merge branches 'tune-a' and 'tune-b': 10 workers, 15s timeouts")
git update-ref HEAD "$merged"
show --cc HEAD > "$out/octopus-show-cc.diff"

# ---- a merge touching 40 files ---------------------------------------------------------
git init -q -b main "$tmp/wide"
cd "$tmp/wide"
mkdir -p handlers
# handler NAME: a request handler of 30 lines
handler() {
    cat <<EOF
/* The $1 endpoint. */
#include "handlers.h"

static const char *const route = "/api/$1";

int $1_check(const struct request *rq)
{
    if (!rq->user) return 401;
    if (rq->body_len > 65536) return 413;
    return 0;
}

int $1_handle(const struct request *rq, struct response *rs)
{
    int st = $1_check(rq);
    if (st) return st;
    rs->status = 200;
    rs->content_type = "application/json";
    log_request(route, rq);
    return render_$1(rq, rs);
}

int $1_register(struct router *r)
{
    return router_add(r, route, $1_handle);
}

/* The timeout of this endpoint, in seconds. */
int $1_timeout(void) { return 30; }
EOF
}
names="accounts alerts audit billing cart catalog checkout comments coupons devices
    exports feeds files groups imports invoices jobs keys labels locales
    mail metrics notes orders pages payments plans profiles quotas refunds
    reports roles search sessions shipping tags teams tokens uploads webhooks"
for n in $names; do handler "$n" > "handlers/$n.c"; done
git add -A
commit -m "handlers: 40 endpoints"
git checkout -q -b limits
for n in $names; do
    sed -i -e 's/rq->body_len > 65536/rq->body_len > 1048576/' \
        -e 's/^    rs->status = 200;$/    rs->status = 200;\n    rs->cache_control = "no-store";/' "handlers/$n.c"
done
commit -qam "handlers: 1 MiB bodies, no-store responses"
git checkout -q main
for n in $names; do
    sed -i -e 's/rq->body_len > 65536/rq->body_len > 262144/' \
        -e 's/^    if (!rq->user) return 401;$/    if (!rq->user) return 401;\n    if (!rq->tenant) return 403;/' \
        -e 's/return 30; }$/return 60; }/' "handlers/$n.c"
done
commit -qam "handlers: 256 KiB bodies, tenants, 60 s timeouts"
merge_conflicted limits
for n in $names; do
    git show "limits:handlers/$n.c" > "handlers/$n.c"
    sed -i -e 's/rq->body_len > 1048576/rq->body_len > 524288 \&\& !rq->streaming/' \
        -e 's/^    if (!rq->user) return 401;$/    if (!rq->user) return 401;\n    if (!rq->tenant) return 403;/' \
        -e 's/return 30; }$/return 60; }/' "handlers/$n.c"
done
git add -A
commit --no-edit
show --cc HEAD > "$out/merge-40-files.diff"
