#!/usr/bin/env bash
# Token-id parity of hr-count with tiktoken itself (scripts/node/parity.mjs);
# scripts/run-tests --quick leaves it out.
# needs: built:hr-count
. "$(dirname "$0")/lib.sh"
if [ -n "${HR_TEST_QUICK:-}" ]; then echo "skip parity: --quick # env"; exit 0; fi
needs parity cmd:node npm:tiktoken
exec node scripts/node/parity.mjs "$B/hr-count"
