#!/usr/bin/env bash
# The headroom-route Hermes plugin, on the Hermes stand-in, through hr-proxy
# (scripts/plugin-test.py).
# needs: cmd:python3 built:hr-proxy
. "$(dirname "$0")/lib.sh"
exec timeout 300 "$PY" scripts/plugin-test.py "$B"
