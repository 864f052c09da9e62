#!/usr/bin/env bash
# The Hermes stand-in itself, against what Hermes does, and Hermes's own
# modules too when HR_HERMES_SRC names a Hermes source tree; otherwise those
# lines are skips (scripts/standin-test.py).
# needs: cmd:python3
. "$(dirname "$0")/lib.sh"
exec timeout 300 "$PY" scripts/standin-test.py
