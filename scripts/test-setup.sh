# shellcheck shell=bash
# The start the shell test scripts share, sourced with their label and
# arguments: the top of the tree as the working folder, the build folder in
# $B (the first argument, build/release when none), a private folder in $tmp
# removed at exit, $failed, and ok NAME printing "ok LABEL: NAME".
#   . "$(dirname "$0")/test-setup.sh" LABEL "$@"
set -u
test_label=$1
cd "$(dirname "${BASH_SOURCE[0]}")/.."
B=${2:-build/release}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hr-$test_label-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok $test_label: $1"; }
