#!/usr/bin/env bash
# The Kompress reference's tokenizer is Hugging Face's (tokenizers.js)
# (scripts/node/kompress-tokenizer-test.mjs).
# needs: cmd:node npm:@huggingface/tokenizers
. "$(dirname "$0")/lib.sh"
exec timeout 120 node scripts/node/kompress-tokenizer-test.mjs
