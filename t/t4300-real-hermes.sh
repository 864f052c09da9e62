#!/usr/bin/env bash
# The plugin and hr-patch-auth against the real Hermes Agent source named by
# HR_HERMES_SRC; nothing is fetched, and without it the script prints one skip
# line (scripts/hermes-real-test.py).
# needs: cmd:python3 built:hr-patch-auth built:hr-proxy
. "$(dirname "$0")/lib.sh"
exec timeout 300 "$PY" scripts/hermes-real-test.py "$B" ${HR_HERMES_SRC:+--hermes-src "$HR_HERMES_SRC"}
