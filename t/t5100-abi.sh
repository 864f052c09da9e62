#!/usr/bin/env bash
# libhr.so exports exactly include/hr.h's HR_API functions, versioned, and
# links alone (scripts/abi-test.sh).
# needs: built:libhr.so
. "$(dirname "$0")/lib.sh"
exec timeout 120 scripts/abi-test.sh "$B"
