#!/usr/bin/env bash
# The Kompress scorer in hr-compress and hr-proxy (scripts/kompress-test.py).
# needs: cmd:python3 built:hr-proxy
. "$(dirname "$0")/lib.sh"
exec timeout 600 "$PY" scripts/kompress-test.py "$B"
