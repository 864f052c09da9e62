#!/usr/bin/env bash
# make install under another prefix than the build's, as the README says
# ("make && make install PREFIX=/opt/hr"): the installed hr-patch-auth must
# find the plugin installed with it and put it into a Hermes home, moved or
# not. The build is copied first, so that rebuilding for the new prefix
# leaves BUILD_DIR as it was.
#   scripts/install-test.sh BUILD_DIR
# Prints "ok install: NAME" / "not ok install: NAME: why" per test.
. "$(dirname "$0")/test-setup.sh" install "$@"

not_ok() { failed=1; echo "not ok install: $1: $(printf '%s' "$2" | tail -5 | tr '\n' '|')"; }

# The build's own flavour: sanitized or not, with the CUDA plugin or not.
flags=(B="$tmp/build")
grep -qa __asan_init "$B/hr-patch-auth" && flags+=(SANITIZE=1)
[ -f "$B/kompress-cuda.so" ] || flags+=(WITH_CUDA=no)
mkdir "$tmp/build" && cp -a "$B/." "$tmp/build/" && rm -rf "$tmp/build/test"

root=$tmp/root
name="make install PREFIX=/opt/hr DESTDIR=... from a built tree rebuilds what holds the prefix"
if out=$(make -s install "${flags[@]}" PREFIX=/opt/hr DESTDIR="$root" 2>&1) &&
    [ -x "$root/opt/hr/bin/hr-patch-auth" ] && [ -f "$root/opt/hr/share/hr/headroom-route/plugin.yaml" ] &&
    grep -q '^prefix=/opt/hr$' "$root/opt/hr/lib/pkgconfig/libhr.pc" &&
    "$root/opt/hr/bin/hr-patch-auth" --help | grep -q '/opt/hr/share/hr/headroom-route'; then
    ok "$name"
else
    not_ok "$name" "$out"
fi

# --apply with the installed program, nothing pointing it at the plugin
apply() { # label bin
    local home=$tmp/home-$1
    cp -r testdata/hermes-home "$home" && chmod 600 "$home/auth.json"
    local out
    if out=$(env -u HR_PLUGIN_SOURCE "$2" --apply --hermes-home "$home" 2>&1) &&
        cmp -s "$home/plugins/headroom-route/plugin.yaml" scripts/hermes-plugin/headroom-route/plugin.yaml &&
        cmp -s "$home/plugins/headroom-route/__init__.py" scripts/hermes-plugin/headroom-route/__init__.py; then
        return 0
    fi
    printf '%s' "$out"
    return 1
}
name="the installed hr-patch-auth --apply finds its plugin (BINDIR/../share/hr) and installs it"
if out=$(apply installed "$root/opt/hr/bin/hr-patch-auth"); then ok "$name"; else not_ok "$name" "$out"; fi

name="a moved installation finds its own plugin, relative to the program"
mkdir -p "$tmp/moved" && mv "$root/opt/hr" "$tmp/moved/hr"
if out=$(apply moved "$tmp/moved/hr/bin/hr-patch-auth"); then ok "$name"; else not_ok "$name" "$out"; fi

name="\$HR_PLUGIN_SOURCE and --plugin-source still win over the installed plugin"
home=$tmp/home-env
cp -r testdata/hermes-home "$home" && chmod 600 "$home/auth.json"
out=$(HR_PLUGIN_SOURCE=/nonexistent/env-plugin "$tmp/moved/hr/bin/hr-patch-auth" --apply --hermes-home "$home" 2>&1)
rc=$?
out2=$("$tmp/moved/hr/bin/hr-patch-auth" --apply --hermes-home "$home" --plugin-source /nonexistent/flag-plugin 2>&1)
rc2=$?
if [ $rc -ne 0 ] && [[ $out == *"/nonexistent/env-plugin/"* ]] && [ $rc2 -ne 0 ] &&
    [[ $out2 == *"/nonexistent/flag-plugin/"* ]]; then
    ok "$name"
else
    not_ok "$name" "exit $rc: $out / exit $rc2: $out2"
fi
exit $failed
