#!/usr/bin/env bash
# hr-patch-auth on fixture Hermes homes, and the patched home end to end
# (scripts/patch-auth-test.py).
# needs: cmd:python3 built:hr-patch-auth built:hr-proxy
. "$(dirname "$0")/lib.sh"
exec timeout 300 "$PY" scripts/patch-auth-test.py "$B"
