# shellcheck shell=bash
# What the suites in t/ share with each other and with scripts/run-tests: the
# top of the tree as the working folder, the build folder in $B, the Python
# that has Debian's modules in $PY, and needs, which turns a missing
# dependency into a skip line that says what installs it.
#   . "$(dirname "$0")/lib.sh"
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
B=${HR_BUILD:-build/release}
# /usr/bin/python3 first: Debian's python3-torch and friends are installed for
# it, not for a python3 that a virtual environment puts first on PATH
PY=$(command -v /usr/bin/python3 || command -v python3 || true)

# Prints what is missing of one need, nothing when it is here:
#   cmd:NAME     a command on PATH (cmd:python3 means $PY)
#   py:MODULE    a module that $PY imports
#   npm:PACKAGE  a package in scripts/node/node_modules
#   built:PATH   $B/PATH, which make builds (all, unit-tests)
#   fuzz:NAME    build/fuzz/fuzz_NAME, which make fuzz builds
hr_missing() { # KIND:WHAT
    local what=${1#*:} deps="(scripts/install-deps installs it)"
    case $1 in
        cmd:python3) [ -n "$PY" ] || echo "needs python3 $deps" ;;
        cmd:*) command -v "$what" > /dev/null 2>&1 || echo "needs $what $deps" ;;
        py:*) { [ -n "$PY" ] && "$PY" -c "import $what" 2> /dev/null; } || echo "needs the python3 module $what $deps" ;;
        npm:*) [ -d "scripts/node/node_modules/$what" ] || echo "needs the npm package $what $deps" ;;
        built:*) [ -e "$B/$what" ] || echo "needs $B/$what (make builds it)" ;;
        fuzz:*) [ -x "build/fuzz/fuzz_$what" ] || echo "needs build/fuzz/fuzz_$what (make fuzz builds it)" ;;
        *) echo "needs $1, which t/lib.sh cannot check" ;;
    esac
}

# For a shell suite: prints "skip LABEL: needs ..." and exits 0 at the first
# need that is missing.
needs() { # LABEL KIND:WHAT...
    local label=$1 need why
    shift
    for need; do
        why=$(hr_missing "$need")
        [ -z "$why" ] || { echo "skip $label: $why"; exit 0; }
    done
}
