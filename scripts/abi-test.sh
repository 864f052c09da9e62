#!/usr/bin/env bash
# libhr.so's interface is include/hr.h: the shared library exports exactly the
# functions hr.h declares HR_API, under the version node of lib/libhr.map, and
# nothing else (no hr__ internals, no target_clones function or resolver). The
# version numbers in hr.h are those of the Makefile and configure.ac, and a
# program built with hr.h alone links every HR_API function from libhr.so.
# hr-patch-auth and hr-verify, which are written against hr.h alone, build
# and link against libhr.so and print what the programs of the build print.
#   scripts/abi-test.sh BUILD_DIR
# Prints "ok abi: NAME" / "not ok abi: NAME: why" per test.
. "$(dirname "$0")/test-setup.sh" abi "$@"

not_ok() { # name why: the first lines of why, on one line
    failed=1
    echo "not ok abi: $1: $(printf '%s\n' "$2" | head -12 | tr '\n' ' ')$(
        [ "$(printf '%s\n' "$2" | wc -l)" -le 12 ] || echo '...')"
}

# Every HR_API declaration starts its line with HR_API; the name is the one
# before the first parenthesis. The count guards against a declaration this
# pattern would miss.
sed -nE 's/^HR_API[^(]*[^a-z0-9_](hr_[a-z0-9_]+) *\(.*/\1/p' include/hr.h | sort > "$tmp/api"
n_api=$(wc -l < "$tmp/api")
n_decl=$(grep -c '^HR_API ' include/hr.h)
name="include/hr.h: each of the $n_decl HR_API declarations names one function"
if [ "$n_api" -eq "$n_decl" ] && [ "$n_api" -gt 0 ] && [ -z "$(uniq -d "$tmp/api")" ]; then ok "$name"
else not_ok "$name" "$n_api names read from $n_decl declarations"; fi

# The map's global names: the lines of the form "name;" between "global:"
# and "local:".
node=$(sed -nE 's/^([A-Za-z_][A-Za-z0-9_.]*) *\{.*/\1/p' lib/libhr.map)
awk '/^ *global:/ {on = 1; next} /^ *local:/ {on = 0} on && /^ *[a-z_0-9]+;/ {sub(/;.*/, ""); print $1}' \
    lib/libhr.map | sort > "$tmp/map"
name="lib/libhr.map lists exactly the HR_API functions of include/hr.h"
if cmp -s "$tmp/api" "$tmp/map"; then ok "$name"
else not_ok "$name" "$(diff "$tmp/api" "$tmp/map" | grep '^[<>]' | sed 's/^</only in hr.h:/; s/^>/only in the map:/')"; fi

so=$B/libhr.so
if [ ! -f "$so" ]; then
    not_ok "$so" "not built"
    exit 1
fi

# nm -D prints name@@NODE for a versioned definition, and the node itself as
# an absolute symbol.
nm -D --defined-only "$so" | awk -v node="$node" '!($2 == "A" && $3 == node) {print $3}' > "$tmp/dyn-versioned"
sed 's/@.*//' "$tmp/dyn-versioned" | sort > "$tmp/dyn"

name="$so exports every HR_API function of include/hr.h ($n_api)"
missing=$(comm -23 "$tmp/api" "$tmp/dyn")
if [ -z "$missing" ]; then ok "$name"; else not_ok "$name" "not exported: $missing"; fi

name="$so exports nothing else: no hr__ internal, no target_clones function or resolver"
extra=$(comm -13 "$tmp/api" "$tmp/dyn")
if [ -z "$extra" ]; then ok "$name"; else not_ok "$name" "also exported: $extra"; fi

sover=$(sed -nE 's/^SOVERSION *:?= *([0-9]+).*/\1/p' Makefile)
soname=$(readelf -d "$so" | sed -nE 's/.*\(SONAME\).*\[(.*)\]/\1/p')
unversioned=$(grep -v "@@$node\$" "$tmp/dyn-versioned")
name="$so is libhr.so.$sover and each export has the version node $node"
if [ "$soname" = "libhr.so.$sover" ] && [ "$node" = "HR_$sover" ] && [ -z "$unversioned" ]; then ok "$name"
else not_ok "$name" "soname '$soname', node '$node', without it: $unversioned"; fi

# hr.h's HR_VERSION_* against the Makefile's VERSION, which names libhr.so.X.Y.Z
# and hr_version(), and against configure.ac's AC_INIT
major=$(sed -nE 's/^#define HR_VERSION_MAJOR ([0-9]+)$/\1/p' include/hr.h)
minor=$(sed -nE 's/^#define HR_VERSION_MINOR ([0-9]+)$/\1/p' include/hr.h)
patch=$(sed -nE 's/^#define HR_VERSION_PATCH ([0-9]+)$/\1/p' include/hr.h)
header=$major.$minor.$patch
make_version=$(sed -nE 's/^VERSION *:?= *([0-9.]+).*/\1/p' Makefile)
ac_version=$(sed -nE 's/^AC_INIT\(\[hr\], *\[([0-9.]+)\]\).*/\1/p' configure.ac)
name="include/hr.h's HR_VERSION_MAJOR.MINOR.PATCH ($header) is the Makefile's VERSION and configure.ac's"
if [ -n "$major" ] && [ -n "$minor" ] && [ -n "$patch" ] && [ "$header" = "$make_version" ] &&
    [ "$header" = "$ac_version" ]; then
    ok "$name"
else
    not_ok "$name" "hr.h '$header', Makefile '$make_version', configure.ac '$ac_version'"
fi

# A program as one outside the tree writes it: hr.h and -lhr, nothing of
# lib/ besides. It takes the address of every HR_API function, so each must
# resolve in libhr.so, and prints hr_version() beside the header's numbers.
{
    echo '#include <stdio.h>'
    echo '#include <string.h>'
    echo '#include "hr.h"'
    echo 'typedef void (*fn)(void);'
    echo 'static const fn api[] = {'
    sed 's/.*/    (fn)&,/' "$tmp/api"
    echo '};'
    echo 'int main(void)'
    echo '{'
    echo '    char header[64];'
    echo '    snprintf(header, sizeof header, "%d.%d.%d", HR_VERSION_MAJOR, HR_VERSION_MINOR, HR_VERSION_PATCH);'
    echo '    for (size_t i = 0; i < sizeof api / sizeof *api; i++)'
    echo '        if (!api[i]) return 2;'
    echo '    printf("%s %s\n", header, hr_version());'
    echo '    return strcmp(header, hr_version()) != 0;'
    echo '}'
} > "$tmp/probe.c"
# a sanitized libhr.so needs its runtime in the program, as the build gives it
flags=()
nm -D "$so" | grep -q ' __asan_init$' && flags+=(-fsanitize=address,undefined)
name="a program built with include/hr.h and -lhr alone links all $n_api functions; hr_version() is $header"
if out=$(${CC:-cc} -std=c11 -Wall -Wextra -Werror "${flags[@]}" -Iinclude -o "$tmp/probe" "$tmp/probe.c" \
        -L"$B" -lhr 2>&1) &&
    out=$(LD_LIBRARY_PATH="$B${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/probe" 2>&1); then
    ok "$name"
else
    not_ok "$name" "$out"
fi

# hr-patch-auth and hr-verify as a third party builds them: their own files
# and cmd/common's, include/hr.h, -lhr and their system libraries; nothing of
# lib/. Each then prints, on a copy of a fixture home, byte for byte what the
# program of the build (linked with libhr.a) prints, and exits as it does.
home_src=testdata/hermes-homes/codex
plugin=$PWD/scripts/hermes-plugin/headroom-route
same_as_built() { # program args...: 0 when the shared build's output and status are the built one's
    local p=$1 a b
    shift
    rm -rf "$tmp/home" "$tmp/headroom" && cp -r "$home_src" "$tmp/home" || return 1
    a=$(HERMES_HOME="$tmp/home" HEADROOM_HOME="$tmp/headroom" HR_PLUGIN_SOURCE="$plugin" "$B/$p" "$@" 2>&1; echo "exit $?")
    rm -rf "$tmp/home" "$tmp/headroom" && cp -r "$home_src" "$tmp/home" || return 1
    b=$(HERMES_HOME="$tmp/home" HEADROOM_HOME="$tmp/headroom" HR_PLUGIN_SOURCE="$plugin" \
        LD_LIBRARY_PATH="$B${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/$p" "$@" 2>&1; echo "exit $?")
    [ "$a" = "$b" ] && return 0
    printf '%s\n' "with libhr.a: $a" "with libhr.so: $b"
    return 1
}
for p in hr-patch-auth hr-verify; do
    libs=()
    [ "$p" = hr-verify ] && libs=(-lcurl)
    name="$p builds with -Iinclude -Icmd/common -Icmd/$p and links against $so alone"
    if ! out=$(${CC:-cc} -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror "${flags[@]}" \
            -Iinclude -Icmd/common -Icmd/$p -o "$tmp/$p" cmd/$p/*.c cmd/common/*.c -L"$B" -lhr "${libs[@]}" 2>&1); then
        not_ok "$name" "$out"
        continue
    fi
    if ldd "$tmp/$p" | grep -q 'libhr\.so'; then ok "$name"; else not_ok "$name" "$(ldd "$tmp/$p")"; fi
    case $p in
    hr-patch-auth) runs=("--version" "--status" "--status --json" "--dry-run" "--rollback") ;;
    hr-verify) runs=("--version" "--check base_url --no-chat" "--check logs,base_url --no-chat --json") ;;
    esac
    for args in "${runs[@]}"; do
        name="$p $args, linked against $so, prints what $B/$p prints on $home_src"
        # shellcheck disable=SC2086 # the arguments are words
        if out=$(same_as_built "$p" $args); then ok "$name"; else not_ok "$name" "$out"; fi
    done
done
# and a real change: --apply through libhr.so routes the home, as --status says
name="hr-patch-auth --apply, linked against $so, routes $home_src through the proxy (--status exits 0)"
rm -rf "$tmp/home" && cp -r "$home_src" "$tmp/home"
if [ -x "$tmp/hr-patch-auth" ] &&
    out=$(export HR_PLUGIN_SOURCE="$plugin" LD_LIBRARY_PATH="$B${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        "$tmp/hr-patch-auth" --apply --hermes-home "$tmp/home" 2>&1 &&
        "$tmp/hr-patch-auth" --status --hermes-home "$tmp/home" 2>&1); then
    ok "$name"
else
    not_ok "$name" "$out"
fi
exit $failed
