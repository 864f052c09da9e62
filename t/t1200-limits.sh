#!/usr/bin/env bash
# At the edges: a request of megabytes that is one word, a listen host that
# says loopback and resolves elsewhere (scripts/limits-test.py).
# needs: cmd:python3 built:hr-compress built:hr-proxy
. "$(dirname "$0")/lib.sh"
exec timeout 600 "$PY" scripts/limits-test.py "$B"
