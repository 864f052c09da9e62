#!/usr/bin/env bash
# hr-verify: the four checks against a real proxy, each failure mode made for
# real (scripts/verify-test.py).
# needs: cmd:python3 built:hr-verify built:hr-proxy built:hr-patch-auth
. "$(dirname "$0")/lib.sh"
exec timeout 300 "$PY" scripts/verify-test.py "$B"
