#!/usr/bin/env bash
# make install under another prefix: the installed hr-patch-auth finds its
# plugin (scripts/install-test.sh).
# needs: built:hr-patch-auth
. "$(dirname "$0")/lib.sh"
exec timeout 300 scripts/install-test.sh "$B"
