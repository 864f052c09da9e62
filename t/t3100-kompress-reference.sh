#!/usr/bin/env bash
# The Kompress reference: the committed models and outputs of
# testdata/kompress-ref/ are what the PyTorch script writes (models byte for
# byte, scores within 1e-6).
# needs: cmd:python3 py:torch
. "$(dirname "$0")/lib.sh"
kr=$(mktemp -d)
trap 'rm -rf "$kr"' EXIT
if "$PY" scripts/kompress-reference.py "$kr" && "$PY" - "$kr" testdata/kompress-ref <<'PYEOF'
import json, os, sys, filecmp
new, old = sys.argv[1], sys.argv[2]
for m in sorted(os.listdir(old)):
    for f in ("config.json", "model.safetensors", "tokenizer.json"):
        assert filecmp.cmp(os.path.join(new, m, f), os.path.join(old, m, f), shallow=False), (m, f)
    a = json.load(open(os.path.join(new, m, "expected.json")))
    b = json.load(open(os.path.join(old, m, "expected.json")))
    def walk(x, y):
        if isinstance(x, float) or isinstance(y, float):
            assert abs(x - y) <= 1e-6 * max(1.0, abs(y)), (x, y)
        elif isinstance(x, (list, dict)):
            assert type(x) == type(y) and len(x) == len(y)
            for k in (x if isinstance(x, dict) else range(len(x))):
                walk(x[k], y[k])
        else:
            assert x == y, (x, y)
    walk(a, b)
PYEOF
then
    echo "ok kompress reference: scripts/kompress-reference.py gives testdata/kompress-ref/ (models byte for byte, outputs within 1e-6)"
else
    echo "not ok kompress reference: testdata/kompress-ref/ differs from what scripts/kompress-reference.py writes"
fi
