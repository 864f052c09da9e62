#!/usr/bin/env bash
# The safetensors fixtures of testdata/kompress/ are what their generator
# writes, byte for byte.
# needs: cmd:python3
. "$(dirname "$0")/lib.sh"
fx=$(mktemp -d)
trap 'rm -rf "$fx"' EXIT
if "$PY" scripts/make-safetensors-fixtures.py "$fx" && diff -r "$fx" testdata/kompress > /dev/null; then
    echo "ok safetensors fixtures: scripts/make-safetensors-fixtures.py gives testdata/kompress/ byte for byte"
else
    echo "not ok safetensors fixtures: testdata/kompress/ differs from what scripts/make-safetensors-fixtures.py writes"
fi
