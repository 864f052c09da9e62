#!/usr/bin/env bash
# The bill: usage read from every answer, against a fake upstream that keeps a
# prompt cache (scripts/node/bill-test.mjs).
# needs: cmd:node npm:openai npm:@anthropic-ai/sdk built:hr-proxy
. "$(dirname "$0")/lib.sh"
exec timeout 300 node scripts/node/bill-test.mjs "$B"
