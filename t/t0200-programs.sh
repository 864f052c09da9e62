#!/usr/bin/env bash
# The data-driven program tests: testdata/<program>/*.test, each run against
# $B/<program>. A test file has a "title:" line, an "args:" line (shell words;
# $TESTDATA is the test's folder), an optional "env:" line (NAME=VALUE words
# exported for the run), and sections "--- stdin", "--- stdout" (or
# "--- stdout-any": not compared), "--- stderr" (each line of it must appear
# in stderr), "--- exit" (status, default 0).
. "$(dirname "$0")/lib.sh"

section() { # file name
    awk -v want="--- $2" '/^--- /{on = ($0 == want); next} on' "$1"
}
run_case() { # file program
    local file=$1 prog=$2
    local title args env expect_exit tmp rc ok=1 line
    title=$(sed -n 's/^title: //p' "$file")
    args=$(sed -n 's/^args: //p' "$file")
    env=$(sed -n 's/^env: //p' "$file")
    expect_exit=$(section "$file" exit)
    expect_exit=${expect_exit:-0}
    tmp=$(mktemp -d)
    section "$file" stdin > "$tmp/stdin"
    section "$file" stdout > "$tmp/want"
    section "$file" stderr > "$tmp/want-err"
    (export TESTDATA HEADROOM_HOME=/nonexistent/hr-tests; TESTDATA=$(dirname "$file"); [ -z "$env" ] || eval "export $env"; eval "set -- $args"; \
        timeout 60 "$B/$prog" "$@" < "$tmp/stdin" > "$tmp/got" 2> "$tmp/got-err"; echo $? > "$tmp/rc")
    rc=$(cat "$tmp/rc")
    if [ "$rc" != "$expect_exit" ]; then ok=0; echo "  exit status $rc, expected $expect_exit"; fi
    if ! grep -q '^--- stdout-any' "$file" && ! cmp -s "$tmp/want" "$tmp/got"; then
        ok=0; echo "  stdout differs (- expected, + got):"; diff -u "$tmp/want" "$tmp/got" | tail -n +3 | head -20
    fi
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        if ! grep -qF -- "$line" "$tmp/got-err"; then ok=0; echo "  stderr lacks: $line"; echo "  stderr was: $(head -3 "$tmp/got-err")"; fi
    done < "$tmp/want-err"
    rm -rf "$tmp"
    if [ $ok = 1 ]; then echo "ok $prog $(basename "$file" .test): $title"; else echo "not ok $prog $(basename "$file" .test): $title"; fi
}
for dir in testdata/*/; do
    prog=$(basename "$dir")
    set -- "$dir"*.test
    [ -f "$1" ] || continue
    why=$(hr_missing "built:$prog")
    if [ -n "$why" ]; then echo "skip $prog: $why"; continue; fi
    for f; do run_case "$f" "$prog"; done
done
