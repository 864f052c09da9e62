#!/usr/bin/env bash
# Cache mode on a Hermes-shaped session: nothing sent is rewritten, the bill goes down
# (scripts/cache-test.py).
# needs: cmd:python3 built:hr-compress
. "$(dirname "$0")/lib.sh"
exec timeout 300 "$PY" scripts/cache-test.py "$B"
