#!/usr/bin/env bash
# Real tool output (testdata/tool-output): --lossless decodes back exactly, the
# default keeps every fact and reorders nothing, both idempotent; savings per
# fixture and kind (scripts/lossless-test.py).
# needs: cmd:python3 built:hr-compress
. "$(dirname "$0")/lib.sh"
exec timeout 120 "$PY" scripts/lossless-test.py "$B"
