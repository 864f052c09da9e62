#!/usr/bin/env bash
# hr-proxy against a fake upstream, driven by the official SDKs
# (scripts/node/proxy-test.mjs).
# needs: cmd:node npm:openai npm:@anthropic-ai/sdk built:hr-proxy
. "$(dirname "$0")/lib.sh"
exec timeout 300 node scripts/node/proxy-test.mjs "$B"
